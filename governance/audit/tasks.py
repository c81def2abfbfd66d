"""Celery tasks for the audit log: thin, they call a service."""

from celery import shared_task

from governance.audit.checkpoints import audit_checkpoint_create, audit_checkpoint_push
from governance.audit.keys import SigningDisabled
from governance.audit.models import CheckpointTrigger
from governance.audit.services import audit_chain_verify
from governance.core.outbox import OutboxTask


@shared_task(name="governance.audit.tasks.audit_chain_verify_task")
def audit_chain_verify_task() -> dict:
    outcome = audit_chain_verify()
    return {
        "verification_id": outcome.pk,
        "ok": outcome.ok,
        "events_checked": outcome.events_checked,
        "first_bad_sequence": outcome.first_bad_sequence,
    }


@shared_task(name="governance.audit.tasks.audit_checkpoint_task")
def audit_checkpoint_task() -> dict:
    try:
        checkpoint = audit_checkpoint_create(trigger=CheckpointTrigger.SCHEDULE)
    except SigningDisabled as exc:
        return {"skipped": str(exc)}
    return {"checkpoint_id": checkpoint.pk, "tree_size": checkpoint.tree_size}


@shared_task(
    name="governance.audit.tasks.audit_checkpoint_push_task",
    base=OutboxTask,
    autoretry_for=(ConnectionError,),
    retry_backoff=30,
    max_retries=8,
)
def audit_checkpoint_push_task(checkpoint_id: int) -> dict:
    failed = audit_checkpoint_push(checkpoint_id=checkpoint_id)
    if failed:
        raise ConnectionError(f"witnesses did not take the checkpoint: {', '.join(failed)}")
    return {"checkpoint_id": checkpoint_id, "pushed": True}
