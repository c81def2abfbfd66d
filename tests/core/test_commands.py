"""Management commands a newcomer meets: create_token, create_user without a terminal,
seed_demo saying what it did, export_audit audited like the API export."""

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from rest_framework.test import APIClient

from governance.accounts.models import ApiToken, Role, User
from governance.audit.models import AuditEvent
from governance.core.actor import Actor
from governance.core.demo import demo_seed

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def test_create_token_prints_the_secret_once_and_is_audited(admin_user, capsys):
    call_command(
        "create_token",
        "--user",
        admin_user.username,
        "--scopes",
        "killswitches.read,account.view",
        "--name",
        "readme-example",
    )
    out, err = capsys.readouterr()
    secret = out.strip()
    assert secret.startswith("gov_") and "\n" not in secret
    assert "shown only this once" in err and secret not in err
    token = ApiToken.objects.get(name="readme-example")
    assert token.created_by == admin_user
    assert token.scopes == ["account.view", "killswitches.read"]
    event = AuditEvent.objects.get(action="accounts.token.created")
    assert event.actor_name == admin_user.username
    assert event.user_agent == "manage.py create_token"
    assert secret not in json.dumps(event.after)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert client.get("/api/v1/me").status_code == 200


def test_create_token_refuses_unknown_scopes_users_and_non_admins(admin_user, make_user):
    make_user(Role.VIEWER, username="vic")
    with pytest.raises(CommandError, match="Unknown scope"):
        call_command("create_token", "--user", "root-admin", "--scopes", "nope", "--name", "x")
    with pytest.raises(CommandError, match="no active user"):
        call_command("create_token", "--user", "ghost", "--scopes", "account.view", "--name", "x")
    with pytest.raises(CommandError, match="may not create API tokens"):
        call_command("create_token", "--user", "vic", "--scopes", "account.view", "--name", "x")
    assert not ApiToken.objects.exists()


def test_create_user_without_a_terminal_names_password_env():
    result = subprocess.run(
        [sys.executable, "manage.py", "create_user", "alice", "--role", "incident_commander"],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "DATABASE_URL": "sqlite:///:memory:"},
    )
    assert result.returncode != 0
    assert "--password-env" in result.stderr
    assert "Traceback" not in result.stderr


def test_seed_demo_says_an_existing_users_password_was_left_alone(settings, capsys, make_user):
    settings.DEBUG = True
    make_user(Role.AUDITOR, username="auditor")  # password pw-for-tests-only
    call_command("seed_demo")
    out = capsys.readouterr().out
    auditor_line = next(line for line in out.splitlines() if line.strip().startswith("auditor"))
    assert "password unchanged" in auditor_line
    assert "governance-demo" not in auditor_line
    admin_line = next(line for line in out.splitlines() if line.strip().startswith("admin "))
    assert "governance-demo (set now)" in admin_line
    assert User.objects.get(username="auditor").check_password("pw-for-tests-only")


def test_export_audit_is_audited_and_ends_with_its_own_event(tmp_path, system_actor):
    demo_seed(actor=Actor.system("tests"), password="x-demo-password-1")
    target = tmp_path / "audit.jsonl"
    call_command("export_audit", "--format", "jsonl", "--output", str(target), stderr=io.StringIO())
    lines = [json.loads(line) for line in target.read_text().splitlines()]
    event = AuditEvent.objects.get(action="audit.exported")
    assert lines[-1]["sequence"] == event.sequence
    assert lines[-1]["action"] == "audit.exported"
    assert event.actor_type == "system"
    assert event.after == {"format": "jsonl"}
