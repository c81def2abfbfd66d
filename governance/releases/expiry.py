"""Approvals and requests that waited too long (the beat task's service)."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from governance.audit.services import audit_record
from governance.core.actor import Actor
from governance.releases.models import (
    ReleaseRequest,
)
from governance.releases.selectors import (
    approving_count,
)
from governance.releases.services import S, release_locked, release_move, release_target


def releases_expire(*, now: datetime | None = None) -> dict[str, int]:
    """Beat task's service: void approvals past their time; expire requests waiting longer
    than RELEASE_APPROVAL_TTL_HOURS, and approved ones whose approvals no longer suffice."""
    now = now or timezone.now()
    ttl = timedelta(hours=settings.RELEASE_APPROVAL_TTL_HOURS)
    actor = Actor.system("releases-expiry")
    counts = {"approvals": 0, "requests": 0}
    stale = (
        ReleaseRequest.objects.filter(
            approvals__voided_at__isnull=True, approvals__expires_at__lte=now
        )
        .values_list("pk", flat=True)
        .distinct()
    )
    waiting = ReleaseRequest.objects.filter(state=S.SUBMITTED, submitted_at__lte=now - ttl)
    candidates = set(stale) | set(waiting.values_list("pk", flat=True))
    for pk in sorted(candidates):
        with transaction.atomic():
            request = release_locked(ReleaseRequest(pk=pk))
            expired = list(
                request.approvals.filter(
                    voided_at__isnull=True, expires_at__lte=now
                ).select_related("approver")
            )
            for approval in expired:
                approval.voided_at = now
                approval.void_reason = (
                    f"Expired after {settings.RELEASE_APPROVAL_TTL_HOURS} h without deployment"
                )
                approval.save(update_fields=["voided_at", "void_reason"])
            if expired:
                counts["approvals"] += len(expired)
                audit_record(
                    actor=actor,
                    action="releases.approval.expired",
                    target=release_target(request),
                    after={
                        "expired": [
                            {"approver": a.approver.username, "decision": a.decision}
                            for a in expired
                        ]
                    },
                    reason=f"Approvals last {settings.RELEASE_APPROVAL_TTL_HOURS} hours.",
                )
            too_old = request.state == S.SUBMITTED and request.submitted_at <= now - ttl
            not_enough = (
                request.state == S.APPROVED
                and not request.break_glass
                and approving_count(request=request) < request.required_approvals
            ) or (request.state == S.APPROVED and request.break_glass and expired)
            if too_old or not_enough:
                before = release_move(request, S.EXPIRED)
                request.save()
                counts["requests"] += 1
                audit_record(
                    actor=actor,
                    action="releases.request.expired",
                    target=release_target(request),
                    before={"state": before},
                    after={"state": request.state},
                    reason="No decision in time."
                    if too_old
                    else "Its approvals expired before it was deployed.",
                )
    return counts
