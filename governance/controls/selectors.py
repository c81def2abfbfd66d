"""Reads of the control catalog, control implementations and coverage, scoped by permission."""

from typing import Any

from django.db.models import Count, Exists, OuterRef, Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from governance.accounts.permissions import Perm, has_perm
from governance.controls.aiact import FRAMEWORK_SLUG as AI_ACT
from governance.controls.aiact import obligation_applies
from governance.controls.coverage import SystemCoverage, coverage_for
from governance.controls.models import (
    AIActClassification,
    Applicability,
    ControlCategory,
    ControlFunction,
    ControlImplementation,
    ControlStatus,
    CrosswalkLink,
    Evidence,
    Framework,
    GenAIAction,
    Subcategory,
    TierRequirement,
)
from governance.inventory.models import RISK_ORDER, AISystem
from governance.inventory.selectors import ai_system_list


def framework_list(*, principal: Any) -> QuerySet[Framework]:
    """Loaded frameworks, the default (applied by risk tier) first."""
    if not has_perm(principal, Perm.CONTROLS_VIEW):
        return Framework.objects.none()
    return Framework.objects.order_by("-applicability", "name", "version")


def framework_get(*, principal: Any, slug: str | None) -> Framework | None:
    """The framework a page or report is scoped to; None (no slug) is the default, NIST."""
    if not slug:
        return None
    return get_object_or_404(framework_list(principal=principal), slug=slug)


def catalog_functions(
    *, principal: Any, framework: Framework | None = None
) -> QuerySet[ControlFunction]:
    """Functions with their categories and subcategories, in three queries."""
    if not has_perm(principal, Perm.CONTROLS_VIEW):
        return ControlFunction.objects.none()
    scope = (
        {"framework": framework}
        if framework is not None
        else {"framework__applicability": Applicability.RISK_TIER}
    )
    categories = ControlCategory.objects.prefetch_related(
        Prefetch("subcategories", queryset=Subcategory.objects.order_by("position"))
    ).order_by("position")
    return (
        ControlFunction.objects.filter(**scope)
        .select_related("framework")
        .prefetch_related(Prefetch("categories", queryset=categories))
        .annotate(category_count=Count("categories", distinct=True))
        .order_by("framework__slug", "position")
    )


def subcategory_list(*, principal: Any, applicability: str | None = None) -> QuerySet[Subcategory]:
    """Controls of every framework, or of the frameworks applied one way (by risk tier)."""
    if not has_perm(principal, Perm.CONTROLS_VIEW):
        return Subcategory.objects.none()
    subs = Subcategory.objects.select_related("category__function__framework")
    if applicability:
        subs = subs.filter(category__function__framework__applicability=applicability)
    return subs.order_by(
        "category__function__framework__name",
        "category__function__position",
        "category__position",
        "position",
    )


def subcategory_get(*, principal: Any, code: str) -> Subcategory:
    return get_object_or_404(subcategory_list(principal=principal), code=code)


def genai_actions_for(*, subcategory: Subcategory) -> QuerySet[GenAIAction]:
    return subcategory.genai_actions.prefetch_related("risks").order_by("code")


def crosswalk_of(*, subcategory: Subcategory) -> list[Subcategory]:
    """Controls in other frameworks mapped to this one, in either direction."""
    ids = set(
        CrosswalkLink.objects.filter(source=subcategory).values_list("target_id", flat=True)
    ) | set(CrosswalkLink.objects.filter(target=subcategory).values_list("source_id", flat=True))
    return list(
        Subcategory.objects.filter(pk__in=ids)
        .select_related("category__function__framework")
        .order_by(
            "category__function__framework__name",
            "category__function__position",
            "category__position",
            "position",
        )
    )


def supporting_evidence(*, system: AISystem, subcategory: Subcategory) -> list[dict[str, Any]]:
    """What the system recorded on the crosswalked controls: status and evidence of each."""
    mapped = crosswalk_of(subcategory=subcategory)
    implementations = {
        impl.subcategory_id: impl
        for impl in ControlImplementation.objects.filter(
            system=system, subcategory__in=mapped
        ).prefetch_related(Prefetch("evidence", queryset=Evidence.objects.order_by("-added_at")))
    }
    rows = []
    for control in mapped:
        impl = implementations.get(control.pk)
        rows.append(
            {
                "control": control,
                "framework": control.category.function.framework.short_name,
                "status": impl.status if impl else ControlStatus.NOT_STARTED,
                "status_label": ControlStatus(
                    impl.status if impl else ControlStatus.NOT_STARTED
                ).label,
                "evidence": list(impl.evidence.all()) if impl else [],
            }
        )
    return rows


def ai_act_loaded() -> bool:
    return Framework.objects.filter(slug=AI_ACT).exists()


def ai_act_classification_for(*, system: AISystem) -> AIActClassification | None:
    return AIActClassification.objects.filter(system=system).first()


def frameworks_for(*, system: AISystem) -> list[Framework]:
    """The frameworks that apply to a system: every risk-tier framework, and each
    classification framework the system has been classified under."""
    frameworks = list(Framework.objects.order_by("-applicability", "name"))
    classified = AIActClassification.objects.filter(system=system).exists()
    return [
        f
        for f in frameworks
        if f.applicability == Applicability.RISK_TIER or (f.slug == AI_ACT and classified)
    ]


def ai_act_policy_facts(*, system: AISystem) -> dict[str, Any]:
    """The system's AI Act classification and the status of each obligation that binds it,
    for the policy input (two queries)."""
    classification = AIActClassification.objects.filter(system=system).first()
    if classification is None:
        return {"classified": False}
    rows = Subcategory.objects.filter(category__function__framework__slug=AI_ACT).values_list(
        "pk", "code", "applies_to"
    )
    binding = {
        pk: code for pk, code, applies in rows if obligation_applies(applies, classification)
    }
    statuses = dict(
        ControlImplementation.objects.filter(system=system, subcategory_id__in=binding).values_list(
            "subcategory_id", "status"
        )
    )
    return {
        "classified": True,
        "risk_class": classification.risk_class,
        "role": classification.role,
        "prohibited_practice": classification.prohibited_practice,
        "annex_iii_area": classification.annex_iii_area,
        "gpai_model": classification.gpai_model,
        "gpai_systemic_risk": classification.gpai_systemic_risk,
        "obligations": {
            code: statuses.get(pk, ControlStatus.NOT_STARTED) for pk, code in binding.items()
        },
    }


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
    """Whether the system must meet this control: by its tier (NIST AI RMF), or by its
    classification and role (EU AI Act)."""
    if subcategory.category.function.framework.applicability == Applicability.CLASSIFICATION:
        return obligation_applies(
            subcategory.applies_to, AIActClassification.objects.filter(system=system).first()
        )
    return TierRequirement.objects.filter(
        risk_tier=system.risk_tier, subcategory=subcategory
    ).exists()


def system_coverage(
    *, principal: Any, system: AISystem, framework: Framework | None = None
) -> SystemCoverage:
    if not has_perm(principal, Perm.CONTROLS_VIEW):
        raise PermissionError("controls.view required")
    return coverage_for([system], framework=framework)[system.pk]


def portfolio_coverage(
    *, principal: Any, framework: Framework | None = None
) -> list[SystemCoverage]:
    """Live systems, riskiest first and, within a tier, furthest from compliance first."""
    if not has_perm(principal, Perm.CONTROLS_VIEW):
        return []
    systems = list(ai_system_list(principal=principal))
    coverage = coverage_for(systems, framework=framework)
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
