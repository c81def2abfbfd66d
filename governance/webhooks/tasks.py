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
