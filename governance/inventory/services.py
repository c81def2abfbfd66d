"""Writes to the inventory (systems, datasets, model versions), each audited in its transaction."""

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from governance.accounts.models import User
from governance.audit.services import Target, audit_record
from governance.core.actor import Actor
from governance.core.errors import Conflict
from governance.inventory.models import (
    REQUIRED_METADATA,
    AISystem,
    DataCategory,
    Dataset,
    Environment,
    ModelVersion,
)

SYSTEM_FIELDS = (
    "name",
    "description",
    "owner",
    "technical_owner",
    "oncall_team",
    "risk_tier",
    "risk_rationale",
    "lifecycle_stage",
    "intended_use",
    "out_of_scope_uses",
    "data_categories",
    "deployment_environments",
    "is_genai",
    "tags",
)
DATASET_FIELDS = ("name", "source", "owner", "classification", "lineage_uri", "description")


def snapshot(obj: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """A JSON-friendly picture of ``fields`` for before/after in audit events."""
    out: dict[str, Any] = {}
    for name in fields:
        value = getattr(obj, name)
        if isinstance(value, User):
            value = value.username
        elif isinstance(value, models.Model):
            value = str(value)
        out[name] = value
    return out


def _check_choices(system: AISystem) -> None:
    errors = {}
    for field, choices in (
        ("data_categories", DataCategory.values),
        ("deployment_environments", Environment.values),
    ):
        values = getattr(system, field)
        if not isinstance(values, list) or not all(v in choices for v in values):
            errors[field] = [f"Choose from: {', '.join(choices)}."]
    if not isinstance(system.tags, list) or not all(isinstance(t, str) for t in system.tags):
        errors["tags"] = ["Tags are a list of strings."]
    if errors:
        raise ValidationError(errors)


def _audited_save(
    *, actor: Actor, obj: models.Model, action: str, fields: Iterable[str], before: Any, reason: str
) -> None:
    obj.save()
    audit_record(
        actor=actor,
        action=action,
        target=Target.of(obj, id_field="slug" if hasattr(obj, "slug") else "pk"),
        before=before,
        after=snapshot(obj, fields),
        reason=reason,
    )


def ai_system_create(
    *, actor: Actor, slug: str, name: str, owner: User, risk_tier: str, **fields: Any
) -> AISystem:
    unknown = set(fields) - set(SYSTEM_FIELDS)
    if unknown:
        raise TypeError(f"unknown AI system fields: {', '.join(sorted(unknown))}")
    system = AISystem(slug=slug, name=name, owner=owner, risk_tier=risk_tier, **fields)
    system.full_clean()
    _check_choices(system)
    with transaction.atomic():
        _audited_save(
            actor=actor,
            obj=system,
            action="inventory.system.created",
            fields=("slug", *SYSTEM_FIELDS),
            before=None,
            reason="",
        )
    return system


def _update(
    *,
    actor: Actor,
    obj: AISystem | Dataset,
    editable: tuple[str, ...],
    changes: dict[str, Any],
    reason: str,
    action: str,
) -> Any:
    """Apply ``changes`` under a row lock; audit before/after when anything changed."""
    unknown = set(changes) - set(editable)
    if unknown:
        raise TypeError(f"not editable: {', '.join(sorted(unknown))}")
    fields = ("slug", *editable)
    with transaction.atomic():
        obj = type(obj).objects.select_for_update().get(pk=obj.pk)
        if obj.archived_at is not None:
            raise Conflict(f"{obj.slug} is archived; it cannot be changed.")
        before = snapshot(obj, fields)
        for field, value in changes.items():
            setattr(obj, field, value)
        obj.full_clean()
        if isinstance(obj, AISystem):
            _check_choices(obj)
            tier_changed = before["risk_tier"] != obj.risk_tier
            if tier_changed and not reason.strip():
                raise ValidationError({"reason": ["Changing the risk tier needs a reason."]})
        if snapshot(obj, fields) == before:
            return obj
        _audited_save(
            actor=actor, obj=obj, action=action, fields=fields, before=before, reason=reason
        )
    return obj


def ai_system_update(
    *, actor: Actor, system: AISystem, reason: str = "", **changes: Any
) -> AISystem:
    return _update(
        actor=actor,
        obj=system,
        editable=SYSTEM_FIELDS,
        changes=changes,
        reason=reason,
        action="inventory.system.updated",
    )


def _archive(
    *, actor: Actor, obj: AISystem | Dataset | ModelVersion, action: str, reason: str
) -> Any:
    """Archive keeps the row and its history; it leaves lists and refuses further changes."""
    if not reason.strip():
        raise ValidationError({"reason": ["Archiving needs a reason."]})
    with transaction.atomic():
        obj = type(obj).objects.select_for_update().get(pk=obj.pk)
        if obj.archived_at is not None:
            raise Conflict(f"{obj} is already archived.")
        obj.archived_at = timezone.now()
        obj.save()
        audit_record(
            actor=actor,
            action=action,
            target=_version_target(obj)
            if isinstance(obj, ModelVersion)
            else Target.of(obj, id_field="slug"),
            before={"archived_at": None},
            after={"archived_at": obj.archived_at},
            reason=reason,
        )
    return obj


def ai_system_archive(*, actor: Actor, system: AISystem, reason: str) -> AISystem:
    return _archive(actor=actor, obj=system, action="inventory.system.archived", reason=reason)


def dataset_create(*, actor: Actor, slug: str, **fields: Any) -> Dataset:
    dataset = Dataset(slug=slug, **fields)
    dataset.full_clean()
    with transaction.atomic():
        _audited_save(
            actor=actor,
            obj=dataset,
            action="inventory.dataset.created",
            fields=("slug", *DATASET_FIELDS),
            before=None,
            reason="",
        )
    return dataset


def dataset_update(*, actor: Actor, dataset: Dataset, reason: str = "", **changes: Any) -> Dataset:
    return _update(
        actor=actor,
        obj=dataset,
        editable=DATASET_FIELDS,
        changes=changes,
        reason=reason,
        action="inventory.dataset.updated",
    )


def dataset_archive(*, actor: Actor, dataset: Dataset, reason: str) -> Dataset:
    return _archive(actor=actor, obj=dataset, action="inventory.dataset.archived", reason=reason)


VERSION_FIELDS = (
    "version",
    "framework",
    "framework_version",
    "artifact_uri",
    "artifact_format",
    "artifact_sha256",
    "code_commit_sha",
    "parameters",
    "evaluation",
    "inference_signature",
    "prompt_version",
    "tool_versions",
    "artifact",
)


def _missing_metadata(version: ModelVersion, datasets: list[Dataset]) -> list[str]:
    present = {
        "datasets": bool(datasets),
        "code_commit_sha": bool(version.code_commit_sha),
        "parameters": bool(version.parameters),
        "evaluation": bool(version.evaluation),
    }
    return [REQUIRED_METADATA[key] for key, ok in present.items() if not ok]


def _check_evaluation(evaluation: Any) -> None:
    if not isinstance(evaluation, list):
        raise ValidationError({"evaluation": ["A list of {metric, value, threshold, dataset}."]})
    for index, item in enumerate(evaluation):
        if not isinstance(item, dict) or not isinstance(item.get("metric"), str):
            raise ValidationError({"evaluation": [f"Item {index} needs a metric name."]})
        for key in ("value", "threshold"):
            if key in item and item[key] is not None and not isinstance(item[key], int | float):
                raise ValidationError({"evaluation": [f"Item {index}: {key} must be a number."]})


def model_version_register(
    *, actor: Actor, system: AISystem, datasets: Iterable[Dataset] = (), **fields: Any
) -> ModelVersion:
    """Register a version; one that misses part of the metadata contract is kept, but marked."""
    unknown = set(fields) - set(VERSION_FIELDS)
    if unknown:
        raise TypeError(f"unknown model version fields: {', '.join(sorted(unknown))}")
    if system.archived_at is not None:
        raise Conflict(f"{system.slug} is archived; register versions on a live system.")
    datasets = list(datasets)
    archived = [d.slug for d in datasets if d.archived_at is not None]
    if archived:
        raise ValidationError({"datasets": [f"Archived dataset(s): {', '.join(archived)}."]})
    version = ModelVersion(system=system, registered_by=actor.label, **fields)
    version.full_clean(exclude=["missing_metadata"])
    _check_evaluation(version.evaluation)
    version.missing_metadata = _missing_metadata(version, datasets)
    with transaction.atomic():
        version.save()
        version.datasets.set(datasets)
        audit_record(
            actor=actor,
            action="inventory.version.registered",
            target=_version_target(version),
            after={
                **snapshot(version, VERSION_FIELDS),
                "datasets": sorted(d.slug for d in datasets),
                "missing_metadata": version.missing_metadata,
            },
        )
    return version


def model_version_update(
    *,
    actor: Actor,
    version: ModelVersion,
    reason: str,
    datasets: Iterable[Dataset] | None = None,
    **changes: Any,
) -> ModelVersion:
    """Complete or correct a version's metadata (e.g. an evaluation that finished later); the
    version name and system stay fixed. Recomputes what the metadata contract still lacks."""
    unknown = set(changes) - (set(VERSION_FIELDS) - {"version"})
    if unknown:
        raise TypeError(f"not editable: {', '.join(sorted(unknown))}")
    if not reason.strip():
        raise ValidationError({"reason": ["Changing a registered version needs a reason."]})
    with transaction.atomic():
        version = (
            ModelVersion.objects.select_for_update().select_related("system").get(pk=version.pk)
        )
        if version.archived_at is not None:
            raise Conflict(f"{version} is archived; it cannot be changed.")
        current = list(version.datasets.all())
        before = {
            **snapshot(version, VERSION_FIELDS),
            "datasets": sorted(d.slug for d in current),
            "missing_metadata": version.missing_metadata,
        }
        for field, value in changes.items():
            setattr(version, field, value)
        new_datasets = list(datasets) if datasets is not None else current
        version.full_clean(exclude=["missing_metadata"])
        _check_evaluation(version.evaluation)
        version.missing_metadata = _missing_metadata(version, new_datasets)
        after = {
            **snapshot(version, VERSION_FIELDS),
            "datasets": sorted(d.slug for d in new_datasets),
            "missing_metadata": version.missing_metadata,
        }
        if after == before:
            return version
        version.save()
        version.datasets.set(new_datasets)
        audit_record(
            actor=actor,
            action="inventory.version.updated",
            target=_version_target(version),
            before=before,
            after=after,
            reason=reason,
        )
    return version


def model_version_archive(*, actor: Actor, version: ModelVersion, reason: str) -> ModelVersion:
    return _archive(actor=actor, obj=version, action="inventory.version.archived", reason=reason)


def _version_target(version: ModelVersion) -> Target:
    return Target(
        "inventory.modelversion", f"{version.system.slug}@{version.version}", str(version)
    )
