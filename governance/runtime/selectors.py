"""Reads of kill switches, scoped by permission.

``kill_switches_engaged_for`` is the policy engine's input: deployments of a system with an
engaged switch that applies to them are refused.
"""

from datetime import UTC
from typing import Any

from django.db.models import Max, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from governance.accounts.permissions import Perm, has_perm
from governance.inventory.models import AISystem
from governance.runtime.models import (
    KillSwitch,
    KillSwitchEvent,
    RuntimeControl,
    SwitchScope,
    SwitchState,
)

EVENT_BATCH = 500


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


# --- Kill switches --------------------------------------------------------------------------


def _readable(
    model: type[KillSwitch] | type[RuntimeControl],
    principal: Any,
    system: str | None,
    keys: list[str] | None,
) -> QuerySet[Any]:
    """Kill switches and runtime controls are read with the same permission (and token
    scope), and narrowed the same way: one system's, or some keys."""
    if not has_perm(principal, Perm.KILLSWITCHES_READ):
        return model.objects.none()
    rows = model.objects.select_related("system", "incident").order_by("key")
    if system:
        rows = rows.filter(system__slug=system)
    if keys:
        rows = rows.filter(key__in=keys)
    return rows


def kill_switch_list(
    *, principal: Any, system: str | None = None, keys: list[str] | None = None
) -> QuerySet[KillSwitch]:
    return _readable(KillSwitch, principal, system, keys)


def kill_switch_get(*, principal: Any, key: str) -> KillSwitch:
    return get_object_or_404(kill_switch_list(principal=principal), key=key)


def kill_switch_read(*, principal: Any, key: str) -> tuple[dict[str, Any], str]:
    """The hot read path for AI services: the materialised representation and its ETag."""
    switches = KillSwitch.objects.filter(key=key)
    if not has_perm(principal, Perm.KILLSWITCHES_READ):
        switches = switches.none()
    # No ordering (the model's orders by system name, a join): the key is unique.
    rows = list(switches.order_by().values_list("representation", "etag")[:1])
    if not rows:
        raise Http404("No such kill switch.")
    return rows[0]


def kill_switch_get_for_flip(*, principal: Any, key: str) -> KillSwitch:
    """Flipping implies seeing the switch, even for a token that may only flip."""
    switches = KillSwitch.objects.select_related("system", "incident")
    if not has_perm(principal, Perm.KILLSWITCHES_FLIP):
        switches = switches.none()
    return get_object_or_404(switches, key=key)


def kill_switches_of_systems(*, principal: Any, systems: list[AISystem]) -> QuerySet[KillSwitch]:
    return kill_switch_list(principal=principal).filter(system__in=systems)


def kill_switch_snapshot(
    *, principal: Any, system: str | None = None, keys: list[str] | None = None
) -> tuple[int, list[dict[str, Any]]]:
    """The last event id, then the switches and the runtime controls: a change between the two
    reads is replayed after the snapshot (clients ignore versions they already have)."""
    from governance.runtime.services import kill_switch_representation

    last = KillSwitchEvent.objects.aggregate(m=Max("id"))["m"] or 0
    switches = kill_switch_list(principal=principal, system=system, keys=keys)
    controls = runtime_control_list(principal=principal, system=system, keys=keys)
    return last, [kill_switch_representation(s) for s in switches] + [
        c.representation for c in controls
    ]


def runtime_control_list(
    *, principal: Any, system: str | None = None, keys: list[str] | None = None
) -> QuerySet[RuntimeControl]:
    return _readable(RuntimeControl, principal, system, keys)


def runtime_control_get(*, principal: Any, key: str) -> RuntimeControl:
    return get_object_or_404(runtime_control_list(principal=principal), key=key)


def runtime_control_get_for_set(*, principal: Any, key: str) -> RuntimeControl:
    """Setting implies seeing the control, even for a token that may only flip."""
    controls = RuntimeControl.objects.select_related("system", "incident")
    if not has_perm(principal, Perm.KILLSWITCHES_FLIP):
        controls = controls.none()
    return get_object_or_404(controls, key=key)


def runtime_control_read(*, principal: Any, key: str) -> tuple[dict[str, Any], str]:
    controls = RuntimeControl.objects.filter(key=key)
    if not has_perm(principal, Perm.KILLSWITCHES_READ):
        controls = controls.none()
    rows = list(controls.order_by().values_list("representation", "etag")[:1])
    if not rows:
        raise Http404("No such runtime control.")
    return rows[0]


def kill_switch_events_after(
    *,
    principal: Any,
    after_id: int,
    system: str | None = None,
    keys: list[str] | None = None,
) -> list[KillSwitchEvent]:
    if not has_perm(principal, Perm.KILLSWITCHES_READ):
        return []
    events = KillSwitchEvent.objects.filter(id__gt=after_id)
    if system:
        events = events.filter(system_slug=system)
    if keys:
        events = events.filter(key__in=keys)
    return list(events.order_by("id")[:EVENT_BATCH])


def kill_switches_engaged_for(*, system: AISystem | str, environment: str | None) -> list[dict]:
    """The engaged switches that apply to a deployment of ``system`` to ``environment``: the
    whole-system ones, those of that environment, and feature ones (a deployment ships every
    feature). For the policy engine's input; plain dicts, times in ISO 8601 UTC."""
    slug = system if isinstance(system, str) else system.slug
    switches = KillSwitch.objects.filter(system__slug=slug, state=SwitchState.ENGAGED).order_by(
        "key"
    )
    out = []
    for switch in switches:
        if switch.scope == SwitchScope.ENVIRONMENT and switch.environment != environment:
            continue
        out.append(
            {
                "key": switch.key,
                "scope": switch.scope,
                "environment": switch.environment or None,
                "feature": switch.feature or None,
                "reason": switch.reason,
                "engaged_at": _iso(switch.changed_at),
                "engaged_by": switch.changed_by,
            }
        )
    return out


def ofrep_flags(
    *,
    principal: Any,
    system: str | None = None,
    environment: str | None = None,
    keys: list[str] | None = None,
) -> list[tuple[str, dict[str, Any]]]:
    """(etag, representation) of every kill switch and control in scope, by key: two narrow
    queries of materialised rows. Items of another environment than the one asked for are out;
    whole-system ones are in."""
    if not has_perm(principal, Perm.KILLSWITCHES_READ):
        return []
    rows: list[tuple[str, str, dict[str, Any]]] = []
    for model in (KillSwitch, RuntimeControl):
        query = model.objects.order_by()
        if system:
            query = query.filter(system__slug=system)
        if keys:
            query = query.filter(key__in=keys)
        if environment:
            query = query.filter(environment__in=["", environment])
        rows.extend(query.values_list("key", "etag", "representation"))
    rows.sort(key=lambda row: row[0])
    return [(etag, representation) for _, etag, representation in rows]
