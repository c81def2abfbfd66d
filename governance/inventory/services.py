"""Writes to the AI system inventory, each audited in the same transaction."""

from typing import Any

from django.db import transaction

from governance.accounts.models import User
from governance.audit.services import Target, audit_record
from governance.core.actor import Actor
from governance.inventory.models import AISystem

EDITABLE_FIELDS = ("name", "description", "owner", "risk_tier", "lifecycle_stage", "is_genai")


def _snapshot(system: AISystem) -> dict[str, Any]:
    return {
        "slug": system.slug,
        "name": system.name,
        "description": system.description,
        "owner": system.owner.username,
        "risk_tier": system.risk_tier,
        "lifecycle_stage": system.lifecycle_stage,
        "is_genai": system.is_genai,
    }


def ai_system_create(
    *,
    actor: Actor,
    slug: str,
    name: str,
    owner: User,
    risk_tier: str,
    lifecycle_stage: str = "design",
    description: str = "",
    is_genai: bool = False,
) -> AISystem:
    system = AISystem(
        slug=slug,
        name=name,
        owner=owner,
        risk_tier=risk_tier,
        lifecycle_stage=lifecycle_stage,
        description=description,
        is_genai=is_genai,
    )
    system.full_clean()
    with transaction.atomic():
        system.save()
        audit_record(
            actor=actor,
            action="inventory.system.created",
            target=Target.of(system, id_field="slug"),
            after=_snapshot(system),
        )
    return system


def ai_system_update(
    *, actor: Actor, system: AISystem, reason: str = "", **changes: Any
) -> AISystem:
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"not editable: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        system = AISystem.objects.select_for_update().select_related("owner").get(pk=system.pk)
        before = _snapshot(system)
        for field, value in changes.items():
            setattr(system, field, value)
        system.full_clean()
        after = _snapshot(system)
        if after == before:
            return system
        system.save()
        audit_record(
            actor=actor,
            action="inventory.system.updated",
            target=Target.of(system, id_field="slug"),
            before=before,
            after=after,
            reason=reason,
        )
    return system
