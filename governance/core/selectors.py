"""The dashboard's counts, each visible only to roles that may see the section."""

from typing import Any

from governance.accounts.models import ApiToken
from governance.accounts.permissions import Perm, has_perm
from governance.audit.models import AuditEvent
from governance.audit.selectors import audit_chain_head, audit_last_verification
from governance.controls.heatmap import share_fill
from governance.controls.models import Subcategory
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
        summary["subcategories"] = Subcategory.objects.count()
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
    if has_perm(principal, Perm.TOKENS_MANAGE):
        summary["active_tokens"] = ApiToken.objects.filter(revoked_at__isnull=True).count()
    return summary


def _operations(principal: Any) -> dict[str, Any]:
    """What needs someone now: engaged kill switches, open incidents, releases waiting for this
    person's decision, and deployments the policy refused in the last day."""
    from datetime import timedelta

    from django.utils import timezone

    from governance.incidents.models import Incident, IncidentStatus, KillSwitch, SwitchState
    from governance.policy.models import Decision
    from governance.releases.selectors import waiting_for

    out: dict[str, Any] = {}
    if has_perm(principal, Perm.KILLSWITCHES_READ):
        out["engaged_switches"] = KillSwitch.objects.filter(state=SwitchState.ENGAGED).count()
    if has_perm(principal, Perm.INCIDENTS_VIEW):
        out["open_incidents"] = Incident.objects.exclude(
            status__in=[IncidentStatus.RESOLVED, IncidentStatus.POSTMORTEM]
        ).count()
    if has_perm(principal, Perm.RELEASES_APPROVE) and getattr(principal, "pk", None):
        out["waiting_for_me"] = len(waiting_for(user=principal))
    if has_perm(principal, Perm.DECISIONS_VIEW):
        out["denied_today"] = Decision.objects.filter(
            allow=False, occurred_at__gte=timezone.now() - timedelta(days=1)
        ).count()
    return out
