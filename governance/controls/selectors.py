"""Reads of the control catalog, control implementations and coverage, scoped by permission."""

from typing import Any

from django.db.models import Count, Exists, OuterRef, Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from governance.accounts.permissions import Perm, has_perm
from governance.controls.coverage import SystemCoverage, coverage_for
from governance.controls.models import (
    ControlCategory,
    ControlFunction,
    ControlImplementation,
    ControlStatus,
    Evidence,
    GenAIAction,
    Subcategory,
    TierRequirement,
)
from governance.inventory.models import RISK_ORDER, AISystem
from governance.inventory.selectors import ai_system_list


def catalog_functions(*, principal: Any) -> QuerySet[ControlFunction]:
    """Functions with their categories and subcategories, in three queries."""
    if not has_perm(principal, Perm.CONTROLS_VIEW):
        return ControlFunction.objects.none()
    categories = ControlCategory.objects.prefetch_related(
        Prefetch("subcategories", queryset=Subcategory.objects.order_by("position"))
    ).order_by("position")
    return (
        ControlFunction.objects.select_related("framework")
        .prefetch_related(Prefetch("categories", queryset=categories))
        .annotate(category_count=Count("categories", distinct=True))
        .order_by("framework__slug", "position")
    )


def subcategory_list(*, principal: Any) -> QuerySet[Subcategory]:
    if not has_perm(principal, Perm.CONTROLS_VIEW):
        return Subcategory.objects.none()
    return Subcategory.objects.select_related("category__function").order_by(
        "category__function__position", "category__position", "position"
    )


def subcategory_get(*, principal: Any, code: str) -> Subcategory:
    return get_object_or_404(subcategory_list(principal=principal), code=code)


def genai_actions_for(*, subcategory: Subcategory) -> QuerySet[GenAIAction]:
    return subcategory.genai_actions.prefetch_related("risks").order_by("code")


def implementation_for(
    *, system: AISystem, subcategory: Subcategory
) -> ControlImplementation | None:
    return (
        ControlImplementation.objects.select_related("owner")
        .prefetch_related(Prefetch("evidence", queryset=Evidence.objects.order_by("-added_at")))
        .filter(system=system, subcategory=subcategory)
        .first()
    )


def is_required(*, system: AISystem, subcategory: Subcategory) -> bool:
    return TierRequirement.objects.filter(
        risk_tier=system.risk_tier, subcategory=subcategory
    ).exists()


def system_coverage(*, principal: Any, system: AISystem) -> SystemCoverage:
    if not has_perm(principal, Perm.CONTROLS_VIEW):
        raise PermissionError("controls.view required")
    return coverage_for([system])[system.pk]


def portfolio_coverage(*, principal: Any) -> list[SystemCoverage]:
    """Live systems, riskiest first and, within a tier, furthest from compliance first."""
    if not has_perm(principal, Perm.CONTROLS_VIEW):
        return []
    systems = list(ai_system_list(principal=principal))
    coverage = coverage_for(systems)
    return sorted(
        coverage.values(),
        key=lambda c: (
            -RISK_ORDER[c.system.risk_tier],
            c.total.share if c.total.share is not None else 2.0,
            c.system.name,
        ),
    )


def applicability_matrix(*, principal: Any) -> dict[str, set[str]]:
    if not has_perm(principal, Perm.CONTROLS_VIEW):
        return {}
    matrix: dict[str, set[str]] = {}
    for tier, code in TierRequirement.objects.values_list("risk_tier", "subcategory__code"):
        matrix.setdefault(tier, set()).add(code)
    return matrix


def required_gaps(*, system: AISystem) -> tuple[int, list[str]]:
    """How many subcategories the system's tier requires, and which of them are neither
    implemented nor not applicable (the gaps), in one query: every deployment check needs it."""
    done = ControlImplementation.objects.filter(
        system=system,
        subcategory=OuterRef("pk"),
        status__in=[ControlStatus.IMPLEMENTED, ControlStatus.NOT_APPLICABLE],
    )
    rows = (
        Subcategory.objects.filter(tier_requirements__risk_tier=system.risk_tier)
        .annotate(done=Exists(done))
        .order_by("category__function__position", "category__position", "position")
        .values_list("code", "done")
    )
    codes = list(rows)
    return len(codes), [code for code, is_done in codes if not is_done]
