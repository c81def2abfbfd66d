"""Environment mapping: which product environment a Kubernetes namespace or a GitHub
environment name deploys to. Admins edit the table in the UI; every change has a reason and
an audit event. Reads are one indexed query, so a change is seen by the very next request."""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.urls import reverse

from governance.audit.services import Target, audit_record
from governance.core.actor import Actor
from governance.inventory.models import Environment
from governance.webhooks.models import EnvironmentMapping, MappingSource

NAME_MAX_CHARS = 253


@dataclass(frozen=True)
class Resolved:
    """A name's product environment ('' when unmapped) and whether it is a governed namespace."""

    environment: str
    governed: bool = False


def mapping_page_url() -> str:
    return reverse("gates:environments")


def environment_resolve(*, source: str, name: str) -> Resolved:
    """The mapping of ``name`` (case-insensitive); else, a product environment's own name
    (``Production`` is production); else unmapped."""
    key = name.strip().lower()
    if not key:
        return Resolved("")
    row = (
        EnvironmentMapping.objects.annotate(key=Lower("name"))
        .filter(source=source, key=key)
        .values_list("environment", "governed")
        .first()
    )
    if row is not None:
        return Resolved(row[0], row[1])
    return Resolved(key if key in Environment.values else "")


def unmapped_message(*, source: str, name: str) -> str:
    label = MappingSource(source).label
    return (
        f"{label} {name!r} is not mapped to an environment ({', '.join(Environment.values)}). "
        f"An admin maps it on the environment mapping page ({mapping_page_url()})."
    )


def _validate(source: str, name: str, environment: str, reason: str) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if source not in MappingSource.values:
        errors["source"] = [f"Choose from {', '.join(MappingSource.values)}."]
    if not name.strip() or len(name.strip()) > NAME_MAX_CHARS:
        errors["name"] = [f"Give a name of 1 to {NAME_MAX_CHARS} characters."]
    if environment not in Environment.values:
        errors["environment"] = [f"Choose from {', '.join(Environment.values)}."]
    if not reason.strip():
        errors["reason"] = ["Say why this mapping changes."]
    return errors


def environment_mapping_save(
    *,
    actor: Actor,
    source: str,
    name: str,
    environment: str,
    governed: bool = False,
    reason: str,
) -> EnvironmentMapping:
    """Map ``name`` (a new row, or the existing one with that name in any letter case)."""
    errors = _validate(source, name, environment, reason)
    if errors:
        raise ValidationError(errors)
    name = name.strip()
    governed = governed and source == MappingSource.NAMESPACE
    try:
        with transaction.atomic():
            mapping = (
                EnvironmentMapping.objects.select_for_update()
                .annotate(key=Lower("name"))
                .filter(source=source, key=name.lower())
                .first()
            )
            before = (
                None
                if mapping is None
                else {"environment": mapping.environment, "governed": mapping.governed}
            )
            if mapping is None:
                mapping = EnvironmentMapping(source=source, name=name)
            mapping.environment, mapping.governed = environment, governed
            mapping.updated_by = actor.label[:150]
            mapping.save()
            audit_record(
                actor=actor,
                action="webhooks.environment_mapping.saved",
                target=Target(type="webhooks.environmentmapping", id=f"{source}:{name.lower()}"),
                before=before,
                after={"name": name, "environment": environment, "governed": governed},
                reason=reason.strip(),
            )
    except IntegrityError:  # a concurrent save of the same name won the race
        raise ValidationError({"name": ["This name was just mapped; reload and retry."]}) from None
    return mapping


def environment_mapping_delete(*, actor: Actor, mapping: EnvironmentMapping, reason: str) -> None:
    if not reason.strip():
        raise ValidationError({"reason": ["Say why this mapping is removed."]})
    with transaction.atomic():
        mapping = EnvironmentMapping.objects.select_for_update().get(pk=mapping.pk)
        before = {"name": mapping.name, "environment": mapping.environment}
        key = f"{mapping.source}:{mapping.name.lower()}"
        mapping.delete()
        audit_record(
            actor=actor,
            action="webhooks.environment_mapping.deleted",
            target=Target(type="webhooks.environmentmapping", id=key),
            before=before,
            after=None,
            reason=reason.strip(),
        )
