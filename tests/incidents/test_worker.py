"""An automated runbook step runs in a real Celery worker and records its result."""

import time

import pytest

from governance.audit.models import AuditEvent
from governance.core.actor import Actor
from governance.incidents.models import StepExecution, TimelineEntry
from governance.incidents.runbook_templates import runbook_create_from_template
from governance.incidents.runbooks import runbook_start, runbook_step_perform
from governance.runtime.models import KillSwitch


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_the_worker_engages_the_switch_of_an_automated_step(
    celery_worker_process, system, switch, incident, commander
):
    actor = Actor.for_user(commander)
    runbook = runbook_create_from_template(
        actor=actor, system=system, template="disable-tool", slug="disable", kill_switch=switch
    )
    run = runbook_start(actor=actor, incident=incident, runbook=runbook)
    execution = run.executions.order_by("step__position").first()
    assert runbook_step_perform(actor=actor, execution=execution).status == "queued"
    deadline = time.monotonic() + 30
    while StepExecution.objects.get(pk=execution.pk).status == "queued":
        assert time.monotonic() < deadline, "the worker did not record the step's result"
        time.sleep(0.2)
    execution.refresh_from_db()
    assert execution.status == "done", execution.outcome
    assert execution.result == {"kill_switch": switch.key}
    assert KillSwitch.objects.get().state == "engaged"
    engaged = AuditEvent.objects.get(action="incidents.killswitch.engaged")
    assert engaged.actor_name == commander.username  # on behalf of who ran the step
    assert TimelineEntry.objects.filter(incident=incident, kind="kill_switch").exists()
