"""The approvals record: release requests active in the period, who decided, when and why,
with break-glass approvals marked."""

from typing import Any

from django.apps import apps
from django.db.models import Prefetch, Q

from governance.reports.sections.base import ReportScope, Section, SectionContent


def build(scope: ReportScope) -> SectionContent | None:
    if not apps.is_installed("governance.releases"):
        return None
    from governance.releases.models import Approval, ReleaseRequest

    approvals = Approval.objects.select_related("approver").order_by("created_at")
    releases = (
        ReleaseRequest.objects.filter(created_at__lt=scope.until)
        .filter(Q(closed_at__isnull=True) | Q(closed_at__gte=scope.since))
        .filter(Q(submitted_at__isnull=False))
        .select_related("system", "model_version", "requester")
        .prefetch_related(Prefetch("approvals", queryset=approvals))
        .order_by("submitted_at")
    )
    if scope.system is not None:
        releases = releases.filter(system=scope.system)
    releases = list(releases)
    break_glass = [r for r in releases if r.break_glass]
    context: dict[str, Any] = {
        "releases": releases,
        "break_glass": break_glass,
        "per_system": scope.system is None,
    }
    summary = [
        (
            "Release requests in the period",
            f"{len(releases)} ({sum(1 for r in releases if r.state == 'deployed')} deployed)"
            if releases
            else "none",
        )
    ]
    if break_glass:
        summary.append(("BREAK-GLASS approvals", f"{len(break_glass)}: see the approvals record"))
    return SectionContent(context=context, summary=summary)


SECTION = Section(
    key="approvals",
    title="Approvals record",
    template="reports/print/sections/approvals.html",
    kinds=frozenset({"system", "portfolio", "ai_act"}),
    build=build,
)
