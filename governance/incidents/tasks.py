"""Celery tasks: ids in, a service call out."""

from typing import Any

from celery import shared_task

from governance.core.actor import Actor
from governance.core.outbox import OutboxTask
from governance.incidents.runbooks import runbook_step_execute


@shared_task(
    name="governance.incidents.tasks.runbook_step_execute_task", acks_late=True, base=OutboxTask
)
def runbook_step_execute_task(execution_id: int, actor: dict[str, Any]) -> str:
    """Run one automated runbook step on behalf of the person who started it."""
    execution = runbook_step_execute(
        actor=Actor(
            kind=actor["kind"],
            id=actor["id"],
            name=actor["name"],
            request_id=actor.get("request_id", ""),
        ),
        execution_id=execution_id,
    )
    return execution.status
