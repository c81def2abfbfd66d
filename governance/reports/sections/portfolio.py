"""Every live AI system ranked riskiest first, least covered first, with its gaps."""

from governance.controls.coverage import coverage_for
from governance.controls.heatmap import share_fill
from governance.inventory.models import RISK_ORDER, AISystem
from governance.reports.sections.base import ReportScope, Section, SectionContent
from governance.reports.sections.coverage import percent


def build(scope: ReportScope) -> SectionContent | None:
    systems = list(
        AISystem.objects.filter(archived_at__isnull=True).select_related("owner").order_by("name")
    )
    coverage = coverage_for(systems, today=scope.generated_at.date())
    ranked = sorted(
        coverage.values(),
        key=lambda c: (
            -RISK_ORDER[c.system.risk_tier],
            c.total.share if c.total.share is not None else 2.0,
            c.system.name,
        ),
    )
    rows = [
        {
            "rank": rank,
            "coverage": c,
            "percent": percent(c.total.share),
            "fill": share_fill(c.total.share),
            "width": round((c.total.share or 0) * 100),
        }
        for rank, c in enumerate(ranked, start=1)
    ]
    total_gaps = sum(len(c.gaps) for c in ranked)
    shares = [c.total.share for c in ranked if c.total.share is not None]
    return SectionContent(
        context={"rows": rows, "total_gaps": total_gaps},
        summary=[
            ("AI systems", str(len(ranked))),
            (
                "Mean coverage",
                percent(sum(shares) / len(shares)) if shares else "n/a",
            ),
            ("Open gaps across the portfolio", str(total_gaps)),
            (
                "High and critical systems under 80% coverage",
                str(
                    sum(
                        1
                        for c in ranked
                        if RISK_ORDER[c.system.risk_tier] >= 2 and (c.total.share or 0) < 0.8
                    )
                ),
            ),
        ],
    )


SECTION = Section(
    key="portfolio",
    title="Portfolio: coverage ranking and gaps",
    template="reports/print/sections/portfolio.html",
    kinds=frozenset({"portfolio"}),
    build=build,
)
