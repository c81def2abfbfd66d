"""Policy versions in force and a summary of the decisions taken in the period."""

from collections import Counter
from typing import Any

from django.db.models import Count, Q

from governance.policy.models import Decision, PolicyVersion, VersionStatus
from governance.reports.sections.base import ReportScope, Section, SectionContent


def build(scope: ReportScope) -> SectionContent | None:
    versions = list(
        PolicyVersion.objects.filter(status__in=[VersionStatus.ACTIVE, VersionStatus.SHADOW])
        .order_by("status", "-number")
        .only("number", "status", "content_hash", "activated_at", "activated_by", "note")
    )
    decisions = Decision.objects.filter(occurred_at__gte=scope.since, occurred_at__lt=scope.until)
    if scope.system is not None:
        decisions = decisions.filter(system_slug=scope.system.slug)
    by_target = list(
        decisions.values("system_slug", "environment")
        .annotate(
            total=Count("pk"),
            allowed=Count("pk", filter=Q(allow=True)),
            denied=Count("pk", filter=Q(allow=False)),
            failed=Count("pk", filter=~Q(error="")),
        )
        .order_by("system_slug", "environment")
    )
    violations: Counter[str] = Counter()
    for entries in decisions.filter(allow=False).values_list("violations", flat=True).iterator():
        for violation in entries or []:
            if violation.get("severity") == "deny":
                violations[violation.get("code", "?")] += 1
    total = sum(row["total"] for row in by_target)
    allowed = sum(row["allowed"] for row in by_target)
    context: dict[str, Any] = {
        "versions": versions,
        "by_target": by_target,
        "top_violations": violations.most_common(10),
        "total": total,
        "allowed": allowed,
        "denied": total - allowed,
        "per_system": scope.system is None,
    }
    active = next((v for v in versions if v.status == VersionStatus.ACTIVE), None)
    return SectionContent(
        context=context,
        summary=[
            ("Policy version in force", f"v{active.number} ({active.content_hash[:12]})")
            if active
            else ("Policy version in force", "none active"),
            (
                "Policy decisions in the period",
                f"{total} ({allowed} allowed, {total - allowed} denied)"
                if total
                else "none in the period",
            ),
        ],
    )


SECTION = Section(
    key="policy",
    title="Policy versions and decisions",
    template="reports/print/sections/policy.html",
    kinds=frozenset({"system", "portfolio"}),
    build=build,
)
