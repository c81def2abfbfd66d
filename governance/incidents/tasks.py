"""Celery tasks: ids in, a service call out."""

from typing import Any

from celery import shared_task

from governance.core.actor import Actor
from governance.incidents.services import runbook_step_execute


@shared_task(acks_late=True)
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
