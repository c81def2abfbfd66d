"""Per function and category, each subcategory: status, owner, implementation, evidence."""

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Prefetch

from governance.controls.coverage import ControlRow, coverage_for
from governance.controls.models import ControlCategory, ControlImplementation, Evidence
from governance.reports.sections.base import ReportScope, Section, SectionContent


@dataclass
class CategoryBlock:
    code: str
    title: str
    rows: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class FunctionBlock:
    code: str
    anchor: str
    categories: list[CategoryBlock] = field(default_factory=list)


def build(scope: ReportScope) -> SectionContent | None:
    system = scope.system
    if system is None:
        return None
    coverage = coverage_for([system], today=scope.generated_at.date())[system.pk]
    implementations = {
        impl.subcategory.code: impl
        for impl in ControlImplementation.objects.filter(system=system)
        .select_related("owner", "subcategory")
        .prefetch_related(
            Prefetch("evidence", queryset=Evidence.objects.order_by("added_at", "pk"))
        )
    }
    titles = dict(ControlCategory.objects.values_list("code", "title"))
    by_function: dict[str, FunctionBlock] = {}
    categories: dict[str, CategoryBlock] = {}
    for row in coverage.rows:
        function = by_function.setdefault(
            row.function, FunctionBlock(row.function, f"controls-{row.function.lower()}")
        )
        if row.category not in categories:
            categories[row.category] = CategoryBlock(row.category, titles.get(row.category, ""))
            function.categories.append(categories[row.category])
        categories[row.category].rows.append(_row(row, implementations.get(row.code)))
    counts: dict[str, int] = defaultdict(int)
    for impl in implementations.values():
        counts["evidence"] += len(impl.evidence.all())
    functions = list(by_function.values())
    return SectionContent(
        context={"functions": functions, "evidence_count": counts["evidence"]},
        summary=[("Evidence items", str(counts["evidence"]))],
        toc=[(f.anchor, f.code) for f in functions],
    )


def _row(row: ControlRow, impl: ControlImplementation | None) -> dict[str, Any]:
    return {
        "code": row.code,
        "text": row.text,
        "required": row.required,
        "status": row.status,
        "status_label": row.status_label,
        "owner": (impl.owner.get_full_name() or impl.owner.username) if impl and impl.owner else "",
        "implementation": impl.implementation if impl else "",
        "justification": impl.justification if impl else "",
        "last_reviewed_at": impl.last_reviewed_at if impl else None,
        "next_review_at": row.next_review_at,
        "review_overdue": row.review_overdue,
        "evidence": list(impl.evidence.all()) if impl else [],
    }


SECTION = Section(
    key="controls",
    title="Controls by function and category",
    template="reports/print/sections/controls.html",
    kinds=frozenset({"system"}),
    build=build,
)
