"""Registering AI systems: through the service, audited, validated."""

import pytest
from django.core.exceptions import ValidationError

from governance.accounts.models import Role
from governance.audit.models import AuditEvent
from governance.core.actor import Actor
from governance.inventory.models import AISystem
from governance.inventory.services import ai_system_create, ai_system_update

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(make_user):
    return make_user(Role.REQUESTER, username="owner")


def create(owner, **overrides):
    spec = {"slug": "doc-ocr", "name": "Document OCR", "owner": owner, "risk_tier": "medium"}
    return ai_system_create(actor=Actor.for_user(owner), **{**spec, **overrides})


def test_create_records_who_and_what(owner):
    system = create(owner)
    event = AuditEvent.objects.get(action="inventory.system.created")
    assert (event.target_type, event.target_id) == ("inventory.aisystem", system.slug)
    assert event.after["risk_tier"] == "medium"
    assert event.actor_name == "owner"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"slug": "Bad Slug"}, "slug"),
        ({"risk_tier": "extreme"}, "risk_tier"),
        ({"name": ""}, "name"),
    ],
)
def test_invalid_systems_are_refused_and_leave_nothing(owner, overrides, field):
    with pytest.raises(ValidationError) as excinfo:
        create(owner, **overrides)
    assert field in excinfo.value.message_dict
    assert not AISystem.objects.exists()
    assert not AuditEvent.objects.exists()


def test_update_records_before_after_and_reason(owner, make_user):
    system = create(owner)
    admin = make_user(Role.ADMIN)
    ai_system_update(
        actor=Actor.for_user(admin), system=system, risk_tier="high", reason="handles credit data"
    )
    event = AuditEvent.objects.get(action="inventory.system.updated")
    assert (event.before["risk_tier"], event.after["risk_tier"]) == ("medium", "high")
    assert event.reason == "handles credit data"


def test_update_without_change_writes_no_event(owner):
    system = create(owner)
    ai_system_update(actor=Actor.for_user(owner), system=system, risk_tier="medium")
    assert not AuditEvent.objects.filter(action="inventory.system.updated").exists()


def test_web_form_registers_a_system(client_for, owner):
    client = client_for(Role.REQUESTER)
    response = client.post(
        "/systems/new",
        {
            "name": "Doc OCR",
            "slug": "doc-ocr",
            "owner": owner.pk,
            "risk_tier": "low",
            "lifecycle_stage": "design",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/systems/doc-ocr/"
    assert AISystem.objects.get().name == "Doc OCR"


def test_system_list_query_count_does_not_grow_with_systems(
    client_for, owner, django_assert_max_num_queries
):
    client = client_for(Role.VIEWER)
    for i in range(12):
        create(owner, slug=f"system-{i}", name=f"System {i}")
    with django_assert_max_num_queries(6):
        assert client.get("/api/v1/systems/").status_code == 200
    # The page adds coverage (four queries, whatever the number of systems) and the owner filter.
    with django_assert_max_num_queries(10):
        assert client.get("/systems/").status_code == 200
