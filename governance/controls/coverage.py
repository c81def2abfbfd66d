"""Coverage: how far each AI system is from the NIST AI RMF subcategories its tier requires.

Computed for any number of systems in a fixed number of queries (catalog, profile,
implementations, evidence counts), then in memory.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import Count
from django.utils import timezone

from governance.controls.models import (
    ControlImplementation,
    ControlStatus,
    Evidence,
    Subcategory,
    TierRequirement,
)
from governance.inventory.models import AISystem


@dataclass
class Tally:
    required: int = 0
    implemented: int = 0
    not_applicable: int = 0

    @property
    def applicable(self) -> int:
        return self.required - self.not_applicable

    @property
    def share(self) -> float | None:
        """Implemented share of the required, applicable subcategories (None: nothing due)."""
        return self.implemented / self.applicable if self.applicable else None

    def as_dict(self) -> dict[str, Any]:
        share = self.share
        return {
            "required": self.required,
            "implemented": self.implemented,
            "not_applicable": self.not_applicable,
            "share": None if share is None else round(share, 4),
        }


@dataclass
class ControlRow:
    code: str
    function: str
    category: str
    text: str
    required: bool
    status: str
    evidence_count: int
    next_review_at: date | None
    review_overdue: bool

    @property
    def status_label(self) -> str:
        return ControlStatus(self.status).label


@dataclass
class SystemCoverage:
    system: AISystem
    total: Tally = field(default_factory=Tally)
    functions: dict[str, Tally] = field(default_factory=dict)
    categories: dict[str, Tally] = field(default_factory=dict)
    gaps: list[str] = field(default_factory=list)
    overdue: list[str] = field(default_factory=list)
    rows: list[ControlRow] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "system": self.system.slug,
            "risk_tier": self.system.risk_tier,
            "total": self.total.as_dict(),
            "functions": {code: t.as_dict() for code, t in self.functions.items()},
            "categories": {code: t.as_dict() for code, t in self.categories.items()},
            "gaps": self.gaps,
            "review_overdue": self.overdue,
        }


def catalog_layout() -> list[tuple[str, list[str]]]:
    """[(function code, [category codes…])] in catalog order, for tables and the heatmap."""
    layout: dict[str, list[str]] = {}
    for fn, cat in (
        Subcategory.objects.order_by("category__function__position", "category__position")
        .values_list("category__function__code", "category__code")
        .distinct()
    ):
        layout.setdefault(fn, [])
        if cat not in layout[fn]:
            layout[fn].append(cat)
    return list(layout.items())


def coverage_for(
    systems: list[AISystem], *, today: date | None = None
) -> dict[int, SystemCoverage]:
    """Coverage of each system, keyed by system id, in four queries whatever the count."""
    today = today or timezone.now().date()
    subcategories = list(
        Subcategory.objects.order_by(
            "category__function__position", "category__position", "position"
        ).values_list("pk", "code", "text", "category__code", "category__function__code")
    )
    required_by_tier: dict[str, set[int]] = defaultdict(set)
    for tier, sub_id in TierRequirement.objects.values_list("risk_tier", "subcategory_id"):
        required_by_tier[tier].add(sub_id)
    system_ids = [s.pk for s in systems]
    implementations = {
        (system_id, sub_id): (status, next_review)
        for system_id, sub_id, status, next_review in ControlImplementation.objects.filter(
            system_id__in=system_ids
        ).values_list("system_id", "subcategory_id", "status", "next_review_at")
    }
    evidence_counts = {
        (row["implementation__system_id"], row["implementation__subcategory_id"]): row["n"]
        for row in Evidence.objects.filter(implementation__system_id__in=system_ids)
        .values("implementation__system_id", "implementation__subcategory_id")
        .annotate(n=Count("pk"))
    }
    result: dict[int, SystemCoverage] = {}
    for system in systems:
        coverage = SystemCoverage(system=system)
        required = required_by_tier.get(system.risk_tier, set())
        for sub_id, code, text, category, function in subcategories:
            status, next_review = implementations.get(
                (system.pk, sub_id), (ControlStatus.NOT_STARTED, None)
            )
            evidence = evidence_counts.get((system.pk, sub_id), 0)
            overdue = next_review is not None and next_review < today
            is_required = sub_id in required
            coverage.rows.append(
                ControlRow(
                    code,
                    function,
                    category,
                    text,
                    is_required,
                    status,
                    evidence,
                    next_review,
                    overdue,
                )
            )
            if overdue and evidence:
                coverage.overdue.append(code)
            if not is_required:
                continue
            for tally in (
                coverage.total,
                coverage.functions.setdefault(function, Tally()),
                coverage.categories.setdefault(category, Tally()),
            ):
                tally.required += 1
                tally.implemented += status == ControlStatus.IMPLEMENTED
                tally.not_applicable += status == ControlStatus.NOT_APPLICABLE
            if status not in (ControlStatus.IMPLEMENTED, ControlStatus.NOT_APPLICABLE):
                coverage.gaps.append(code)
        result[system.pk] = coverage
    return result
