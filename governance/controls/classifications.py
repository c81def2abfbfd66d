"""Writes for the EU AI Act: a system's classification (with reasons) and admin edits of the
crosswalk. Each change is audited in its transaction."""

from dataclasses import asdict
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from governance.audit.services import Target, audit_record
from governance.controls.aiact import (
    ANNEX_III_AREAS,
    PROHIBITED_PRACTICES,
    TRANSPARENCY_SITUATIONS,
    Answers,
    obligation_applies,
    risk_class_for,
)
from governance.controls.models import (
    AIActClassification,
    AIActRole,
    Applicability,
    CrosswalkLink,
    Subcategory,
)
from governance.core.actor import Actor
from governance.core.errors import Conflict
from governance.inventory.models import AISystem


def _check_answers(answers: Answers, reasons: str) -> None:
    errors: dict[str, list[str]] = {}
    if answers.prohibited_practice and answers.prohibited_practice not in PROHIBITED_PRACTICES:
        errors["prohibited_practice"] = [
            f"Unknown Art. 5 practice {answers.prohibited_practice!r}; "
            f"choose one of {', '.join(PROHIBITED_PRACTICES)}."
        ]
    if answers.annex_iii_area and answers.annex_iii_area not in ANNEX_III_AREAS:
        errors["annex_iii_area"] = [
            f"Unknown Annex III area {answers.annex_iii_area!r}; "
            f"choose one of {', '.join(ANNEX_III_AREAS)}."
        ]
    unknown = sorted(set(answers.transparency) - set(TRANSPARENCY_SITUATIONS))
    if unknown:
        errors["transparency"] = [
            f"Unknown Art. 50 situation(s): {', '.join(unknown)}; "
            f"choose from {', '.join(TRANSPARENCY_SITUATIONS)}."
        ]
    if answers.role not in AIActRole.values:
        errors["role"] = [f"Choose a role: {', '.join(AIActRole.values)}."]
    if answers.gpai_systemic_risk and not answers.gpai_model:
        errors["gpai_systemic_risk"] = ["Systemic risk applies to general-purpose AI models only."]
    if not reasons.strip():
        errors["reasons"] = ["Give the reasons for this classification."]
    if errors:
        raise ValidationError(errors)


def _snapshot(classification: AIActClassification | None) -> dict[str, Any] | None:
    if classification is None:
        return None
    return {
        "risk_class": classification.risk_class,
        "role": classification.role,
        "prohibited_practice": classification.prohibited_practice,
        "annex_iii_area": classification.annex_iii_area,
        "annex_i_product": classification.annex_i_product,
        "transparency": list(classification.transparency),
        "gpai_model": classification.gpai_model,
        "gpai_systemic_risk": classification.gpai_systemic_risk,
        "public_service_deployer": classification.public_service_deployer,
    }


def applicable_obligations(classification: AIActClassification | None) -> list[str]:
    """The codes of the AI Act obligations that bind, in catalog order."""
    rows = Subcategory.objects.filter(
        category__function__framework__applicability=Applicability.CLASSIFICATION
    ).order_by("category__function__position", "category__position", "position")
    return [
        code
        for code, applies_to in rows.values_list("code", "applies_to")
        if obligation_applies(applies_to, classification)
    ]


def ai_act_classify(
    *, actor: Actor, system: AISystem, answers: Answers, reasons: str
) -> AIActClassification:
    """Record (or change) the system's classification; the risk class follows from the answers
    (Art. 5, then Art. 6 with Annex I or III, then Art. 50)."""
    _check_answers(answers, reasons)
    if system.archived_at is not None:
        raise Conflict(f"{system.slug} is archived; an archived system cannot be classified.")
    fields = asdict(answers)
    fields["transparency"] = sorted(set(answers.transparency))
    with transaction.atomic():
        current = AIActClassification.objects.select_for_update().filter(system=system).first()
        before = _snapshot(current)
        classification = current or AIActClassification(system=system)
        for name, value in fields.items():
            setattr(classification, name, value)
        classification.risk_class = risk_class_for(answers)
        classification.reasons = reasons.strip()
        classification.classified_by = actor.label
        classification.classified_at = timezone.now()
        classification.full_clean(exclude=["system"])
        classification.save()
        after = _snapshot(classification)
        audit_record(
            actor=actor,
            action="controls.ai_act.classified",
            target=Target("inventory.aisystem", system.slug, system.name),
            before=before,
            after={**after, "obligations": applicable_obligations(classification)},
            reason=classification.reasons,
        )
    return classification


def crosswalk_set(
    *, actor: Actor, source: Subcategory, target_codes: list[str], reason: str
) -> list[str]:
    """Replace the controls in other frameworks that ``source`` maps to, whichever side it is
    on (links are stored obligation -> NIST subcategory). Returns the new codes."""
    errors: dict[str, list[str]] = {}
    framework = source.category.function.framework
    targets = dict(
        Subcategory.objects.filter(code__in=target_codes)
        .exclude(category__function__framework=framework)
        .values_list("code", "pk")
    )
    unknown = sorted(set(target_codes) - set(targets))
    if unknown:
        errors["targets"] = [f"Unknown control id(s) in another framework: {', '.join(unknown)}."]
    if not reason.strip():
        errors["reason"] = ["Changing the crosswalk needs a reason."]
    if errors:
        raise ValidationError(errors)
    obligation_side = framework.applicability == Applicability.CLASSIFICATION
    with transaction.atomic():
        touching = CrosswalkLink.objects.select_for_update().filter(
            Q(source=source) | Q(target=source)
        )
        links = list(touching.select_related("source", "target"))
        other = {
            (link.target if link.source_id == source.pk else link.source).code: link
            for link in links
        }
        before, after = sorted(other), sorted(targets)
        if before == after:
            return after
        CrosswalkLink.objects.filter(
            pk__in=[link.pk for code, link in other.items() if code not in targets]
        ).delete()
        CrosswalkLink.objects.bulk_create(
            CrosswalkLink(source=source, target_id=pk)
            if obligation_side
            else CrosswalkLink(source_id=pk, target=source)
            for code, pk in targets.items()
            if code not in other
        )
        audit_record(
            actor=actor,
            action="controls.crosswalk.changed",
            target=Target("controls.subcategory", source.code, source.code),
            before={"maps_to": before},
            after={"maps_to": after},
            reason=reason.strip(),
        )
    return after
