"""Coverage: how far each AI system is from the controls a framework requires of it: the NIST AI
RMF subcategories its risk tier requires, or the EU AI Act obligations its classification and
role bring. Controls mapped through the crosswalk count as supporting evidence.

Computed for any number of systems in a fixed number of queries (catalog, applicability,
implementations, evidence counts, crosswalk), then in memory.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import models
from django.db.models import Count
from django.utils import timezone

from governance.controls.aiact import obligation_applies
from governance.controls.models import (
    AIActClassification,
    Applicability,
    ControlImplementation,
    ControlStatus,
    CrosswalkLink,
    Evidence,
    Framework,
    Subcategory,
    TierRequirement,
)
from governance.inventory.models import AISystem


@dataclass
class Tally:
    required: int = 0
    implemented: int = 0
    not_applicable: int = 0
    supported: int = 0  # not yet implemented, but crosswalked controls are met or evidenced

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
            "supported": self.supported,
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
    # Crosswalked controls in the other framework that are implemented or carry evidence.
    supporting: list[str] = field(default_factory=list)

    @property
    def status_label(self) -> str:
        return ControlStatus(self.status).label


@dataclass
class SystemCoverage:
    system: AISystem
    framework: str = ""
    total: Tally = field(default_factory=Tally)
    functions: dict[str, Tally] = field(default_factory=dict)
    categories: dict[str, Tally] = field(default_factory=dict)
    gaps: list[str] = field(default_factory=list)
    overdue: list[str] = field(default_factory=list)
    rows: list[ControlRow] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "system": self.system.slug,
            "framework": self.framework,
            "risk_tier": self.system.risk_tier,
            "total": self.total.as_dict(),
            "functions": {code: t.as_dict() for code, t in self.functions.items()},
            "categories": {code: t.as_dict() for code, t in self.categories.items()},
            "gaps": self.gaps,
            "review_overdue": self.overdue,
        }


def _scope(framework: Framework | None) -> dict[str, Any]:
    """The subcategory filter for a framework; None is the default, the NIST AI RMF (every
    framework applied by risk tier), so existing pages and reports are unchanged."""
    if framework is None:
        return {"category__function__framework__applicability": Applicability.RISK_TIER}
    return {"category__function__framework": framework}


def catalog_layout(framework: Framework | None = None) -> list[tuple[str, list[str]]]:
    """[(function code, [category codes…])] in catalog order, for tables and the heatmap."""
    layout: dict[str, list[str]] = {}
    for fn, cat in (
        Subcategory.objects.filter(**_scope(framework))
        .order_by("category__function__position", "category__position")
        .values_list("category__function__code", "category__code")
        .distinct()
    ):
        layout.setdefault(fn, [])
        if cat not in layout[fn]:
            layout[fn].append(cat)
    return list(layout.items())


def _required(
    framework: Framework | None, systems: list[AISystem], subcategories: list[tuple]
) -> dict[int, set[int]]:
    """Required subcategory ids per system: by tier, or by the system's classification."""
    if framework is not None and framework.applicability == Applicability.CLASSIFICATION:
        classifications = {
            c.system_id: c
            for c in AIActClassification.objects.filter(system_id__in=[s.pk for s in systems])
        }
        return {
            system.pk: {
                row[0]
                for row in subcategories
                if obligation_applies(row[5], classifications.get(system.pk))
            }
            for system in systems
        }
    by_tier: dict[str, set[int]] = defaultdict(set)
    for tier, sub_id in TierRequirement.objects.values_list("risk_tier", "subcategory_id"):
        by_tier[tier].add(sub_id)
    return {system.pk: by_tier.get(system.risk_tier, set()) for system in systems}


def _crosswalk(sub_ids: set[int]) -> dict[int, list[tuple[int, str]]]:
    """Both directions: for each subcategory here, the (id, code) of controls mapped to it."""
    mapped: dict[int, list[tuple[int, str]]] = defaultdict(list)
    links = CrosswalkLink.objects.filter(
        models.Q(source_id__in=sub_ids) | models.Q(target_id__in=sub_ids)
    ).values_list("source_id", "source__code", "target_id", "target__code")
    for source_id, source_code, target_id, target_code in links:
        if source_id in sub_ids:
            mapped[source_id].append((target_id, target_code))
        if target_id in sub_ids:
            mapped[target_id].append((source_id, source_code))
    return mapped


def coverage_for(
    systems: list[AISystem], *, framework: Framework | None = None, today: date | None = None
) -> dict[int, SystemCoverage]:
    """Coverage of each system, keyed by system id, in a fixed number of queries."""
    today = today or timezone.now().date()
    subcategories = list(
        Subcategory.objects.filter(**_scope(framework))
        .order_by("category__function__position", "category__position", "position")
        .values_list(
            "pk", "code", "text", "category__code", "category__function__code", "applies_to"
        )
    )
    required_by_system = _required(framework, systems, subcategories)
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
    crosswalk = _crosswalk({row[0] for row in subcategories})
    result: dict[int, SystemCoverage] = {}
    for system in systems:
        coverage = SystemCoverage(system=system, framework=framework.slug if framework else "")
        required = required_by_system.get(system.pk, set())
        for sub_id, code, text, category, function, _applies in subcategories:
            status, next_review = implementations.get(
                (system.pk, sub_id), (ControlStatus.NOT_STARTED, None)
            )
            evidence = evidence_counts.get((system.pk, sub_id), 0)
            supporting = [
                other_code
                for other_id, other_code in crosswalk.get(sub_id, [])
                if evidence_counts.get((system.pk, other_id), 0)
                or implementations.get((system.pk, other_id), ("",))[0] == ControlStatus.IMPLEMENTED
            ]
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
                    supporting,
                )
            )
            # Every control past its review date counts, with or without evidence: the header,
            # the portfolio and the PDF agree with the rows the table flags.
            if overdue:
                coverage.overdue.append(code)
            if not is_required:
                continue
            done = status in (ControlStatus.IMPLEMENTED, ControlStatus.NOT_APPLICABLE)
            for tally in (
                coverage.total,
                coverage.functions.setdefault(function, Tally()),
                coverage.categories.setdefault(category, Tally()),
            ):
                tally.required += 1
                tally.implemented += status == ControlStatus.IMPLEMENTED
                tally.not_applicable += status == ControlStatus.NOT_APPLICABLE
                tally.supported += not done and bool(supporting)
            if not done:
                coverage.gaps.append(code)
        result[system.pk] = coverage
    return result
