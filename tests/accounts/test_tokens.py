"""Machine tokens: hashed, shown once, scoped, revocable, and named in the audit events."""

import hashlib
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from governance.accounts.models import ApiToken, Role
from governance.accounts.permissions import Perm, has_perm
from governance.accounts.services import api_token_create, api_token_revoke
from governance.audit.models import AuditEvent
from governance.core.actor import Actor
from governance.core.errors import Conflict

pytestmark = pytest.mark.django_db

SYSTEM = {"slug": "triage-bot", "name": "Triage bot", "owner": "root-admin", "risk_tier": "low"}


def bearer(secret: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def test_only_the_hash_of_the_secret_is_stored(make_token):
    token, secret = make_token([Perm.INVENTORY_VIEW])
    assert secret.startswith("gov_") and len(secret) > 40
    stored = ApiToken.objects.get(pk=token.pk)
    assert stored.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in {str(v) for v in ApiToken.objects.values().get(pk=token.pk).values()}
    event = AuditEvent.objects.get(action="accounts.token.created")
    assert secret not in str(event.after) and event.actor_name == "root-admin"


def test_token_authenticates_and_is_limited_to_its_scopes(api_client, make_token):
    _, secret = make_token([Perm.INVENTORY_VIEW])
    assert api_client.get("/api/v1/systems/", **bearer(secret)).status_code == 200
    denied = api_client.get("/api/v1/audit/events", **bearer(secret))
    assert denied.status_code == 403
    assert denied["Content-Type"] == "application/problem+json"


def test_change_made_with_a_token_names_the_token_in_the_audit_event(api_client, make_token):
    token, secret = make_token([Perm.INVENTORY_MANAGE], name="ci-pipeline")
    response = api_client.post(
        "/api/v1/systems/", SYSTEM, format="json", HTTP_USER_AGENT="ci/1.0", **bearer(secret)
    )
    assert response.status_code == 201, response.json()
    event = AuditEvent.objects.get(action="inventory.system.created")
    assert (event.actor_type, event.actor_name, event.actor_id) == (
        "token",
        "ci-pipeline",
        str(token.public_id),
    )
    assert event.user_agent == "ci/1.0"
    assert event.ip == "127.0.0.1"
    assert event.request_id == response["X-Request-ID"]


@pytest.mark.parametrize(
    "header",
    ["Bearer gov_not-a-real-token", "Bearer not-our-format", "Bearer two words"],
)
def test_bad_tokens_get_401_with_a_challenge(api_client, header):
    response = api_client.get("/api/v1/systems/", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["status"] == 401


def test_revoked_token_is_refused_and_revocation_is_audited(api_client, make_token, admin_user):
    token, secret = make_token([Perm.INVENTORY_VIEW])
    api_token_revoke(actor=Actor.for_user(admin_user), token=token, reason="laptop stolen")
    assert api_client.get("/api/v1/systems/", **bearer(secret)).status_code == 401
    event = AuditEvent.objects.get(action="accounts.token.revoked")
    assert event.reason == "laptop stolen"
    assert event.before["revoked_at"] is None and event.after["revoked_at"] is not None


def test_revoking_needs_a_reason_and_happens_once(make_token, admin_user):
    token, _ = make_token([Perm.INVENTORY_VIEW])
    actor = Actor.for_user(admin_user)
    with pytest.raises(ValidationError):
        api_token_revoke(actor=actor, token=token, reason="  ")
    assert not ApiToken.objects.get(pk=token.pk).is_revoked
    api_token_revoke(actor=actor, token=token, reason="rotation")
    with pytest.raises(Conflict):
        api_token_revoke(actor=actor, token=token, reason="again")
    assert AuditEvent.objects.filter(action="accounts.token.revoked").count() == 1


def test_expired_token_is_refused(api_client, make_token):
    token, secret = make_token([Perm.INVENTORY_VIEW])
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert api_client.get("/api/v1/systems/", **bearer(secret)).status_code == 401


@pytest.mark.parametrize(
    ("scopes", "field"),
    [([], "scopes"), (["tokens.manage"], "scopes"), (["no.such.scope"], "scopes")],
)
def test_token_scopes_are_validated_and_nothing_is_created(admin_user, scopes, field):
    with pytest.raises(ValidationError) as excinfo:
        api_token_create(actor=Actor.for_user(admin_user), name="bad", scopes=scopes)
    assert field in excinfo.value.message_dict
    assert not ApiToken.objects.exists()
    assert not AuditEvent.objects.filter(action="accounts.token.created").exists()


def test_tokens_cannot_mint_tokens(api_client, make_token):
    """Managing tokens is for people: no scope grants it and no API creates tokens."""
    _, secret = make_token([Perm.INVENTORY_MANAGE])
    response = api_client.post("/settings/tokens/", {"name": "x"}, **bearer(secret))
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert ApiToken.objects.count() == 1


def test_whoami_reports_token_scopes(api_client, make_token):
    _, secret = make_token([Perm.ACCOUNT_VIEW, Perm.INVENTORY_VIEW], name="svc")
    body = api_client.get("/api/v1/me", **bearer(secret)).json()
    assert body == {
        "kind": "token",
        "name": "svc",
        "role": None,
        "permissions": sorted([Perm.ACCOUNT_VIEW, Perm.INVENTORY_VIEW]),
    }


def test_deactivated_admin_loses_every_permission(make_user):
    user = make_user(Role.ADMIN)
    assert has_perm(user, Perm.AUDIT_VIEW)
    user.is_active = False
    assert not has_perm(user, Perm.AUDIT_VIEW)


def test_token_page_shows_the_secret_once_and_never_caches_it(client_for):
    admin = client_for(Role.ADMIN)
    response = admin.post("/settings/tokens/", {"name": "k8s-admission", "scopes": ["audit.view"]})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    token = ApiToken.objects.get(name="k8s-admission")
    html = response.content.decode()
    assert token.prefix in html and "gov_" in html
    listing = admin.get("/settings/tokens/").content.decode()
    assert "k8s-admission" in listing
    assert html.split('id="token-secret">')[1].split("<")[0] not in listing


def test_token_form_without_scopes_creates_nothing(client_for):
    response = client_for(Role.ADMIN).post("/settings/tokens/", {"name": "no-scopes"})
    assert response.status_code == 400
    assert not ApiToken.objects.exists()
