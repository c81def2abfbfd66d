"""Writes of release requests and approvals. Every transition takes a row lock on the request,
checks the transition table, writes its audit event in the same transaction, and queues its
outbound webhooks on commit. A refused attempt is audited too, in its own transaction."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from governance.accounts.permissions import Perm, has_perm
from governance.audit.services import Target, audit_record
from governance.core.actor import Actor
from governance.core.errors import Conflict, DomainError
from governance.inventory.models import AISystem, Environment, ModelVersion
from governance.policy.inputs import DeploymentRequest
from governance.policy.models import Decision, Endpoint
from governance.policy.services import decision_evaluate
from governance.releases.content import content_hash_of, material_content
from governance.releases.models import (
    EDITABLE,
    TRANSITIONS,
    ReleaseRequest,
    ReleaseState,
)
from governance.releases.selectors import (
    TARGET_TYPE,
    approvals_as_input,
    approving_count,
    required_approvals_for,
)
from governance.releases.signals import release_changed
from governance.webhooks.outbound import outbound_event_emit

S = ReleaseState
APPROVALS_CODE = "approvals.insufficient"


class NotAllowed(DomainError):
    """The person may not do this to this request (not theirs, their own, not assigned)."""

    status = 403
    code = "forbidden"
    title = "Permission denied"


class PolicyDenied(Conflict):
    """The policy decision taken right before deployment denies it."""

    code = "policy-denied"
    title = "Policy denies this deployment"

    def __init__(self, detail: str, *, decision: Decision) -> None:
        super().__init__(
            detail,
            errors={
                "policy": [
                    f"{v['message']} ({', '.join(v.get('controls') or []) or 'no control'})"
                    for v in decision.denials
                ]
            },
        )
        self.decision = decision


def release_target(request: ReleaseRequest | None, fallback: str = "") -> Target:
    if request is None or request.pk is None:
        return Target(type=TARGET_TYPE, id="", repr=fallback[:255])
    return Target(type=TARGET_TYPE, id=str(request.public_id), repr=str(request)[:255])


def _message(exc: Exception) -> str:
    if isinstance(exc, DomainError):
        return exc.detail
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc)


@contextmanager
def release_refusals_audited(
    *, actor: Actor, request: ReleaseRequest | None, attempted: str, extra: dict | None = None
) -> Iterator[None]:
    """Let the change's transaction roll back, then record who tried what and why it was
    refused, and raise again."""
    try:
        yield
    except (DomainError, ValidationError) as exc:
        after: dict[str, Any] = {"attempted": attempted, "error": _message(exc), **(extra or {})}
        if request is not None and request.pk is not None:
            after["state"] = (
                ReleaseRequest.objects.filter(pk=request.pk).values_list("state", flat=True).first()
            )
        if isinstance(exc, PolicyDenied):
            after["decision_id"] = str(exc.decision.decision_id)
            after["violations"] = exc.decision.denials
        with transaction.atomic():
            audit_record(
                actor=actor,
                action=f"releases.{attempted}.refused",
                target=release_target(request, fallback=attempted),
                after=after,
                reason=str((extra or {}).get("reason", "")),
            )
        raise


def release_locked(request: ReleaseRequest) -> ReleaseRequest:
    return (
        ReleaseRequest.objects.select_for_update(of=("self",))
        .select_related("system", "model_version", "requester")
        .get(pk=request.pk)
    )


def release_move(request: ReleaseRequest, to: str) -> str:
    """Apply a transition from the table; anything else is a 409 naming the legal moves."""
    before = request.state
    if to not in TRANSITIONS[before]:
        legal = ", ".join(sorted(TRANSITIONS[before])) or "none (final state)"
        raise Conflict(
            f"A {ReleaseState(before).label.lower()} request cannot become "
            f"{ReleaseState(to).label.lower()}. From {before}: {legal}.",
            errors={"state": [f"Illegal transition {before} → {to}."]},
        )
    request.state = to
    return before


def release_require_reason(reason: str, what: str) -> str:
    if not (reason or "").strip():
        raise ValidationError({"reason": [f"{what} needs a reason."]})
    return reason.strip()


def _summary(request: ReleaseRequest) -> dict[str, Any]:
    """The request as audit events and outbound webhooks describe it."""
    return {
        "id": str(request.public_id),
        "state": request.state,
        **material_content(request),
        "requester": request.requester.username,
        "content_hash": request.content_hash,
        "required_approvals": request.required_approvals,
        "break_glass": request.break_glass,
    }


def release_emit(event: str, request: ReleaseRequest, **extra: Any) -> None:
    outbound_event_emit(event=event, data={"release": _summary(request), **extra})
    release_changed.send(sender=ReleaseRequest, event=event, request=request)


def _actor_may(actor: Actor, perm: str) -> bool:
    if actor.kind == "system":
        return True
    if actor.token is not None:
        return perm in actor.token.scopes
    return actor.user is not None and has_perm(actor.user, perm)


def _require_requester(actor: Actor, request: ReleaseRequest, what: str) -> None:
    if actor.user is None or actor.user.pk != request.requester_id:
        raise NotAllowed(f"Only the requester ({request.requester.username}) may {what}.")


def _clean_links(links: Any) -> list[str]:
    from django.core.validators import URLValidator

    if links in (None, ""):
        return []
    if not isinstance(links, list) or not all(isinstance(x, str) for x in links):
        raise ValidationError({"evaluation_links": ["Give a list of URLs."]})
    validate = URLValidator(schemes=["http", "https"])
    cleaned = []
    for link in links:
        link = link.strip()
        if not link:
            continue
        try:
            validate(link)
        except ValidationError:
            raise ValidationError(
                {"evaluation_links": [f"{link!r} is not an http(s) URL."]}
            ) from None
        cleaned.append(link)
    return cleaned


def _check_fields(request: ReleaseRequest) -> None:
    errors: dict[str, list[str]] = {}
    if request.model_version.system_id != request.system_id:
        errors["model_version"] = [
            f"{request.model_version} is not a version of {request.system.slug}."
        ]
    if request.environment not in Environment.values:
        errors["environment"] = [f"Choose from {', '.join(Environment.values)}."]
    for name, label in (
        ("title", "A title"),
        ("change_summary", "What changes"),
        ("justification", "Why (justification)"),
    ):
        if not str(getattr(request, name) or "").strip():
            errors[name] = [f"{label} is required."]
    if errors:
        raise ValidationError(errors)


# --- Requests -------------------------------------------------------------------------------


def release_request_create(
    *,
    actor: Actor,
    system: AISystem,
    model_version: ModelVersion,
    environment: str,
    title: str,
    change_summary: str,
    justification: str,
    evaluation_links: list[str] | None = None,
) -> ReleaseRequest:
    """A draft request by the person acting; nobody reviews it until it is submitted."""
    with release_refusals_audited(actor=actor, request=None, attempted="request.create"):
        if actor.user is None:
            raise NotAllowed("Release requests are made by people, not API tokens.")
        request = ReleaseRequest(
            system=system,
            model_version=model_version,
            environment=environment,
            title=(title or "").strip(),
            change_summary=(change_summary or "").strip(),
            justification=(justification or "").strip(),
            evaluation_links=_clean_links(evaluation_links),
            requester=actor.user,
        )
        _check_fields(request)
        if system.archived_at is not None:
            raise Conflict(f"{system.slug} is archived; it is not released any more.")
        request.content_hash = content_hash_of(request)
        with transaction.atomic():
            request.save()
            audit_record(
                actor=actor,
                action="releases.request.created",
                target=release_target(request),
                after=_summary(request),
            )
    return request


def _void_live(
    request: ReleaseRequest, *, reason: str, now: datetime | None = None
) -> list[dict[str, Any]]:
    voided = []
    for approval in request.approvals.filter(voided_at__isnull=True).select_related("approver"):
        approval.voided_at = now or timezone.now()
        approval.void_reason = reason[:300]
        approval.save(update_fields=["voided_at", "void_reason"])
        voided.append({"approver": approval.approver.username, "decision": approval.decision})
    return voided


def _decide(*, actor: Actor, request: ReleaseRequest, endpoint: str) -> Decision:
    deployment = DeploymentRequest(
        system=request.system,
        model_version=request.model_version,
        environment=request.environment,
        requester=request.requester.username,
        change={"release": str(request.public_id), "summary": request.change_summary},
        approvals=approvals_as_input(request=request),
    )
    return decision_evaluate(actor=actor, endpoint=endpoint, request=deployment)


def release_request_update(
    *, actor: Actor, request: ReleaseRequest, reason: str = "", **changes: Any
) -> ReleaseRequest:
    """Edit what the request says. A change of the content hash voids every earlier approval
    (kept, struck through, with the reason), and an approved request goes back to waiting."""
    editable = {
        "model_version",
        "environment",
        "title",
        "change_summary",
        "justification",
        "evaluation_links",
    }
    unknown = set(changes) - editable
    if unknown:
        raise TypeError(f"not editable: {', '.join(sorted(unknown))}")
    with (
        release_refusals_audited(actor=actor, request=request, attempted="request.update"),
        transaction.atomic(),
    ):
        request = release_locked(request)
        _require_requester(actor, request, "edit this request")
        if request.state not in EDITABLE:
            raise Conflict(f"A {request.get_state_display().lower()} request cannot be edited.")
        before = _summary(request)
        old_hash = request.content_hash
        if "evaluation_links" in changes:
            changes["evaluation_links"] = _clean_links(changes["evaluation_links"])
        for field, value in changes.items():
            setattr(request, field, value.strip() if isinstance(value, str) else value)
        _check_fields(request)
        request.content_hash = content_hash_of(request)
        if request.content_hash == old_hash:
            return request
        voided = _void_live(
            request,
            reason=f"Request edited: content {old_hash[:12]} → {request.content_hash[:12]}",
        )
        if request.state in (S.SUBMITTED, S.APPROVED):
            if request.state == S.APPROVED:
                release_move(request, S.SUBMITTED)
                request.decided_at = None
            request.required_approvals = required_approvals_for(
                system=request.system, environment=request.environment
            )
            request.submit_decision = _decide(
                actor=actor, request=request, endpoint=_endpoint(actor)
            )
        request.save()
        audit_record(
            actor=actor,
            action="releases.request.updated",
            target=release_target(request),
            before=before,
            after={**_summary(request), "voided_approvals": voided},
            reason=reason,
        )
    return request


def _endpoint(actor: Actor) -> str:
    return Endpoint.API if actor.kind == "token" else Endpoint.UI


def release_request_submit(
    *, actor: Actor, request: ReleaseRequest, endpoint: str | None = None
) -> ReleaseRequest:
    """Ask for approval. The policy decision is taken and attached; the number of approvals
    comes from the active policy's data for the system's risk tier. A fresh round of review:
    earlier decisions are voided. Where the policy asks for no approval and allows, the request
    is approved at once."""
    with (
        release_refusals_audited(actor=actor, request=request, attempted="request.submit"),
        transaction.atomic(),
    ):
        request = release_locked(request)
        _require_requester(actor, request, "submit this request")
        before = release_move(request, S.SUBMITTED)
        voided = _void_live(request, reason="Submitted again: a new round of review")
        now = timezone.now()
        request.submitted_at = now
        request.decided_at = None
        request.break_glass = False
        request.required_approvals = required_approvals_for(
            system=request.system, environment=request.environment
        )
        decision = _decide(actor=actor, request=request, endpoint=endpoint or _endpoint(actor))
        request.submit_decision = decision
        request.save()
        audit_record(
            actor=actor,
            action="releases.request.submitted",
            target=release_target(request),
            before={"state": before},
            after={
                **_summary(request),
                "decision_id": str(decision.decision_id),
                "policy_allows": decision.allow,
                "violations": decision.violations,
                "voided_approvals": voided,
            },
        )
        release_emit("release.submitted", request, decision_id=str(decision.decision_id))
        if request.required_approvals == 0 and decision.allow:
            release_approve(
                actor=Actor.system("releases"),
                request=request,
                reason=f"The policy asks for no approval for a {request.system.risk_tier}-risk "
                f"system in {request.environment}, and allows it.",
            )
    return request


def release_approve(*, actor: Actor, request: ReleaseRequest, reason: str, **extra: Any) -> None:
    before = release_move(request, S.APPROVED)
    request.decided_at = timezone.now()
    request.save()
    audit_record(
        actor=actor,
        action="releases.request.approved",
        target=release_target(request),
        before={"state": before},
        after={
            **_summary(request),
            "approvals": approvals_as_input(request=request),
            **extra,
        },
        reason=reason,
    )
    release_emit("release.approved", request, approvals=approvals_as_input(request=request))


def release_request_withdraw(
    *, actor: Actor, request: ReleaseRequest, reason: str
) -> ReleaseRequest:
    """The requester (or an admin) takes the request back; approvals stop counting."""
    with release_refusals_audited(
        actor=actor, request=request, attempted="request.withdraw", extra={"reason": reason}
    ):
        reason = release_require_reason(reason, "Withdrawing")
        with transaction.atomic():
            request = release_locked(request)
            is_admin = actor.user is not None and has_perm(actor.user, Perm.RELEASES_CONFIGURE)
            if not is_admin:
                _require_requester(actor, request, "withdraw this request")
            before = release_move(request, S.WITHDRAWN)
            voided = _void_live(request, reason="Request withdrawn")
            request.closed_at = timezone.now()
            request.save()
            audit_record(
                actor=actor,
                action="releases.request.withdrawn",
                target=release_target(request),
                before={"state": before},
                after={"state": request.state, "voided_approvals": voided},
                reason=reason,
            )
    return request


def release_request_deploy(
    *, actor: Actor, request: ReleaseRequest, reason: str = ""
) -> ReleaseRequest:
    """Mark an approved request deployed. The policy decides again right now, with the
    request's live approvals; a deny blocks the transition and names each violation. A
    break-glass approval overrides only the approval count, never any other deny."""
    with (
        release_refusals_audited(
            actor=actor, request=request, attempted="request.deploy", extra={"reason": reason}
        ),
        transaction.atomic(),
    ):
        request = release_locked(request)
        if not _actor_may(actor, Perm.RELEASES_DEPLOY):
            raise NotAllowed("Your role or token scope does not allow deployments.")
        if request.state != S.APPROVED:
            release_move(request, S.DEPLOYED)  # raises the 409 naming the legal moves
        have, need = approving_count(request=request), request.required_approvals
        if have < need and not request.break_glass:
            raise Conflict(
                f"Only {have} of {need} approval(s) are still valid (expired or voided); "
                "submit the request again.",
                errors={"approvals": [f"{have} of {need} valid."]},
            )
        decision = _decide(actor=actor, request=request, endpoint=_endpoint(actor))
        blocking = [
            v
            for v in decision.denials
            if not (request.break_glass and v.get("code") == APPROVALS_CODE)
        ]
        if blocking or (not decision.allow and not decision.denials):
            raise PolicyDenied(
                "The policy denies this deployment now: "
                + "; ".join(v["message"] for v in blocking or decision.denials),
                decision=decision,
            )
        before = release_move(request, S.DEPLOYED)
        request.deploy_decision = decision
        request.deployed_at = timezone.now()
        request.save()
        audit_record(
            actor=actor,
            action="releases.request.deployed",
            target=release_target(request),
            before={"state": before},
            after={
                **_summary(request),
                "decision_id": str(decision.decision_id),
                "policy_allows": decision.allow,
                "break_glass_override": bool(decision.denials),
                "approvals": approvals_as_input(request=request),
            },
            reason=reason,
        )
        release_emit("release.deployed", request, decision_id=str(decision.decision_id))
    return request


def release_request_rollback(
    *, actor: Actor, request: ReleaseRequest, reason: str
) -> ReleaseRequest:
    with release_refusals_audited(
        actor=actor, request=request, attempted="request.rollback", extra={"reason": reason}
    ):
        reason = release_require_reason(reason, "A rollback")
        with transaction.atomic():
            request = release_locked(request)
            if not _actor_may(actor, Perm.RELEASES_DEPLOY):
                raise NotAllowed("Your role or token scope does not allow rollbacks.")
            before = release_move(request, S.ROLLED_BACK)
            request.closed_at = timezone.now()
            request.save()
            audit_record(
                actor=actor,
                action="releases.request.rolled_back",
                target=release_target(request),
                before={"state": before},
                after={"state": request.state},
                reason=reason,
            )
            release_emit("release.rolled_back", request, reason=reason)
    return request


def release_request_recheck(*, actor: Actor, request: ReleaseRequest) -> Decision:
    """Ask the policy again, with the approvals given so far: the decision taken at submit goes
    stale as approvals, coverage and kill switches change. Logged like any decision, and
    audited on the request so its timeline shows who re-checked and what came out."""
    if request.state not in (ReleaseState.SUBMITTED, ReleaseState.APPROVED):
        raise Conflict(f"A {request.get_state_display().lower()} request is not re-checked.")
    decision = _decide(actor=actor, request=request, endpoint=Endpoint.UI)
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="releases.request.rechecked",
            target=release_target(request),
            after={
                "decision_id": str(decision.decision_id),
                "allow": decision.allow,
                "denials": [v.get("code") for v in decision.denials],
            },
        )
    return decision
