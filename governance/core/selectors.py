"""The dashboard's counts, each visible only to roles that may see the section."""

from typing import Any

from governance.accounts.models import ApiToken
from governance.accounts.permissions import Perm, has_perm
from governance.audit.models import AuditEvent
from governance.audit.selectors import audit_chain_head, audit_last_verification
from governance.controls.heatmap import share_fill
from governance.controls.selectors import portfolio_coverage
from governance.inventory.models import AISystem, RiskTier


def dashboard_summary(*, principal: Any) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    if has_perm(principal, Perm.INVENTORY_VIEW):
        systems = AISystem.objects.all()
        summary["systems"] = systems.count()
        summary["high_risk_systems"] = systems.filter(
            risk_tier__in=[RiskTier.HIGH, RiskTier.CRITICAL]
        ).count()
        summary["genai_systems"] = systems.filter(is_genai=True).count()
    if has_perm(principal, Perm.CONTROLS_VIEW):
        summary["attention"] = [
            {"coverage": c, "fill": share_fill(c.total.share)}
            for c in portfolio_coverage(principal=principal)[:3]
        ]
    if has_perm(principal, Perm.AUDIT_VIEW):
        head = audit_chain_head()
        summary["audit_events"] = head.sequence if head else 0
        summary["audit_last_verification"] = audit_last_verification()
        summary["recent_events"] = list(AuditEvent.objects.order_by("-sequence")[:8])
    summary.update(_operations(principal))
    summary.update(_work(principal))
    if has_perm(principal, Perm.TOKENS_MANAGE):
        summary["active_tokens"] = ApiToken.objects.filter(revoked_at__isnull=True).count()
    return summary


def _operations(principal: Any) -> dict[str, Any]:
    """What needs someone now: engaged kill switches, open incidents, releases waiting for this
    person's decision, and deployments the policy refused in the last day."""
    from datetime import timedelta

    from django.utils import timezone

    from governance.incidents.models import Incident, IncidentStatus, SeriousIncidentReport
    from governance.incidents.serious import clock_text
    from governance.policy.models import Decision
    from governance.releases.selectors import waiting_for
    from governance.runtime.models import KillSwitch, SwitchState

    out: dict[str, Any] = {}
    if has_perm(principal, Perm.KILLSWITCHES_READ):
        out["engaged_switches"] = KillSwitch.objects.filter(state=SwitchState.ENGAGED).count()
    if has_perm(principal, Perm.INCIDENTS_VIEW):
        out["open_incidents"] = Incident.objects.exclude(
            status__in=[IncidentStatus.RESOLVED, IncidentStatus.POSTMORTEM]
        ).count()
        # EU AI Act Art. 73 reports not yet submitted, nearest deadline first.
        now = timezone.now()
        out["serious_reports_due"] = [
            {"report": r, "clock": clock_text(r.deadline_at, now), "overdue": r.deadline_at < now}
            for r in SeriousIncidentReport.objects.filter(submitted_at__isnull=True)
            .select_related("incident", "system")
            .order_by("deadline_at")[:5]
        ]
    if has_perm(principal, Perm.RELEASES_APPROVE) and getattr(principal, "pk", None):
        out["waiting_for_me"] = len(waiting_for(user=principal))
    if has_perm(principal, Perm.DECISIONS_VIEW):
        out["denied_today"] = Decision.objects.filter(
            allow=False, occurred_at__gte=timezone.now() - timedelta(days=1)
        ).count()
    return out


def _work(principal: Any) -> dict[str, Any]:
    """Each role's own work, with the action it takes: the commander's open incidents by
    severity and engaged switches, the approver's queue with the policy's latest word and the
    time left, the requester's open requests."""
    from datetime import timedelta

    from django.conf import settings
    from django.utils import timezone

    from governance.incidents.models import Incident, IncidentStatus
    from governance.releases.comparison import release_latest_decision
    from governance.releases.models import ReleaseState
    from governance.releases.selectors import release_request_list, waiting_for
    from governance.runtime.models import KillSwitch, SwitchState

    out: dict[str, Any] = {}
    now = timezone.now()
    if has_perm(principal, Perm.INCIDENTS_MANAGE):
        out["incidents_by_severity"] = list(
            Incident.objects.exclude(
                status__in=[IncidentStatus.RESOLVED, IncidentStatus.POSTMORTEM]
            )
            .select_related("severity", "commander")
            .prefetch_related("systems")
            .order_by("severity__rank", "opened_at")[:10]
        )
    if has_perm(principal, Perm.KILLSWITCHES_FLIP):
        out["engaged_list"] = list(
            KillSwitch.objects.filter(state=SwitchState.ENGAGED)
            .select_related("system", "incident")
            .order_by("-changed_at")[:10]
        )
    user_id = getattr(principal, "pk", None)
    if has_perm(principal, Perm.RELEASES_APPROVE) and user_id:
        ttl = timedelta(hours=settings.RELEASE_APPROVAL_TTL_HOURS)
        out["queue"] = []
        for release in waiting_for(user=principal)[:10]:
            decision = release_latest_decision(request=release)
            expires = release.submitted_at + ttl if release.submitted_at else None
            out["queue"].append(
                {
                    "release": release,
                    "decision": decision,
                    # What blocks besides the approvals this person is about to give.
                    "blocking": [
                        v
                        for v in (decision.denials if decision else [])
                        if v.get("code") != "approvals.insufficient"
                    ],
                    "expires_at": expires,
                    "expired": expires is not None and expires <= now,
                    "soon": expires is not None and expires - now < timedelta(hours=12),
                }
            )
    if has_perm(principal, Perm.RELEASES_REQUEST) and user_id:
        out["my_requests"] = list(
            release_request_list(principal=principal, requester=principal).exclude(
                state__in=[
                    ReleaseState.WITHDRAWN,
                    ReleaseState.ROLLED_BACK,
                    ReleaseState.REJECTED,
                    ReleaseState.DEPLOYED,
                ]
            )[:10]
        )
    return out
