"""Reads of incidents and runbooks, scoped by permission."""

from datetime import timedelta
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from governance.accounts.permissions import Perm, has_perm
from governance.incidents.models import (
    OPEN_STATUSES,
    Incident,
    Runbook,
    RunbookRun,
    RunbookStep,
    SeverityLevel,
    StepExecution,
    TimelineEntry,
)
from governance.inventory.models import AISystem

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
