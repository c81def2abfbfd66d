"""Incidents in the period, the runbook steps run inside them, and kill switch flips."""

from typing import Any

from django.apps import apps
from django.db.models import Q

from governance.reports.sections.base import ReportScope, Section, SectionContent


def build(scope: ReportScope) -> SectionContent | None:
    if not apps.is_installed("governance.incidents"):
        return None
    from governance.incidents.models import Incident, IncidentStatus, StepExecution
    from governance.runtime.models import KillSwitchEvent

    # Open at any point of the period: opened before its end, not resolved before its start.
    incidents = (
        Incident.objects.filter(opened_at__lt=scope.until)
        .filter(Q(resolved_at__isnull=True) | Q(resolved_at__gte=scope.since))
        .select_related("severity", "commander")
        .prefetch_related("systems")
        .order_by("opened_at")
    )
    flips = KillSwitchEvent.objects.filter(
        occurred_at__gte=scope.since, occurred_at__lt=scope.until
    ).order_by("occurred_at")
    steps = (
        StepExecution.objects.filter(started_at__gte=scope.since, started_at__lt=scope.until)
        .select_related("step", "run__incident", "run__runbook")
        .order_by("started_at")
    )
    if scope.system is not None:
        incidents = incidents.filter(systems=scope.system)
        flips = flips.filter(system_slug=scope.system.slug)
        steps = steps.filter(run__runbook__system=scope.system)
    incidents, flips, steps = list(incidents), list(flips), list(steps)
    still_open = [
        i for i in incidents if i.status not in (IncidentStatus.RESOLVED, IncidentStatus.POSTMORTEM)
    ]
    context: dict[str, Any] = {
        "incidents": incidents,
        "flips": flips,
        "steps": steps,
        "per_system": scope.system is None,
    }
    engaged = sum(1 for f in flips if f.state == "engaged")
    return SectionContent(
        context=context,
        summary=[
            (
                "Incidents in the period",
                f"{len(incidents)} ({len(still_open)} open)" if incidents else "none",
            ),
            (
                "Kill switch flips",
                f"{len(flips)} ({engaged} engaged)" if flips else "none in the period",
            ),
        ],
        toc=[
            ("incidents-list", "Incidents"),
            ("incidents-runbooks", "Runbook steps"),
            ("incidents-kill-switches", "Kill switch flips"),
        ],
    )


SECTION = Section(
    key="incidents",
    title="Incidents, runbooks and kill switches",
    template="reports/print/sections/incidents.html",
    kinds=frozenset({"system", "portfolio", "ai_act"}),
    build=build,
)
