"""The Integrations page: admins configure endpoints and mappings; secrets are never shown
back nor audited; bad input changes nothing."""

import pytest
from django.urls import reverse

from governance.accounts.models import Role
from governance.audit.models import AuditEvent
from governance.core.actor import Actor
from governance.integrations.models import AliasMapping, Integration, ModelMapping
from governance.integrations.secrets import integration_secret
from governance.inventory.services import ai_system_create

pytestmark = pytest.mark.django_db
SECRET = "a-very-secret-webhook-key-42"


@pytest.fixture
def admin(client, make_user):
    client.force_login(make_user(Role.ADMIN))
    return client


def create(admin, **overrides):
    data = {
        "slug": "team",
        "kind": "mlflow",
        "name": "Team MLflow",
        "endpoint": "https://mlflow.example.com",
        "secret": SECRET,
        **overrides,
    }
    return admin.post(reverse("integrations:list"), data)


def test_admin_adds_an_integration_and_the_secret_is_sealed(admin):
    response = create(admin)
    assert response.status_code == 302
    integration = Integration.objects.get(slug="team")
    assert SECRET not in integration.secret_sealed
    assert integration_secret(integration) == SECRET
    page = admin.get(reverse("integrations:detail", args=["team"]))
    assert page.status_code == 200
    assert SECRET.encode() not in page.content
    assert b"/webhooks/mlflow/team" in page.content
    event = AuditEvent.objects.get(action="integrations.integration.created")
    assert SECRET not in str(event.after) and event.after["secret"] == "stored (sealed)"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"secret": ""}, "secret"),
        ({"secret": "short"}, "secret"),
        ({"endpoint": "http://169.254.169.254/latest"}, "endpoint"),
        ({"endpoint": "http://127.0.0.1:5000"}, "endpoint"),
        ({"secret": "", "secret_env": "lower-case"}, "secret_env"),
    ],
)
def test_bad_input_is_shown_and_changes_nothing(admin, settings, overrides, field):
    settings.OUTBOUND_ALLOWED_NETWORKS = []  # production's default: nothing internal
    response = create(admin, **overrides)
    assert response.status_code == 400
    assert response.context["form"].errors
    assert not Integration.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="integrations.").exists()


def test_mappings_are_added_and_removed_with_audit(admin, make_user):
    owner = make_user(Role.REQUESTER)
    ai_system_create(
        actor=Actor.system("t"), slug="churn", name="Churn", owner=owner, risk_tier="low"
    )
    create(admin)
    url = reverse("integrations:detail", args=["team"])
    assert (
        admin.post(
            url, {"action": "map-model", "registry_model": "churn", "system": "churn"}
        ).status_code
        == 302
    )
    assert (
        admin.post(
            url, {"action": "map-alias", "alias": "champion", "environment": "production"}
        ).status_code
        == 302
    )
    duplicate = admin.post(
        url, {"action": "map-alias", "alias": "champion", "environment": "staging"}
    )
    assert duplicate.status_code == 400
    assert AliasMapping.objects.get().environment == "production"
    mapping = ModelMapping.objects.get()
    assert admin.post(url, {"action": "unmap-model", "id": mapping.pk}).status_code == 302
    assert not ModelMapping.objects.exists()
    actions = list(
        AuditEvent.objects.filter(action__startswith="integrations.")
        .order_by("sequence")
        .values_list("action", flat=True)
    )
    assert actions == [
        "integrations.integration.created",
        "integrations.model_mapping.added",
        "integrations.alias_mapping.added",
        "integrations.model_mapping.removed",
    ]


def test_rotating_the_secret_needs_a_reason(admin):
    create(admin)
    url = reverse("integrations:detail", args=["team"])
    refused = admin.post(
        url, {"action": "rotate-secret", "secret": "new-secret-0123456789", "reason": ""}
    )
    assert refused.status_code == 400
    assert integration_secret(Integration.objects.get()) == SECRET
    done = admin.post(
        url,
        {
            "action": "rotate-secret",
            "secret": "new-secret-0123456789",
            "reason": "leaked in CI log",
        },
    )
    assert done.status_code == 302
    assert integration_secret(Integration.objects.get()) == "new-secret-0123456789"
    event = AuditEvent.objects.get(action="integrations.integration.secret_rotated")
    assert "new-secret" not in str(event.after) and event.reason == "leaked in CI log"


@pytest.mark.parametrize("role", [Role.VIEWER, Role.REQUESTER, Role.APPROVER, Role.AUDITOR])
def test_only_admins_see_the_page(client, make_user, role):
    client.force_login(make_user(role))
    assert client.get(reverse("integrations:list")).status_code == 403
