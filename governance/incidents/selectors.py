"""Reads of incidents, runbooks and kill switches, scoped by permission.

``kill_switches_engaged_for`` is the policy engine's input: deployments of a system with an
engaged switch that applies to them are refused.
"""

from datetime import UTC, timedelta
from typing import Any

from django.db.models import Max, Prefetch, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from governance.accounts.permissions import Perm, has_perm
from governance.incidents.models import (
    OPEN_STATUSES,
    Incident,
    KillSwitch,
    KillSwitchEvent,
    Runbook,
    RunbookRun,
    RunbookStep,
    SeverityLevel,
    StepExecution,
    SwitchScope,
    SwitchState,
    TimelineEntry,
)
from governance.inventory.models import AISystem

EVENT_BATCH = 500


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


# --- Severity, incidents --------------------------------------------------------------------


def severity_level_list() -> QuerySet[SeverityLevel]:
    """Not permission-scoped: the criteria are shown wherever severity is chosen."""
    return SeverityLevel.objects.order_by("rank")


def incident_list(*, principal: Any) -> QuerySet[Incident]:
    if not has_perm(principal, Perm.INCIDENTS_VIEW):
        return Incident.objects.none()
    return (
        Incident.objects.select_related("severity", "commander")
        .prefetch_related(Prefetch("systems", queryset=AISystem.objects.order_by("name")))
        .order_by("severity__rank", "-opened_at")
    )


def incident_get(*, principal: Any, number: int) -> Incident:
    return get_object_or_404(incident_list(principal=principal), number=number)


def incident_board(*, principal: Any) -> dict[str, list[Incident]]:
    """Incidents by status column, most severe first; closed ones from the last 30 days."""
    since = timezone.now() - timedelta(days=30)
    columns: dict[str, list[Incident]] = {
        "investigating": [],
        "identified": [],
        "mitigated": [],
        "closed": [],
    }
    for incident in incident_list(principal=principal):
        if incident.status in OPEN_STATUSES:
            columns[incident.status].append(incident)
        elif incident.resolved_at and incident.resolved_at >= since:
            columns["closed"].append(incident)
    return columns


def incident_timeline(*, incident: Incident) -> QuerySet[TimelineEntry]:
    return incident.timeline.order_by("-occurred_at", "-id")


def incident_runs(*, incident: Incident) -> list[RunbookRun]:
    return list(
        RunbookRun.objects.filter(incident=incident)
        .select_related("runbook")
        .prefetch_related(
            Prefetch(
                "executions",
                queryset=StepExecution.objects.select_related(
                    "step__kill_switch", "step__model_version"
                ).order_by("step__position"),
            )
        )
    )


def runbooks_for_incident(*, incident: Incident) -> QuerySet[Runbook]:
    """Runbooks of the affected systems that are not yet running in this incident."""
    return (
        Runbook.objects.filter(system__in=incident.systems.all())
        .exclude(runs__incident=incident)
        .select_related("system")
        .order_by("system__name", "name")
    )


# --- Runbooks -------------------------------------------------------------------------------


def runbook_list(*, principal: Any) -> QuerySet[Runbook]:
    if not has_perm(principal, Perm.INCIDENTS_VIEW):
        return Runbook.objects.none()
    return Runbook.objects.select_related("system").prefetch_related(
        Prefetch(
            "steps",
            queryset=RunbookStep.objects.select_related("kill_switch", "model_version").order_by(
                "position"
            ),
        )
    )


def runbook_get(*, principal: Any, slug: str) -> Runbook:
    return get_object_or_404(runbook_list(principal=principal), slug=slug)


def step_execution_get(*, principal: Any, incident: Incident, pk: int) -> StepExecution:
    executions = StepExecution.objects.select_related("run__incident", "run__runbook", "step")
    if not has_perm(principal, Perm.INCIDENTS_VIEW):
        executions = executions.none()
    return get_object_or_404(
        executions,
        pk=pk,
        run__incident=incident,
    )


# --- Kill switches --------------------------------------------------------------------------


def kill_switch_list(
    *, principal: Any, system: str | None = None, keys: list[str] | None = None
) -> QuerySet[KillSwitch]:
    if not has_perm(principal, Perm.KILLSWITCHES_READ):
        return KillSwitch.objects.none()
    switches = KillSwitch.objects.select_related("system", "incident").order_by("key")
    if system:
        switches = switches.filter(system__slug=system)
    if keys:
        switches = switches.filter(key__in=keys)
    return switches


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
    """The last event id, then the switches: a flip between the two reads is replayed after
    the snapshot (clients ignore versions they already have)."""
    from governance.incidents.services import kill_switch_representation

    last = KillSwitchEvent.objects.aggregate(m=Max("id"))["m"] or 0
    switches = kill_switch_list(principal=principal, system=system, keys=keys)
    return last, [kill_switch_representation(s) for s in switches]


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
