"""Writes of the webhooks app: receive a GitHub delivery, then review it with the policy."""

import json
import logging
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from governance.audit.services import Target, audit_record
from governance.core.actor import Actor
from governance.core.errors import Conflict, NotFound
from governance.policy.models import Decision, Endpoint
from governance.policy.selectors import deployment_request_resolve
from governance.policy.services import decision_evaluate
from governance.webhooks import github
from governance.webhooks.models import DeliveryStatus, InboundDelivery

logger = logging.getLogger(__name__)

GITHUB = "github"
COMMENT_MAX_CHARS = 1024
PAYLOAD_SYSTEM_KEY = "ai_system"
PAYLOAD_VERSION_KEY = "model_version"


def github_actor(*, ip: str | None = None, request_id: str = "") -> Actor:
    """Who acts for a GitHub delivery: the signed webhook, not a person."""
    return Actor(kind="token", id="github", name="webhook:github", ip=ip, request_id=request_id)


def github_delivery_receive(
    *, delivery_id: str, event: str, payload: dict[str, Any], request_id: str = ""
) -> InboundDelivery:
    """Store a verified delivery once (a replay is a Conflict) and queue its review after
    the commit, so the worker always finds the row."""
    from governance.webhooks.tasks import github_deployment_review_task

    try:
        with transaction.atomic():
            delivery = InboundDelivery.objects.create(
                source=GITHUB,
                delivery_id=delivery_id,
                event=event[:100],
                payload=payload,
                detail=f"request {request_id}" if request_id else "",
            )
            transaction.on_commit(lambda: github_deployment_review_task.delay(delivery.pk))
    except IntegrityError:
        raise Conflict(f"GitHub delivery {delivery_id} was already received.") from None
    return delivery


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _deployment_payload(deployment: dict[str, Any]) -> dict[str, Any]:
    payload = deployment.get("payload")
    if isinstance(payload, str):
        try:
            payload = json.loads(payload) if payload.strip() else {}
        except ValueError:
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
    try:
        request = deployment_request_resolve(
            system_slug=str(system).strip(),
            version=str(version).strip(),
            environment=str(event.get("environment", "")),
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
) -> InboundDelivery:
    with transaction.atomic():
        delivery = InboundDelivery.objects.select_for_update().get(pk=delivery.pk)
        delivery.status = status
        delivery.detail = detail
        delivery.callback_status = callback_status
        delivery.processed_at = timezone.now()
        delivery.save(update_fields=["status", "detail", "callback_status", "processed_at"])
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
            },
            reason=detail[:2000],
        )
    if status == DeliveryStatus.FAILED:
        logger.warning("github delivery %s failed: %s", delivery.delivery_id, detail)
    return delivery


def github_delivery_process(*, delivery_pk: int) -> InboundDelivery:
    """Decide a received deployment_protection_rule delivery and answer GitHub.

    Idempotent: a delivery already answered is left alone, and a retry after a network error
    reuses the decision taken the first time. Network errors raise GitHubUnavailable (the
    task retries); anything else leaves the delivery failed with the reason.
    """
    delivery = InboundDelivery.objects.select_related("decision").get(pk=delivery_pk)
    if delivery.status != DeliveryStatus.RECEIVED:
        return delivery
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
        return _finish(
            delivery,
            actor=actor,
            status=DeliveryStatus.FAILED,
            detail=f"Would answer {state}, but the event has no installation block: install "
            "the GitHub App on the repository (deployment protection rules are answered as "
            f"the App). {comment}",
        )
    if not isinstance(callback_url, str) or not callback_url:
        return _finish(
            delivery,
            actor=actor,
            status=DeliveryStatus.FAILED,
            detail=f"Would answer {state}, but the event has no deployment_callback_url.",
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
    except github.GitHubError as exc:
        return _finish(delivery, actor=actor, status=DeliveryStatus.FAILED, detail=str(exc))
    if not 200 <= code < 300:
        return _finish(
            delivery,
            actor=actor,
            status=DeliveryStatus.FAILED,
            detail=f"GitHub answered HTTP {code} to the {state} review. {comment}",
            callback_status=code,
        )
    return _finish(delivery, actor=actor, status=state, detail=comment, callback_status=code)


def github_delivery_fail(*, delivery_pk: int, detail: str) -> InboundDelivery | None:
    """Give up on a delivery (the task ran out of retries)."""
    delivery = InboundDelivery.objects.filter(pk=delivery_pk).first()
    if delivery is None or delivery.status != DeliveryStatus.RECEIVED:
        return delivery
    return _finish(
        delivery,
        actor=github_actor(request_id=delivery.delivery_id),
        status=DeliveryStatus.FAILED,
        detail=detail,
    )
