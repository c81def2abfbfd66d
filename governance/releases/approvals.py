"""An approver's decision on a release request: four eyes, assignments, break-glass."""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from governance.accounts.permissions import Perm, has_perm
from governance.audit.services import audit_record
from governance.core.actor import Actor
from governance.core.errors import Conflict
from governance.releases.models import (
    Approval,
    ApprovalDecision,
    ReleaseRequest,
)
from governance.releases.selectors import (
    approver_is_assigned,
    approving_count,
    live_approvals_q,
)
from governance.releases.services import (
    NotAllowed,
    S,
    release_approve,
    release_emit,
    release_locked,
    release_move,
    release_refusals_audited,
    release_require_reason,
    release_target,
)


def release_approval_record(
    *,
    actor: Actor,
    request: ReleaseRequest,
    decision: str,
    reason: str,
    content_hash: str,
    break_glass: bool = False,
) -> Approval:
    """An approver's decision on exactly the content they reviewed (``content_hash``).

    Four eyes: never the requester; approver role (or admin); if assignments cover the system
    and environment, an assigned user. Enough approvals (from the active policy's data)
    approve the request; one rejection rejects it; a request for changes sends it back.
    Break-glass (admins, when RELEASE_BREAK_GLASS_ENABLED) approves at once, flagged loudly.
    """
    extra = {"decision": decision, "content_hash": content_hash, "break_glass": break_glass}
    with release_refusals_audited(
        actor=actor, request=request, attempted="approval", extra={**extra, "reason": reason}
    ):
        if decision not in ApprovalDecision.values:
            raise ValidationError(
                {"decision": [f"Choose from {', '.join(ApprovalDecision.values)}."]}
            )
        reason = release_require_reason(reason, "An approval, rejection or request for changes")
        user = actor.user
        if user is None:
            raise NotAllowed("Approvals are given by people, not API tokens.")
        if not has_perm(user, Perm.RELEASES_APPROVE):
            raise NotAllowed("Approving releases needs the approver role.")
        if break_glass:
            if not settings.RELEASE_BREAK_GLASS_ENABLED:
                raise NotAllowed(
                    "Break-glass approval is switched off (RELEASE_BREAK_GLASS_ENABLED)."
                )
            if not has_perm(user, Perm.RELEASES_CONFIGURE):
                raise NotAllowed("Only admins may approve with break-glass.")
            if decision != ApprovalDecision.APPROVE:
                raise ValidationError({"decision": ["Break-glass is for approving only."]})
        with transaction.atomic():
            request = release_locked(request)
            # The person behind the actor (a token would count as its creator) is never the
            # requester.
            if actor.person_key == f"user:{request.requester_id}":
                raise NotAllowed("Four eyes: you cannot approve or review your own request.")
            if request.state != S.SUBMITTED:
                raise Conflict(
                    f"This request is {request.get_state_display().lower()}; only requests "
                    "waiting for approval take decisions.",
                    errors={"state": [request.state]},
                )
            if content_hash != request.content_hash:
                raise Conflict(
                    "The request changed after you opened it: you reviewed content "
                    f"{(content_hash or 'none')[:12]}, it is now {request.content_hash[:12]}. "
                    "Reload and review it again.",
                    errors={"content_hash": ["Stale: the request was edited."]},
                )
            if not break_glass and not approver_is_assigned(
                user=user, system=request.system, environment=request.environment
            ):
                raise NotAllowed(
                    f"You are not an assigned approver for {request.system.slug} in "
                    f"{request.environment}."
                )
            if request.approvals.filter(live_approvals_q(), approver=user).exists():
                raise Conflict("You already decided on this version of the request.")
            now = timezone.now()
            try:
                with transaction.atomic():
                    approval = Approval.objects.create(
                        request=request,
                        approver=user,
                        decision=decision,
                        reason=reason,
                        content_hash=content_hash,
                        break_glass=break_glass,
                        expires_at=now + timedelta(hours=settings.RELEASE_APPROVAL_TTL_HOURS),
                    )
            except IntegrityError:
                raise Conflict("You already decided on this version of the request.") from None
            audit_record(
                actor=actor,
                action="releases.approval.break_glass"
                if break_glass
                else "releases.approval.recorded",
                target=release_target(request),
                after={
                    "approver": user.username,
                    "decision": decision,
                    "content_hash": content_hash,
                    "break_glass": break_glass,
                    "expires_at": approval.expires_at,
                },
                reason=reason,
            )
            if decision == ApprovalDecision.REJECT:
                before = release_move(request, S.REJECTED)
                request.decided_at = request.closed_at = now
                request.save()
                audit_record(
                    actor=actor,
                    action="releases.request.rejected",
                    target=release_target(request),
                    before={"state": before},
                    after={"state": request.state, "by": user.username},
                    reason=reason,
                )
                release_emit("release.rejected", request, by=user.username, reason=reason)
            elif decision == ApprovalDecision.REQUEST_CHANGES:
                before = release_move(request, S.CHANGES_REQUESTED)
                request.save()
                audit_record(
                    actor=actor,
                    action="releases.request.changes_requested",
                    target=release_target(request),
                    before={"state": before},
                    after={"state": request.state, "by": user.username},
                    reason=reason,
                )
            elif break_glass:
                request.break_glass = True
                release_approve(
                    actor=actor,
                    request=request,
                    reason=reason,
                    break_glass=True,
                )
            else:
                have = approving_count(request=request)
                if have >= request.required_approvals:
                    release_approve(
                        actor=actor,
                        request=request,
                        reason=f"{have} of {request.required_approvals} approval(s); "
                        f"last by {user.username}: {reason}",
                    )
    return approval
