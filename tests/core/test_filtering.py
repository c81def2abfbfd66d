"""List filters are strict (#11 item 8): a value a filter cannot take is a 400 naming it."""

import pytest

from governance.accounts.models import Role
from governance.core.actor import Actor
from governance.inventory.models import AISystem
from governance.inventory.services import ai_system_archive, ai_system_create

pytestmark = pytest.mark.django_db

BAD_VALUES = [
    ("/api/v1/systems/", "risk_tier", "extreme"),
    ("/api/v1/systems/", "lifecycle_stage", "42"),
    ("/api/v1/systems/", "archived", "yes please"),
    ("/api/v1/policy/decisions", "environment", "prod"),
    ("/api/v1/policy/decisions", "endpoint", "ftp"),
    ("/api/v1/policy/decisions", "allow", "maybe"),
    ("/api/v1/policy/decisions", "policy_version", "1.5"),
    ("/api/v1/policy/decisions", "policy_version", "two"),
    ("/api/v1/policy/decisions", "disagreements", "1e3"),
    ("/api/v1/releases/", "state", "shipped"),
    ("/api/v1/releases/", "environment", "moon"),
    ("/api/v1/releases/", "mine", "sure"),
    ("/api/v1/releases/", "waiting_for_me", "TRUE!"),
    ("/api/v1/incidents/", "status", "on-fire"),
    ("/api/v1/webhooks/deliveries", "status", "lost"),
    ("/api/v1/webhooks/deliveries", "event", "nothing.happened"),
    ("/api/v1/audit/events", "actor_type", "robot"),
    ("/api/v1/audit/events", "since", "yesterday"),
    # An empty value is not one of the enum, a number or a date (text filters take it).
    ("/api/v1/systems/", "risk_tier", ""),
    ("/api/v1/policy/decisions", "allow", ""),
    ("/api/v1/audit/events", "since", ""),
    ("/api/v1/webhooks/deliveries", "event", ""),
    ("/api/v1/systems/", "page", "\u00b2"),
    ("/api/v1/systems/", "page", "0"),
    ("/api/v1/systems/", "page_size", "-1"),
    ("/api/v1/systems/", "page_size", "500"),
]


@pytest.fixture
def admin(client_for):
    return client_for(Role.ADMIN)


@pytest.mark.parametrize(("url", "name", "value"), BAD_VALUES)
def test_an_invalid_filter_value_is_a_400_naming_the_parameter(admin, url, name, value):
    response = admin.get(url, {name: value})
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert [e["pointer"] for e in response.json()["errors"]] == [f"#/{name}"]


def test_valid_filter_values_still_filter(admin, make_user):
    owner = make_user(Role.REQUESTER, username="owner")
    actor = Actor.system("tests")
    for slug, tier in (("a", "high"), ("b", "low"), ("c", "high")):
        ai_system_create(actor=actor, slug=slug, name=slug.upper(), owner=owner, risk_tier=tier)
    ai_system_archive(actor=actor, system=AISystem.objects.get(slug="c"), reason="retired")

    def slugs(**params):
        response = admin.get("/api/v1/systems/", params)
        assert response.status_code == 200
        return sorted(s["slug"] for s in response.json()["results"])

    assert slugs() == ["a", "b"]
    assert slugs(risk_tier="high") == ["a"]
    assert slugs(risk_tier="high", archived="true") == ["a", "c"]
    assert slugs(archived="false") == ["a", "b"]
    assert slugs(owner="nobody") == []
    assert slugs(owner="") == ["a", "b"]
    assert slugs(page_size="1", page="2") == ["b"]
    assert admin.get("/api/v1/systems/", {"page": "9"}).status_code == 404


def test_times_with_any_offset_and_nul_bytes_are_answered_not_crashed(client_for):
    """make fuzz: an offset PostgreSQL refuses (+22:29) and a NUL in a parameter were 500s."""
    from governance.accounts.models import Role

    auditor = client_for(Role.AUDITOR)
    far = auditor.get("/api/v1/audit/events", {"since": "0708-06-08T20:17:30.3+22:29"})
    assert far.status_code == 200
    nul = auditor.get("/api/v1/audit/events?action=a%00b")
    assert nul.status_code == 400 and nul["Content-Type"] == "application/problem+json"
