"""Writes of the webhooks app: receive a GitHub delivery, then review it with the policy."""

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from governance.audit.services import Target, audit_record
from governance.core.actor import Actor
from governance.core.errors import Conflict, NotFound
from governance.core.jsonbody import JsonInvalid, parse_json
from governance.core.outbox import outbox_enqueue
from governance.policy.models import Decision, Endpoint
from governance.policy.selectors import deployment_request_resolve
from governance.policy.services import decision_evaluate
from governance.webhooks import github
from governance.webhooks.environments import environment_resolve, unmapped_message
from governance.webhooks.models import (
    ANSWERED,
    DeliveryStatus,
    InboundDelivery,
    MappingSource,
)

logger = logging.getLogger(__name__)

GITHUB = "github"
COMMENT_MAX_CHARS = 1024
PAYLOAD_SYSTEM_KEY = "ai_system"
PAYLOAD_VERSION_KEY = "model_version"


def github_actor(*, ip: str | None = None, request_id: str = "") -> Actor:
    """Who acts for a GitHub delivery: the signed webhook, not a person."""
    return Actor(kind="token", id="github", name="webhook:github", ip=ip, request_id=request_id)


def github_review_queue(delivery_pk: int, *, countdown: float | None = None) -> None:
    """Queue the review of a delivery with the current transaction (the outbox publishes it
    after commit, off the request path): the one place GitHub reviews are queued."""
    with transaction.atomic():
        outbox_enqueue(
            task="governance.webhooks.tasks.github_deployment_review_task",
            args=[delivery_pk],
            countdown=countdown or 0,
        )


def github_delivery_receive(
    *, delivery_id: str, event: str, payload: dict[str, Any], request_id: str = ""
) -> InboundDelivery:
    """Store a verified delivery and queue its review after the commit.

    GitHub reuses the delivery id when someone presses Redeliver. A delivery already answered
    is acknowledged again and nothing is posted twice; one still pending or failed is
    processed again. The same id with a different body is a Conflict (not a redelivery).
    """
    try:
        with transaction.atomic():
            delivery = InboundDelivery.objects.create(
                source=GITHUB,
                delivery_id=delivery_id,
                event=event[:100],
                payload=payload,
                detail=f"request {request_id}" if request_id else "",
            )
            github_review_queue(delivery.pk)
        return delivery
    except IntegrityError:
        pass
    with transaction.atomic():
        delivery = InboundDelivery.objects.select_for_update().get(
            source=GITHUB, delivery_id=delivery_id
        )
        if delivery.payload != payload:
            raise Conflict(
                f"GitHub delivery {delivery_id} was already received with a different body."
            )
        delivery.redeliveries += 1
        fields = ["redeliveries"]
        again = delivery.status not in ANSWERED
        if again:
            delivery.status, delivery.next_retry_at = DeliveryStatus.PENDING, None
            fields += ["status", "next_retry_at"]
        delivery.save(update_fields=fields)
        audit_record(
            actor=github_actor(request_id=request_id),
            action="webhooks.github.redelivered",
            target=Target(
                type="webhooks.inbounddelivery", id=delivery.delivery_id, repr=str(delivery)[:255]
            ),
            after={"status": delivery.status, "redeliveries": delivery.redeliveries},
            reason="processed again" if again else "already answered: acknowledged, not posted",
        )
        if again:
            github_review_queue(delivery.pk)
    return delivery


def github_delivery_retry(*, actor: Actor, delivery: InboundDelivery) -> InboundDelivery:
    """An admin's retry of a pending or failed delivery (the deliveries page)."""
    with transaction.atomic():
        delivery = InboundDelivery.objects.select_for_update().get(pk=delivery.pk)
        if delivery.source != GITHUB:
            raise NotFound("No such GitHub delivery.")
        if delivery.status in ANSWERED:
            raise Conflict(f"GitHub delivery {delivery.delivery_id} is already answered.")
        before = delivery.status
        delivery.status, delivery.next_retry_at = DeliveryStatus.PENDING, None
        delivery.save(update_fields=["status", "next_retry_at"])
        audit_record(
            actor=actor,
            action="webhooks.github.retry_requested",
            target=Target(
                type="webhooks.inbounddelivery", id=delivery.delivery_id, repr=str(delivery)[:255]
            ),
            before={"status": before},
            after={"status": delivery.status},
            reason="retried by hand",
        )
        github_review_queue(delivery.pk)
    return delivery


def github_retry_delay(attempts: int) -> int:
    """Seconds before the next try: doubling from the base, at most an hour."""
    base = max(1, settings.GITHUB_RETRY_BACKOFF_SECONDS)
    return int(min(3600, base * 2 ** max(0, attempts - 1)))


# A delivery still "received" this long after it arrived lost its queued task (a broker
# restart, a worker killed mid-task): the beat task picks it up like a due retry.
STUCK_AFTER = timedelta(minutes=5)


def github_deliveries_due() -> list[int]:
    """Pending deliveries whose retry time has come, and received ones whose task was lost
    (the beat task runs them)."""
    now = timezone.now()
    return list(
        InboundDelivery.objects.filter(
            Q(status=DeliveryStatus.PENDING, next_retry_at__lte=now)
            | Q(status=DeliveryStatus.RECEIVED, received_at__lte=now - STUCK_AFTER),
            source=GITHUB,
        )
        .order_by("received_at")
        .values_list("pk", flat=True)[:100]
    )


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _deployment_payload(deployment: dict[str, Any]) -> dict[str, Any]:
    payload = deployment.get("payload")
    if isinstance(payload, str):
        try:
            payload = parse_json(payload) if payload.strip() else {}
        except JsonInvalid:
            payload = {}
    return _dict(payload)


def _comment(text: str) -> str:
    return text if len(text) <= COMMENT_MAX_CHARS else text[: COMMENT_MAX_CHARS - 1] + "…"


def decision_comment(decision: Decision) -> str:
    if decision.allow:
        head = f"Governance decision {decision.decision_id}: allowed."
    else:
        head = f"Governance decision {decision.decision_id}: denied."
    lines = [head]
    for violation in decision.denials + decision.warnings:
        lines.append(
            f"[{violation.get('severity')}] {violation.get('code')}: {violation.get('message')}"
        )
    return _comment("\n".join(lines))


def _decide(delivery: InboundDelivery, actor: Actor) -> tuple[Decision | None, str, str]:
    """(decision, state, comment) for the delivery's event; no decision when the event does
    not name a known system and version."""
    event = _dict(delivery.payload)
    deployment = _dict(event.get("deployment"))
    if not deployment:
        return (
            None,
            "rejected",
            _comment(
                "Governance: this event has no deployment, so no AI system is named. Create the "
                f'deployment with a payload {{"{PAYLOAD_SYSTEM_KEY}": "<system slug>", '
                f'"{PAYLOAD_VERSION_KEY}": "<version>"}}.'
            ),
        )
    names = _deployment_payload(deployment)
    system, version = names.get(PAYLOAD_SYSTEM_KEY), names.get(PAYLOAD_VERSION_KEY)
    missing = [
        key
        for key, value in ((PAYLOAD_SYSTEM_KEY, system), (PAYLOAD_VERSION_KEY, version))
        if not isinstance(value, str | int | float) or not str(value).strip()
    ]
    if missing:
        return (
            None,
            "rejected",
            _comment(
                f"Governance: the deployment payload lacks {' and '.join(missing)}. Add "
                f'{{"{PAYLOAD_SYSTEM_KEY}": "<system slug>", '
                f'"{PAYLOAD_VERSION_KEY}": "<version>"}} to the deployment\'s payload.'
            ),
        )
    repository = _dict(event.get("repository"))
    change = {
        "repository": str(repository.get("full_name", "")),
        "sha": str(event.get("sha") or deployment.get("sha") or ""),
        "ref": str(event.get("ref") or deployment.get("ref") or ""),
        "deployment_id": deployment.get("id"),
        "delivery": delivery.delivery_id,
    }
    requester = str(
        _dict(deployment.get("creator")).get("login")
        or _dict(event.get("sender")).get("login")
        or ""
    )
    github_environment = str(event.get("environment", ""))
    environment = environment_resolve(
        source=MappingSource.GITHUB, name=github_environment
    ).environment
    if not environment:
        message = unmapped_message(source=MappingSource.GITHUB, name=github_environment)
        return None, "rejected", _comment(f"Governance: {message}")
    try:
        request = deployment_request_resolve(
            system_slug=str(system).strip(),
            version=str(version).strip(),
            environment=environment,
            requester=requester,
            change=change,
        )
    except NotFound as exc:
        return None, "rejected", _comment(f"Governance: {exc.detail}")
    decision = decision_evaluate(actor=actor, endpoint=Endpoint.GITHUB, request=request)
    return decision, "approved" if decision.allow else "rejected", decision_comment(decision)


def _finish(
    delivery: InboundDelivery,
    *,
    actor: Actor,
    status: str,
    detail: str,
    callback_status: int | None = None,
    error: str = "",
    retry_in: int | None = None,
) -> InboundDelivery:
    if error and error not in detail:
        detail = f"{error} {detail}".strip()  # what went wrong first, then the review
    with transaction.atomic():
        delivery = InboundDelivery.objects.select_for_update().get(pk=delivery.pk)
        delivery.status = status
        delivery.detail = detail
        delivery.callback_status = callback_status
        delivery.processed_at = timezone.now()
        delivery.last_error = error[:500]
        delivery.next_retry_at = (
            None if retry_in is None else timezone.now() + timedelta(seconds=retry_in)
        )
        delivery.save(
            update_fields=[
                "status",
                "detail",
                "callback_status",
                "processed_at",
                "last_error",
                "next_retry_at",
            ]
        )
        audit_record(
            actor=actor,
            action=f"webhooks.github.{status}",
            target=Target(
                type="webhooks.inbounddelivery", id=delivery.delivery_id, repr=str(delivery)[:255]
            ),
            after={
                "status": status,
                "environment": _dict(delivery.payload).get("environment"),
                "decision_id": str(delivery.decision.decision_id) if delivery.decision else None,
                "callback_status": callback_status,
                "attempts": delivery.attempts,
                "next_retry_at": delivery.next_retry_at.isoformat()
                if delivery.next_retry_at
                else None,
            },
            reason=(error or detail)[:2000],
        )
    if status in (DeliveryStatus.FAILED, DeliveryStatus.PENDING):
        logger.warning("github delivery %s %s: %s", delivery.delivery_id, status, error or detail)
    return delivery


@dataclass(frozen=True)
class ReviewOutcome:
    delivery: InboundDelivery
    retry_in: int | None = None  # seconds, when GitHub was unavailable and we try again


def _claim(delivery_pk: int) -> InboundDelivery | None:
    """Take the next attempt of a delivery that still needs an answer; None when it is
    answered (or failed for good) or another worker took this attempt first."""
    delivery = InboundDelivery.objects.select_related("decision").get(pk=delivery_pk)
    if delivery.status not in (DeliveryStatus.RECEIVED, DeliveryStatus.PENDING):
        return None
    claimed = InboundDelivery.objects.filter(
        pk=delivery.pk, attempts=delivery.attempts, status=delivery.status
    ).update(attempts=F("attempts") + 1)
    if not claimed:
        return None
    delivery.attempts += 1
    return delivery


def github_delivery_process(*, delivery_pk: int) -> ReviewOutcome:
    """Decide a received deployment_protection_rule delivery and answer GitHub.

    Idempotent: a delivery already answered is left alone, and a retry reuses the decision
    taken the first time. GitHub unavailable (5xx, 429, timeout): the delivery is pending
    with the next retry time, until GITHUB_REVIEW_MAX_ATTEMPTS; anything else fails it with
    the reason.
    """
    delivery = _claim(delivery_pk)
    if delivery is None:
        return ReviewOutcome(InboundDelivery.objects.get(pk=delivery_pk))
    actor = github_actor(request_id=delivery.delivery_id)
    event = _dict(delivery.payload)
    if delivery.decision is not None:
        decision = delivery.decision
        state = "approved" if decision.allow else "rejected"
        comment = decision_comment(decision)
    else:
        decision, state, comment = _decide(delivery, actor)
        if decision is not None:
            InboundDelivery.objects.filter(pk=delivery.pk).update(decision=decision)
            delivery.decision = decision
    installation_id = _dict(event.get("installation")).get("id")
    callback_url = event.get("deployment_callback_url")
    if not isinstance(installation_id, int):
        error = (
            f"Would answer {state}, but the event has no installation block: install "
            "the GitHub App on the repository (deployment protection rules are answered as "
            f"the App). {comment}"
        )
        return ReviewOutcome(
            _finish(delivery, actor=actor, status=DeliveryStatus.FAILED, detail=error, error=error)
        )
    if not isinstance(callback_url, str) or not callback_url:
        error = f"Would answer {state}, but the event has no deployment_callback_url."
        return ReviewOutcome(
            _finish(delivery, actor=actor, status=DeliveryStatus.FAILED, detail=error, error=error)
        )
    body = {
        "environment_name": str(event.get("environment", "")),
        "state": state,
        "comment": comment,
    }
    try:
        code = github.review_post(
            callback_url=callback_url, installation_id=installation_id, body=body
        )
    except github.GitHubUnavailable as exc:
        if delivery.attempts >= settings.GITHUB_REVIEW_MAX_ATTEMPTS:
            error = f"Gave up after {delivery.attempts} attempts: {exc}"
            return ReviewOutcome(
                _finish(
                    delivery, actor=actor, status=DeliveryStatus.FAILED, detail=comment, error=error
                )
            )
        retry_in = github_retry_delay(delivery.attempts)
        finished = _finish(
            delivery,
            actor=actor,
            status=DeliveryStatus.PENDING,
            detail=comment,
            error=str(exc),
            retry_in=retry_in,
        )
        return ReviewOutcome(finished, retry_in=retry_in)
    except github.GitHubError as exc:
        return ReviewOutcome(
            _finish(
                delivery, actor=actor, status=DeliveryStatus.FAILED, detail=comment, error=str(exc)
            )
        )
    if not 200 <= code < 300:
        error = f"GitHub answered HTTP {code} to the {state} review."
        return ReviewOutcome(
            _finish(
                delivery,
                actor=actor,
                status=DeliveryStatus.FAILED,
                detail=comment,
                error=error,
                callback_status=code,
            )
        )
    return ReviewOutcome(
        _finish(delivery, actor=actor, status=state, detail=comment, callback_status=code)
    )


def github_delivery_fail(*, delivery_pk: int, detail: str) -> InboundDelivery | None:
    """Give up on a delivery (its task died for good)."""
    delivery = InboundDelivery.objects.filter(pk=delivery_pk).first()
    if delivery is None or delivery.status not in (DeliveryStatus.RECEIVED, DeliveryStatus.PENDING):
        return delivery
    return _finish(
        delivery,
        actor=github_actor(request_id=delivery.delivery_id),
        status=DeliveryStatus.FAILED,
        detail=detail,
        error=detail,
    )
