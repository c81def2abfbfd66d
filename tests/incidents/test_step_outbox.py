"""An automated runbook step is queued through the outbox; one no worker takes for too long
is shown and can be run again."""

from datetime import timedelta

import pytest
from django.utils import timezone

from governance.core.actor import Actor
from governance.core.errors import Conflict
from governance.core.models import OutboxMessage
from governance.incidents.models import StepExecution
from governance.incidents.runbook_templates import runbook_create_from_template
from governance.incidents.runbooks import STEP_TASK, runbook_start, runbook_step_perform

pytestmark = pytest.mark.django_db


def test_a_queued_step_is_in_the_outbox_and_retryable_once_queued_too_long(
    system, switch, incident, commander, client_for, django_capture_on_commit_callbacks, settings
):
    actor = Actor.for_user(commander)
    runbook = runbook_create_from_template(
        actor=actor, system=system, template="disable-tool", slug="disable", kill_switch=switch
    )
    run = runbook_start(actor=actor, incident=incident, runbook=runbook)
    execution = run.executions.order_by("step__position").first()
    with django_capture_on_commit_callbacks(execute=False):  # no worker takes it
        runbook_step_perform(actor=actor, execution=execution)
    message = OutboxMessage.objects.get(task=STEP_TASK)
    assert message.args[0] == execution.pk and message.args[1]["name"] == commander.username
    with pytest.raises(Conflict):
        runbook_step_perform(actor=actor, execution=execution)  # queued, and not for long
    StepExecution.objects.filter(pk=execution.pk).update(
        started_at=timezone.now() - timedelta(seconds=settings.OUTBOX_OVERDUE_SECONDS + 1)
    )
    execution.refresh_from_db()
    assert execution.queued_too_long
    page = client_for("incident_commander").get(f"/incidents/{incident.number}/")
    assert "Queued too long" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=False):
        again = runbook_step_perform(actor=actor, execution=execution)
    assert again.status == "queued" and not again.queued_too_long
    assert OutboxMessage.objects.filter(task=STEP_TASK).count() == 2
