"""Celery tasks of the integrations: ids in, the handler does the work."""

from celery import shared_task

from governance.core.outbox import OutboxTask
from governance.integrations.handlers import registry_delivery_process


@shared_task
def registry_delivery_process_task(delivery_pk: int) -> dict:
    return registry_delivery_process(delivery_pk=delivery_pk)


@shared_task
def registry_aliases_reconcile_task() -> dict:
    from governance.integrations.kill_switches import registry_aliases_reconcile

    return registry_aliases_reconcile()


@shared_task(name="governance.integrations.tasks.registry_write_back_task", base=OutboxTask)
def registry_write_back_task(write_back_pk: int) -> dict:
    """One attempt; a failure leaves the row pending with its next attempt for the beat task."""
    from governance.integrations.sagemaker_writeback import registry_write_back_attempt

    write_back = registry_write_back_attempt(write_back_pk=write_back_pk)
    return {"state": write_back.state, "attempts": write_back.attempts}


@shared_task
def registry_approvals_sync_task() -> dict:
    from governance.integrations.sagemaker_writeback import registry_approvals_sync

    return registry_approvals_sync()
