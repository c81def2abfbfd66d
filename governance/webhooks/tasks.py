"""Celery tasks for inbound webhooks: thin, an id in, a service call."""

from typing import Any

from celery import Task, shared_task

from governance.webhooks.github import GitHubUnavailable
from governance.webhooks.services import github_delivery_fail, github_delivery_process


class _ReviewTask(Task):
    def on_failure(self, exc: Exception, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        delivery_pk = kwargs.get("delivery_pk", args[0] if args else None)
        if delivery_pk is not None:
            github_delivery_fail(delivery_pk=delivery_pk, detail=f"Gave up after retries: {exc}")


@shared_task(
    base=_ReviewTask,
    name="governance.webhooks.tasks.github_deployment_review_task",
    autoretry_for=(GitHubUnavailable,),
    retry_backoff=5,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=6,
)
def github_deployment_review_task(delivery_pk: int) -> dict:
    delivery = github_delivery_process(delivery_pk=delivery_pk)
    return {"delivery": delivery.delivery_id, "status": delivery.status}


@shared_task(name="governance.webhooks.tasks.outbound_delivery_send_task", bind=True)
def outbound_delivery_send_task(self: Task, delivery_pk: int) -> dict:
    """One attempt; a failure schedules the next one after the backoff. Run eagerly (no
    broker) the retry is left to the delivery row and the beat task, never slept on inline."""
    from governance.webhooks.outbound import outbound_delivery_attempt

    outcome = outbound_delivery_attempt(delivery_pk=delivery_pk)
    if outcome.retry_in is not None and not self.request.is_eager:
        outbound_delivery_send_task.apply_async((delivery_pk,), countdown=outcome.retry_in)
    return {"delivered": outcome.delivered, "status_code": outcome.status_code}


@shared_task(name="governance.webhooks.tasks.outbound_deliveries_due_task")
def outbound_deliveries_due_task() -> dict:
    from governance.webhooks.outbound import outbound_deliveries_due, outbound_delivery_attempt

    sent = 0
    for pk in outbound_deliveries_due():
        outbound_delivery_attempt(delivery_pk=pk)
        sent += 1
    return {"attempted": sent}
