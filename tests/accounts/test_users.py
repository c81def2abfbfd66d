"""People: created through the service (audited), roles changed with a reason."""

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError

from governance.accounts.models import Role, User
from governance.accounts.services import user_set_role
from governance.audit.models import AuditEvent
from governance.core.actor import Actor

pytestmark = pytest.mark.django_db


def test_create_user_command_goes_through_the_service(monkeypatch):
    monkeypatch.setenv("NEW_PASSWORD", "a-long-enough-passphrase")
    call_command("create_user", "dana", "--role", "approver", "--password-env", "NEW_PASSWORD")
    user = User.objects.get(username="dana")
    assert user.role == Role.APPROVER
    assert user.check_password("a-long-enough-passphrase")
    event = AuditEvent.objects.get(action="accounts.user.created")
    assert (event.actor_name, event.target_id, event.after["role"]) == (
        "create_user",
        "dana",
        "approver",
    )


def test_create_user_refuses_a_weak_password(monkeypatch):
    monkeypatch.setenv("NEW_PASSWORD", "123")
    with pytest.raises(CommandError, match="password"):
        call_command("create_user", "dana", "--role", "viewer", "--password-env", "NEW_PASSWORD")
    assert not User.objects.exists()


def test_role_change_needs_a_reason_and_is_audited(make_user, admin_user):
    user = make_user(Role.VIEWER)
    with pytest.raises(ValidationError):
        user_set_role(actor=Actor.for_user(admin_user), user=user, role=Role.APPROVER, reason="")
    user.refresh_from_db()
    assert user.role == Role.VIEWER
    user_set_role(
        actor=Actor.for_user(admin_user), user=user, role=Role.APPROVER, reason="joined risk"
    )
    event = AuditEvent.objects.get(action="accounts.user.role_changed")
    assert (event.before["role"], event.after["role"], event.reason) == (
        "viewer",
        "approver",
        "joined risk",
    )


def test_users_page_changes_a_role_and_refuses_self_change(client_for, make_user):
    admin = make_user(Role.ADMIN, username="boss")
    target = make_user(Role.VIEWER, username="vic")
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_login(admin)
    response = client.post("/settings/users/vic/role", {"role": "auditor", "reason": "audit"})
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.role == Role.AUDITOR
    client.post("/settings/users/boss/role", {"role": "viewer", "reason": "oops"})
    admin.refresh_from_db()
    assert admin.role == Role.ADMIN
    client.post("/settings/users/vic/role", {"role": "admin", "reason": ""})
    target.refresh_from_db()
    assert target.role == Role.AUDITOR
    assert AuditEvent.objects.filter(action="accounts.user.role_changed").count() == 1


def test_failed_and_successful_sign_ins_are_audited(client, make_user):
    make_user(Role.VIEWER, username="vera")
    client.post("/login/", {"username": "vera", "password": "wrong"})
    client.post("/login/", {"username": "vera", "password": "pw-for-tests-only"})
    actions = list(AuditEvent.objects.order_by("sequence").values_list("action", "target_id"))
    assert actions == [("accounts.login.failed", "vera"), ("accounts.login.succeeded", "vera")]
