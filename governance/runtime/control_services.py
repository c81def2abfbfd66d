"""Every write to runtime controls, audited in the same transaction, published on commit.

A control only takes values its kind allows: prompt versions and model versions registered on
the system, the retrievers registered on the control, a boolean for routing to a person.
Refusals change nothing and are audited as ``runtime.control.…_refused``.
"""

import hashlib
import json
from datetime import UTC
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from governance.audit.refusals import guarded, require_reason
from governance.audit.services import Target, audit_record
from governance.core.actor import Actor
from governance.core.errors import Conflict
from governance.incidents.models import Incident, TimelineKind
from governance.incidents.timeline import IncidentClosed, timeline_add
from governance.inventory.models import AISystem
from governance.runtime.models import (
    ControlKind,
    KillSwitch,
    KillSwitchEvent,
    RuntimeControl,
    ValueType,
)
from governance.runtime.streaming import publish_flip_on_commit

# The value type each kind implies; a custom control names its own.
KIND_TYPES = {
    ControlKind.PROMPT_VERSION: ValueType.STRING,
    ControlKind.RETRIEVER: ValueType.STRING,
    ControlKind.MODEL: ValueType.STRING,
    ControlKind.ROUTE_TO_HUMAN: ValueType.BOOLEAN,
}


def control_target(control: RuntimeControl) -> Target:
    return Target(type="runtime.control", id=control.key, repr=control.key)


def _iso(value: Any) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


def runtime_control_representation(control: RuntimeControl) -> dict[str, Any]:
    """The control as AI services see it: API bodies, stream events, OFREP and the ETag."""
    return {
        "key": control.key,
        "system": control.system.slug,
        "kind": control.kind,
        "type": control.value_type,
        "environment": control.environment or None,
        "feature": control.feature or None,
        "value": control.value,
        "safe_value": control.safe_value,
        "version": control.version,
        "reason": control.reason,
        "changed_by": control.changed_by,
        "changed_at": _iso(control.changed_at),
        "incident": control.incident.ref if control.incident_id else None,
    }


def _materialize(control: RuntimeControl) -> None:
    control.representation = runtime_control_representation(control)
    canonical = json.dumps(control.representation, sort_keys=True, separators=(",", ":"))
    control.etag = '"' + hashlib.sha256(canonical.encode()).hexdigest()[:32] + '"'


def _type_ok(value: Any, value_type: str) -> bool:
    if value_type == ValueType.BOOLEAN:
        return isinstance(value, bool)
    if value_type == ValueType.STRING:
        return isinstance(value, str) and value != ""
    if value_type == ValueType.NUMBER:
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, dict)


def allowed_values(control: RuntimeControl) -> list[Any] | None:
    """The values the control's kind allows, or None when any value of its type goes."""
    versions = control.system.versions.filter(archived_at__isnull=True)
    if control.kind == ControlKind.PROMPT_VERSION:
        return sorted({p for p in versions.values_list("prompt_version", flat=True) if p})
    if control.kind == ControlKind.MODEL:
        return sorted(versions.values_list("version", flat=True))
    if control.kind == ControlKind.RETRIEVER:
        return list(control.choices)
    return None


def check_value(control: RuntimeControl, field: str, value: Any) -> None:
    if not _type_ok(value, control.value_type):
        raise ValidationError({field: [f"Must be a {control.value_type} value."]})
    allowed = allowed_values(control)
    if allowed is not None and value not in allowed:
        shown = ", ".join(map(str, allowed)) or "none registered"
        what = control.get_kind_display().lower()
        raise ValidationError({field: [f"{value!r} is not a registered {what} ({shown})."]})


def runtime_control_create(
    *,
    actor: Actor,
    key: str,
    system: AISystem,
    kind: str,
    value: Any,
    safe_value: Any,
    value_type: str = "",
    environment: str = "",
    feature: str = "",
    choices: list[str] | None = None,
    description: str = "",
) -> RuntimeControl:
    if kind not in ControlKind.values:
        raise ValidationError({"kind": [f"Choose from: {', '.join(ControlKind.values)}."]})
    implied = KIND_TYPES.get(kind)
    if implied and value_type and value_type != implied:
        raise ValidationError({"type": [f"A {kind} control is a {implied}."]})
    control = RuntimeControl(
        key=key,
        system=system,
        kind=kind,
        value_type=implied or value_type,
        value=value,
        safe_value=safe_value,
        environment=environment,
        feature=feature.strip(),
        choices=[c for c in (choices or []) if isinstance(c, str) and c.strip()],
        description=description,
    )
    control.full_clean(exclude=["value", "safe_value", "choices"])
    if system.archived_at is not None:
        raise Conflict(f"{system.slug} is archived; it gets no new runtime controls.")
    if KillSwitch.objects.filter(key=key).exists():
        raise ValidationError({"key": ["A kill switch has this key (they share one namespace)."]})
    if kind == ControlKind.RETRIEVER and not control.choices:
        raise ValidationError({"choices": ["Register the retrievers this control may name."]})
    check_value(control, "value", value)
    check_value(control, "safe_value", safe_value)
    _materialize(control)
    with transaction.atomic():
        control.save()
        audit_record(
            actor=actor,
            action="runtime.control.created",
            target=control_target(control),
            after={**runtime_control_representation(control), "choices": control.choices},
        )
    return control


def runtime_control_set(
    *,
    actor: Actor,
    control: RuntimeControl,
    value: Any,
    reason: str,
    incident: Incident | None = None,
) -> RuntimeControl:
    """Give the control a new value now, with a reason; lands on the incident's timeline when
    made for one, and reaches the streams on commit."""

    def work() -> RuntimeControl:
        why = require_reason(reason, "Changing a runtime control")
        with transaction.atomic():
            locked = (
                RuntimeControl.objects.select_for_update(of=("self",))
                .select_related("system", "incident")
                .get(pk=control.pk)
            )
            check_value(locked, "value", value)
            if locked.value == value:
                raise Conflict(f"{locked.key} is already {value!r}.")
            current = Incident.objects.get(pk=incident.pk) if incident is not None else None
            if current is not None and not current.is_open:
                raise IncidentClosed(f"{current.ref} is {current.status}; reopen it first.")
            before = runtime_control_representation(locked)
            locked.value = value
            locked.reason, locked.changed_by = why, actor.name[:150]
            locked.changed_at = timezone.now()
            locked.version += 1
            locked.incident = current
            _materialize(locked)
            locked.save()
            # As for kill switches: the audit append holds the chain head until commit, so
            # event ids are in commit order.
            audit_record(
                actor=actor,
                action="runtime.control.set",
                target=control_target(locked),
                before=before,
                after=runtime_control_representation(locked),
                reason=why,
            )
            event = KillSwitchEvent.objects.create(
                control=locked,
                key=locked.key,
                system_slug=locked.system.slug,
                state="",
                version=locked.version,
                payload=locked.representation,
                occurred_at=locked.changed_at,
            )
            if current is not None:
                timeline_add(
                    incident=current,
                    kind=TimelineKind.CONTROL,
                    message=f"Runtime control {locked.key}: {before['value']!r} → {value!r}: {why}",
                    actor=actor,
                    data={"key": locked.key, "value": value, "event_id": event.pk},
                )
            publish_flip_on_commit(event)
            return locked

    return guarded(
        actor=actor,
        action="runtime.control.set_refused",
        target=control_target(control),
        reason=reason,
        work=work,
    )
