"""NIST AI RMF coverage: the chart per function and the heatmap the UI draws (same SVG)."""

from governance.controls.coverage import catalog_layout, coverage_for
from governance.controls.heatmap import coverage_heatmap_svg, share_fill
from governance.reports.sections.base import ReportScope, Section, SectionContent


def percent(share: float | None) -> str:
    return "n/a" if share is None else f"{round(share * 100)}%"


def build(scope: ReportScope) -> SectionContent | None:
    system = scope.system
    if system is None:
        return None
    coverage = coverage_for([system], today=scope.generated_at.date())[system.pk]
    layout = catalog_layout()
    bars = [
        {
            "function": function,
            "tally": coverage.functions.get(function),
            "width": round((coverage.functions[function].share or 0) * 100)
            if function in coverage.functions
            else 0,
            "percent": percent(coverage.functions[function].share)
            if function in coverage.functions
            else "n/a",
            "fill": share_fill(coverage.functions[function].share)
            if function in coverage.functions
            else share_fill(None),
        }
        for function, _ in layout
    ]
    return SectionContent(
        context={
            "coverage": coverage,
            "total_percent": percent(coverage.total.share),
            "bars": bars,
            "heatmap": coverage_heatmap_svg(coverage, layout),
        },
        summary=[
            (
                "NIST AI RMF coverage",
                f"{percent(coverage.total.share)} ({coverage.total.implemented} of "
                f"{coverage.total.applicable} required subcategories implemented)",
            ),
            ("Open gaps", _gaps_line(coverage.gaps)),
            ("Reviews past due", str(len(coverage.overdue))),
        ],
    )


def _gaps_line(gaps: list[str], shown: int = 8) -> str:
    if not gaps:
        return "none"
    more = f" and {len(gaps) - shown} more" if len(gaps) > shown else ""
    return f"{len(gaps)}: {', '.join(gaps[:shown])}{more}"


SECTION = Section(
    key="coverage",
    title="NIST AI RMF coverage",
    template="reports/print/sections/coverage.html",
    kinds=frozenset({"system"}),
    build=build,
)
