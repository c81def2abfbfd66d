"""Outbound events: subscriptions, deliveries signed per Standard Webhooks, retries with
exponential backoff, and manual redelivery.

The database is the source of truth: each delivery is a row written in the transaction of the
change that caused it, with its send task in the outbox (core.outbox); retries are delayed
outbox messages, and a beat task picks up any delivery whose retry is due (so a lost broker
message delays a delivery, never drops it).
"""

import base64
import json
import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone

from governance.audit.services import Target, audit_record
from governance.core.actor import Actor
from governance.core.errors import Conflict
from governance.core.outbound import (
    OutboundError,
    OutboundRefused,
    outbound_request,
    outbound_validate_url,
)
from governance.core.outbox import outbox_enqueue
from governance.core.redaction import url_redacted
from governance.webhooks.models import (
    OutboundDelivery,
    OutboundEvent,
    OutboundStatus,
    WebhookSubscription,
)
from governance.webhooks.signatures import SECRET_PREFIX, standard_webhooks_sign

logger = logging.getLogger(__name__)
USER_AGENT = "governance-control-plane-webhooks/1"


def new_secret() -> str:
    """A Standard Webhooks secret: whsec_ + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def _check_subscription(*, name: str, url: str, events: list[str]) -> None:
    errors: dict[str, list[str]] = {}
    if not name.strip():
        errors["name"] = ["Give the subscription a name."]
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        errors["url"] = ["Use an http:// or https:// URL."]
    else:
        try:
            outbound_validate_url(url)
        except OutboundRefused as exc:
            errors["url"] = [str(exc)]
    unknown = set(events) - set(OutboundEvent.values)
    if not events or unknown:
        errors["events"] = [f"Choose one or more of: {', '.join(OutboundEvent.values)}."]
    if errors:
        raise ValidationError(errors)


def webhook_subscription_create(
    *, actor: Actor, name: str, url: str, events: list[str]
) -> WebhookSubscription:
    _check_subscription(name=name, url=url, events=events)
    with transaction.atomic():
        subscription = WebhookSubscription.objects.create(
            name=name.strip(),
            url=url,
            events=sorted(set(events)),
            secret=new_secret(),
            created_by=actor.label,
        )
        audit_record(
            actor=actor,
            action="webhooks.subscription.created",
            target=Target.of(subscription),
            after={
                "name": subscription.name,
                "url": url_redacted(url),
                "events": subscription.events,
            },
        )
    return subscription


def webhook_subscription_set_active(
    *, actor: Actor, subscription: WebhookSubscription, active: bool, reason: str = ""
) -> WebhookSubscription:
    with transaction.atomic():
        subscription = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
        if subscription.active == active:
            raise Conflict(f"{subscription.name} is already {'active' if active else 'paused'}.")
        subscription.active = active
        subscription.save(update_fields=["active"])
        audit_record(
            actor=actor,
            action="webhooks.subscription.activated" if active else "webhooks.subscription.paused",
            target=Target.of(subscription),
            before={"active": not active},
            after={"active": active},
            reason=reason,
        )
    return subscription


def outbound_event_emit(*, event: str, data: dict[str, Any]) -> list[OutboundDelivery]:
    """One delivery per active subscription to ``event``; call inside the change's transaction.
    The sends are queued when that transaction commits."""
    if event not in OutboundEvent.values:
        raise ValueError(f"unknown outbound event {event!r}")
    payload = json.loads(
        json.dumps(
            {"type": event, "timestamp": timezone.now(), "data": data}, cls=DjangoJSONEncoder
        )
    )
    deliveries = [
        OutboundDelivery.objects.create(
            message_id=f"msg_{uuid.uuid4().hex}",
            subscription=subscription,
            event=event,
            payload=payload,
            next_retry_at=timezone.now(),
        )
        for subscription in WebhookSubscription.objects.filter(active=True)
        if event in subscription.events
    ]
    for delivery in deliveries:
        _queue_on_commit(delivery.pk)
    return deliveries


SEND_TASK = "governance.webhooks.tasks.outbound_delivery_send_task"


def _queue_on_commit(delivery_pk: int, *, countdown: float = 0) -> None:
    """The send, in the outbox (same transaction as the delivery row)."""
    outbox_enqueue(task=SEND_TASK, args=[delivery_pk], countdown=countdown)


def backoff_seconds(attempts: int) -> int:
    """Delay before the next attempt after ``attempts`` failures: base, 2x, 4x..., at most a day."""
    return min(settings.OUTBOUND_WEBHOOK_BACKOFF_SECONDS * 2 ** max(attempts - 1, 0), 86_400)


def signed_request_parts(delivery: OutboundDelivery, *, now: int) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode("utf-8")
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": delivery.message_id,
        "webhook-timestamp": str(now),
        "webhook-signature": standard_webhooks_sign(
            delivery.subscription.secret, delivery.message_id, now, body
        ),
    }
    return body, headers


@dataclass(frozen=True)
class AttemptOutcome:
    delivered: bool
    status_code: int | None
    retry_in: int | None  # seconds until the next attempt; None: no further attempt


def outbound_delivery_attempt(*, delivery_pk: int, force: bool = False) -> AttemptOutcome:
    """One POST of a pending delivery. 2xx delivers; anything else schedules the next attempt
    after an exponential backoff, until OUTBOUND_WEBHOOK_MAX_ATTEMPTS, then the delivery fails.
    The row is locked while sending so two workers never send the same attempt."""
    now = timezone.now()
    with transaction.atomic():
        pending = OutboundDelivery.objects.select_for_update(skip_locked=True, of=("self",)).filter(
            pk=delivery_pk, status=OutboundStatus.PENDING
        )
        if not force:  # a retry queued twice (countdown and beat) sends once
            pending = pending.filter(next_retry_at__lte=now + timedelta(seconds=1))
        delivery = pending.select_related("subscription").first()
        if delivery is None:  # delivered, given up, not due, or being sent right now
            return AttemptOutcome(delivered=False, status_code=None, retry_in=None)
        body, headers = signed_request_parts(delivery, now=int(now.timestamp()))
        status_code, error = None, ""
        try:
            response = outbound_request(
                "POST",
                delivery.subscription.url,
                body=body,
                headers=headers,
                timeout=settings.OUTBOUND_WEBHOOK_TIMEOUT_SECONDS,
            )
            status_code = response.status
        except OutboundError as exc:  # generic text: it must not map the target's ports
            error = str(exc)[:500]
        delivery.attempts += 1
        delivery.last_attempt_at = now
        delivery.last_status_code = status_code
        delivery.last_error = error or ("" if status_code and status_code < 300 else "non-2xx")
        retry_in = None
        if status_code is not None and 200 <= status_code < 300:
            delivery.status = OutboundStatus.DELIVERED
            delivery.delivered_at = now
            delivery.next_retry_at = None
            delivery.last_error = ""
        elif delivery.attempts >= settings.OUTBOUND_WEBHOOK_MAX_ATTEMPTS:
            delivery.status = OutboundStatus.FAILED
            delivery.next_retry_at = None
        else:
            retry_in = backoff_seconds(delivery.attempts)
            delivery.next_retry_at = now + timedelta(seconds=retry_in)
        delivery.save()
    if error or retry_in is not None:
        logger.info(
            "outbound delivery %s attempt %s: %s",
            delivery.message_id,
            delivery.attempts,
            error or status_code,
        )
    return AttemptOutcome(
        delivered=delivery.status == OutboundStatus.DELIVERED,
        status_code=status_code,
        retry_in=retry_in,
    )


def outbound_deliveries_due(*, now: Any = None) -> list[int]:
    """Pending deliveries whose next attempt is due (the beat task's safety net)."""
    return list(
        OutboundDelivery.objects.filter(
            status=OutboundStatus.PENDING, next_retry_at__lte=now or timezone.now()
        ).values_list("pk", flat=True)[:500]
    )


def outbound_delivery_redeliver(*, actor: Actor, delivery: OutboundDelivery) -> OutboundDelivery:
    """Send a delivery again now (same webhook-id, so receivers can deduplicate): a failed or
    delivered one becomes pending with a fresh attempt budget."""
    with transaction.atomic():
        delivery = OutboundDelivery.objects.select_for_update().get(pk=delivery.pk)
        before = {"status": delivery.status, "attempts": delivery.attempts}
        delivery.status = OutboundStatus.PENDING
        delivery.attempts = 0
        delivery.next_retry_at = timezone.now()
        delivery.save(update_fields=["status", "attempts", "next_retry_at"])
        audit_record(
            actor=actor,
            action="webhooks.delivery.redelivered",
            target=Target(
                type="webhooks.outbounddelivery", id=delivery.message_id, repr=str(delivery)[:255]
            ),
            before=before,
            after={"status": delivery.status},
        )
        _queue_on_commit(delivery.pk)
    return delivery


def outbound_delivery_requeue(*, delivery_pk: int, countdown: float) -> None:
    """Queue the next attempt of a delivery whose retry is due in ``countdown`` seconds."""
    with transaction.atomic():
        _queue_on_commit(delivery_pk, countdown=countdown)
