"""Reads of release requests and approvals, scoped by permission."""

from datetime import datetime
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from governance.accounts.models import User
from governance.accounts.permissions import Perm, has_perm
from governance.audit.models import AuditEvent
from governance.inventory.models import AISystem, ModelVersion
from governance.policy.selectors import policy_version_active
from governance.releases.models import (
    Approval,
    ApprovalDecision,
    ApproverAssignment,
    ReleaseRequest,
    ReleaseState,
)

TARGET_TYPE = "releases.releaserequest"
NO_POLICY_REQUIRED_APPROVALS = 2


def release_request_list(
    *,
    principal: Any,
    state: str = "",
    system: str = "",
    environment: str = "",
    requester: User | None = None,
) -> QuerySet[ReleaseRequest]:
    if not has_perm(principal, Perm.RELEASES_VIEW):
        return ReleaseRequest.objects.none()
    requests = ReleaseRequest.objects.select_related(
        "system", "model_version", "requester"
    ).order_by("-created_at")
    if state:
        requests = requests.filter(state=state)
    if system:
        requests = requests.filter(system__slug=system)
    if environment:
        requests = requests.filter(environment=environment)
    if requester is not None:
        requests = requests.filter(requester=requester)
    return requests


def release_request_get(*, principal: Any, public_id: Any) -> ReleaseRequest:
    return get_object_or_404(release_request_list(principal=principal), public_id=public_id)


def live_approvals_q(now: Any = None) -> Q:
    """Approvals that still count: not voided, not past their time."""
    return Q(voided_at__isnull=True, expires_at__gt=now or timezone.now())


def approvals_live(*, request: ReleaseRequest) -> list[Approval]:
    return list(
        request.approvals.filter(live_approvals_q(), content_hash=request.content_hash)
        .select_related("approver")
        .order_by("created_at")
    )


def approvals_all(*, request: ReleaseRequest) -> list[Approval]:
    return list(request.approvals.select_related("approver").order_by("created_at"))


def approving_count(*, request: ReleaseRequest) -> int:
    """Independent approvals that count toward the policy's number: never the requester's."""
    return sum(
        1
        for a in approvals_live(request=request)
        if a.decision == ApprovalDecision.APPROVE and a.approver_id != request.requester_id
    )


def required_approvals_for(*, system: AISystem, environment: str) -> int:
    """The number of approvals the ACTIVE policy's data asks for: the same
    data.policy.approvals the Rego reads, so the UI and the policy agree. With no active
    policy, fail closed: NO_POLICY_REQUIRED_APPROVALS."""
    active = policy_version_active()
    if active is None:
        return NO_POLICY_REQUIRED_APPROVALS
    approvals = active.data.get("approvals") if isinstance(active.data, dict) else None
    if not isinstance(approvals, dict):
        return 0
    if environment not in approvals.get("environments", []):
        return 0
    by_tier = approvals.get("required_by_tier", {})
    return int(by_tier.get(system.risk_tier, 0)) if isinstance(by_tier, dict) else 0


def release_approvals_for(
    *, system: AISystem, model_version: ModelVersion, environment: str
) -> tuple[list[dict[str, str]], datetime | None]:
    """The live approvals of the latest approved (or deployed) release request for this system,
    version and environment, in the policy input's shape, and when the first of them expires
    (None if there are none). External checks (API, Kubernetes, GitHub) see the approvals
    people gave in the UI through this."""
    release = (
        ReleaseRequest.objects.filter(
            system=system,
            model_version=model_version,
            environment=environment,
            state__in=[ReleaseState.APPROVED, ReleaseState.DEPLOYED],
        )
        .order_by("-decided_at", "-created_at")
        .first()
    )
    if release is None:
        return [], None
    live = approvals_live(request=release)
    return _as_input(live), min((a.expires_at for a in live), default=None)


def approvals_as_input(*, request: ReleaseRequest) -> list[dict[str, str]]:
    return _as_input(approvals_live(request=request))


def _as_input(approvals: list[Approval]) -> list[dict[str, str]]:
    return [{"approver": a.approver.username, "decision": a.decision} for a in approvals]


def assignments_covering(*, system: AISystem, environment: str) -> QuerySet[ApproverAssignment]:
    return ApproverAssignment.objects.filter(
        Q(system=system) | Q(system__isnull=True),
        Q(environment=environment) | Q(environment=""),
    )


def approver_is_assigned(*, user: User, system: AISystem, environment: str) -> bool:
    """With no assignment covering this system and environment every approver may approve;
    otherwise only the assigned users."""
    covering = assignments_covering(system=system, environment=environment)
    return not covering.exists() or covering.filter(user=user).exists()


def approver_assignment_list() -> QuerySet[ApproverAssignment]:
    return ApproverAssignment.objects.select_related("user", "system").order_by(
        "user__username", "system__slug", "environment"
    )


def waiting_for(*, user: User) -> list[ReleaseRequest]:
    """Submitted requests this user may decide on and has not yet: never their own."""
    if not has_perm(user, Perm.RELEASES_APPROVE):
        return []
    mine = Approval.objects.filter(live_approvals_q(), request=OuterRef("pk"), approver=user)
    candidates = (
        release_request_list(principal=user, state=ReleaseState.SUBMITTED)
        .exclude(requester=user)
        .annotate(decided=Exists(mine))
        .filter(decided=False)
        .order_by("submitted_at")
    )
    return [
        r
        for r in candidates
        if approver_is_assigned(user=user, system=r.system, environment=r.environment)
    ]


def release_timeline(*, principal: Any, request: ReleaseRequest) -> list[AuditEvent]:
    """Every audit event about this request, oldest first: the request's own history, shown
    to everyone who may read the request."""
    if not has_perm(principal, Perm.RELEASES_VIEW):
        return []
    return list(
        AuditEvent.objects.filter(
            target_type=TARGET_TYPE, target_id=str(request.public_id)
        ).order_by("sequence")
    )
