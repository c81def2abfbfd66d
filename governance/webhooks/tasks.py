"""Celery tasks for inbound webhooks: thin, an id in, a service call."""

from typing import Any

from celery import Task, shared_task

from governance.core.outbox import OutboxTask
from governance.webhooks.services import (
    github_deliveries_due,
    github_delivery_fail,
    github_delivery_process,
    github_review_queue,
)


class _ReviewTask(OutboxTask):
    def on_failure(self, exc: Exception, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        delivery_pk = kwargs.get("delivery_pk", args[0] if args else None)
        if delivery_pk is not None:
            github_delivery_fail(delivery_pk=delivery_pk, detail=f"The review task failed: {exc}")


@shared_task(
    base=_ReviewTask, bind=True, name="governance.webhooks.tasks.github_deployment_review_task"
)
def github_deployment_review_task(self: Task, delivery_pk: int) -> dict:
    """One attempt. GitHub unavailable: the worker tries again after the backoff. Run eagerly
    (no broker) the delivery is left pending with its retry time for the beat task, a
    redelivery or the retry button, never slept on inside the webhook request."""
    outcome = github_delivery_process(delivery_pk=delivery_pk)
    if outcome.retry_in is not None and not self.request.is_eager:
        github_review_queue(delivery_pk, countdown=outcome.retry_in)
    return {"delivery": outcome.delivery.delivery_id, "status": outcome.delivery.status}


@shared_task(name="governance.webhooks.tasks.github_deliveries_due_task")
def github_deliveries_due_task() -> dict:
    pks = github_deliveries_due()
    for pk in pks:
        github_delivery_process(delivery_pk=pk)
    return {"attempted": len(pks)}


@shared_task(
    name="governance.webhooks.tasks.outbound_delivery_send_task", bind=True, base=OutboxTask
)
def outbound_delivery_send_task(self: Task, delivery_pk: int) -> dict:
    """One attempt; a failure queues the next one after the backoff (a delayed outbox message).
    Run eagerly (no broker) the retry is left to the delivery row and the beat task, never
    slept on inline."""
    from governance.webhooks.outbound import outbound_delivery_attempt, outbound_delivery_requeue

    outcome = outbound_delivery_attempt(delivery_pk=delivery_pk)
    if outcome.retry_in is not None and not self.request.is_eager:
        outbound_delivery_requeue(delivery_pk=delivery_pk, countdown=outcome.retry_in)
    return {"delivered": outcome.delivered, "status_code": outcome.status_code}


@shared_task(name="governance.webhooks.tasks.outbound_deliveries_due_task")
def outbound_deliveries_due_task() -> dict:
    from governance.webhooks.outbound import outbound_deliveries_due, outbound_delivery_attempt

    sent = 0
    for pk in outbound_deliveries_due():
        outbound_delivery_attempt(delivery_pk=pk)
        sent += 1
    return {"attempted": sent}
