"""seed_demo adds kill switches and runbooks, once, through the services."""

import pytest
from django.core.management import call_command

from governance.audit.models import AuditEvent
from governance.incidents.models import Runbook, SeverityLevel
from governance.runtime.models import KillSwitch

pytestmark = pytest.mark.django_db


def test_seed_demo_adds_switches_and_runbooks_once(settings):
    settings.DEBUG = True
    call_command("seed_demo")
    assert SeverityLevel.objects.count() == 4
    assert KillSwitch.objects.filter(system__slug="support-copilot").count() == 3
    assert set(KillSwitch.objects.values_list("state", flat=True)) == {"released"}
    assert Runbook.objects.filter(template="disable-tool").exists()
    rollback = Runbook.objects.get(slug="credit-risk-scoring-rollback")
    assert rollback.steps.filter(action="rollback", environment="production").exists()
    revert = Runbook.objects.get(slug="support-copilot-revert")
    assert revert.steps.filter(
        action="revert_prompt", control__key="support-copilot-prompt"
    ).exists()
    route = Runbook.objects.get(slug="support-copilot-route-to-human")
    assert route.steps.filter(action="set_control", control_value=True).exists()
    created = AuditEvent.objects.filter(action="incidents.killswitch.created").count()
    assert created == KillSwitch.objects.count()
    events = AuditEvent.objects.count()
    call_command("seed_demo")
    assert AuditEvent.objects.count() == events
