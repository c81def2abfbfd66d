"""The transactional outbox: queued work lives in the database, the broker only wakes workers.

Use it wherever a change queues a task::

    outbox_enqueue(task="governance.reports.tasks.report_render_task", args=[report.pk, attempt])

inside the transaction of the change (the row commits with it, or not at all). After commit the
message is published off the request path (core.background), so no request waits on Redis. The
sweeper (``outbox_sweep``, run by the sweeper thread in Celery beat) publishes again whatever is
due and unclaimed: a broker that was down, restarted or lost messages delays work, never drops
it. Tasks declared with ``base=OutboxTask`` claim their message before running (one claim at a
time, so a message published twice runs once) and mark it done after. Without a broker
(embedded defaults) the task runs in-process right after commit, as Celery's eager mode would.
"""

import logging
import re
from datetime import datetime, timedelta
from typing import Any

from celery import Task, current_app
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from governance.core.background import lane
from governance.core.models import OutboxMessage

logger = logging.getLogger(__name__)

# A message whose task raised this many times is given up (done, with its last error).
MAX_CLAIMS = 5
_TASK_ID = re.compile(r"^outbox-(\d+)-\d+$")


def outbox_enqueue(
    *,
    task: str,
    args: list[Any] | tuple[Any, ...] = (),
    kwargs: dict[str, Any] | None = None,
    countdown: float = 0,
) -> OutboxMessage:
    """Record ``task`` to run once the current transaction commits (or ``countdown`` seconds
    later: delayed messages are published by the sweeper when they are due)."""
    now = timezone.now()
    message = OutboxMessage.objects.create(
        task=task,
        args=list(args),
        kwargs=kwargs or {},
        available_at=now + timedelta(seconds=max(countdown, 0)),
    )
    if countdown <= 0:
        message_id = message.pk
        if current_app.conf.task_always_eager:
            transaction.on_commit(lambda: _run_in_process(message_id))
        else:
            transaction.on_commit(lambda: _publish_later(message_id))
    return message


def _publish_later(message_id: int) -> None:
    lane.submit(lambda: outbox_publish(message_id=message_id))


def _run_in_process(message_id: int) -> None:
    message = OutboxMessage.objects.get(pk=message_id)
    if message.task not in current_app.tasks:
        current_app.loader.import_default_modules()  # autodiscovery is lazy
    current_app.tasks[message.task].apply(
        args=message.args, kwargs=message.kwargs, task_id=f"outbox-{message.pk}-0", throw=True
    )


def outbox_publish(*, message_id: int) -> bool:
    """Hand one message to the broker; False (logged) when the broker did not take it."""
    message = OutboxMessage.objects.filter(pk=message_id, done_at__isnull=True).first()
    if message is None:
        return True
    try:
        current_app.send_task(
            message.task,
            args=message.args,
            kwargs=message.kwargs,
            task_id=f"outbox-{message.pk}-{message.publish_count + 1}",
        )
    except Exception as exc:  # kombu raises many kinds (OperationalError, timeouts, OSError)
        logger.warning("outbox %s (%s) not published: %s", message.pk, message.task, exc)
        OutboxMessage.objects.filter(pk=message.pk).update(last_error=f"publish: {exc}"[:500])
        return False
    OutboxMessage.objects.filter(pk=message.pk).update(
        published_at=timezone.now(), publish_count=F("publish_count") + 1
    )
    return True


def outbox_due(*, now: datetime | None = None) -> "QuerySet[OutboxMessage]":
    """Messages to publish (again): due, not done, and either never claimed and not published
    recently, or claimed so long ago that the worker holding them must have died."""
    now = now or timezone.now()
    republish = now - timedelta(seconds=settings.OUTBOX_REPUBLISH_SECONDS)
    dead_claim = now - timedelta(seconds=settings.TASK_TIME_LIMIT_SECONDS + 60)
    unclaimed = Q(claimed_at__isnull=True) & (
        Q(published_at__isnull=True) | Q(published_at__lt=republish)
    )
    return OutboxMessage.objects.filter(
        unclaimed | Q(claimed_at__lt=dead_claim, published_at__lt=republish),
        done_at__isnull=True,
        available_at__lte=now,
    ).order_by("available_at")


def outbox_sweep(*, limit: int = 500) -> int:
    """Publish what is due; stop at the first refusal (the broker is down: try next round).
    Returns how many messages were published."""
    published = 0
    for message_id in outbox_due().values_list("pk", flat=True)[:limit]:
        if not outbox_publish(message_id=message_id):
            break
        published += 1
    return published


def outbox_claim(*, message_id: int) -> bool:
    """Take the message for this run. False when it is done, or claimed by a live worker."""
    now = timezone.now()
    dead_claim = now - timedelta(seconds=settings.TASK_TIME_LIMIT_SECONDS + 60)
    return bool(
        OutboxMessage.objects.filter(pk=message_id, done_at__isnull=True)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=dead_claim))
        .update(claimed_at=now, claim_count=F("claim_count") + 1)
    )


def outbox_finish(*, message_id: int, error: str = "") -> None:
    """Done; or, after an error, released so the sweeper publishes it again (until MAX_CLAIMS)."""
    messages = OutboxMessage.objects.filter(pk=message_id, done_at__isnull=True)
    if not error:
        messages.update(done_at=timezone.now())
        return
    messages.filter(claim_count__gte=MAX_CLAIMS).update(
        done_at=timezone.now(), last_error=f"gave up: {error}"[:500]
    )
    messages.filter(claim_count__lt=MAX_CLAIMS).update(claimed_at=None, last_error=error[:500])


def outbox_message_id(task_id: str | None) -> int | None:
    match = _TASK_ID.match(task_id or "")
    return int(match.group(1)) if match else None


class OutboxTask(Task):
    """Base for tasks queued through the outbox: claim, run, finish. A task called some other
    way (directly, or ``.delay`` from a test) runs as usual."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        message_id = outbox_message_id(self.request.id)
        if message_id is None:
            return super().__call__(*args, **kwargs)
        if not outbox_claim(message_id=message_id):
            logger.info("outbox %s: already claimed or done; this copy is dropped", message_id)
            return None
        try:
            result = super().__call__(*args, **kwargs)
        except Exception as exc:
            outbox_finish(message_id=message_id, error=f"{type(exc).__name__}: {exc}")
            raise
        outbox_finish(message_id=message_id)
        return result


def outbox_backlog(*, now: datetime | None = None) -> dict[str, Any]:
    """What is waiting: how many messages, the oldest one's age, and how many are overdue."""
    now = now or timezone.now()
    pending = OutboxMessage.objects.filter(done_at__isnull=True, available_at__lte=now)
    oldest = pending.order_by("available_at").values_list("available_at", flat=True).first()
    overdue = now - timedelta(seconds=settings.OUTBOX_OVERDUE_SECONDS)
    return {
        "pending": pending.count(),
        "overdue": pending.filter(available_at__lt=overdue).count(),
        "oldest_seconds": round((now - oldest).total_seconds(), 1) if oldest else 0,
    }


def outbox_purge(*, older_than_days: int = 7) -> int:
    """Delete done messages after a week (the change they belonged to has its audit event)."""
    cutoff = timezone.now() - timedelta(days=older_than_days)
    deleted, _ = OutboxMessage.objects.filter(done_at__lt=cutoff).delete()
    return deleted
