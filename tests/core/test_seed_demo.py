"""seed_demo: idempotent, through the services (so audited), refused outside DEBUG."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from governance.accounts.models import Role, User
from governance.audit.models import AuditEvent
from governance.inventory.models import AISystem

pytestmark = pytest.mark.django_db


def test_seed_creates_a_user_per_role_and_systems_once(settings, capsys):
    settings.DEBUG = True
    call_command("seed_demo")
    assert set(User.objects.values_list("role", flat=True)) == set(Role.values)
    systems = AISystem.objects.count()
    events = AuditEvent.objects.count()
    assert systems >= 3
    created = AuditEvent.objects.filter(
        action__in=["accounts.user.created", "inventory.system.created"]
    )
    assert created.count() == User.objects.count() + systems
    assert "admin" in capsys.readouterr().out
    call_command("seed_demo")
    assert AISystem.objects.count() == systems
    assert AuditEvent.objects.count() == events
    assert User.objects.get(username="auditor").check_password("governance-demo")


def test_seed_refuses_when_debug_is_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG is off"):
        call_command("seed_demo")
    assert not User.objects.exists()


def test_dashboard_shows_what_needs_someone_now(db, client_for):
    from governance.core.actor import Actor
    from governance.core.demo import demo_seed

    demo_seed(actor=Actor.system("tests"), password="pw-for-tests-only")
    page = client_for("approver").get("/dashboard/").content.decode()
    for label in (
        "releases waiting for your decision",
        "kill switches engaged",
        "open incidents",
        "deployments denied by policy (24 h)",
    ):
        assert label in page
    viewer = client_for("viewer").get("/dashboard/").content.decode()
    assert "releases waiting for your decision" not in viewer
    assert "deployments denied by policy" not in viewer
