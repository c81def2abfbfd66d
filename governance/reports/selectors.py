"""Reads for reports: the list and one report (permission-scoped), and the audit events a
report prints (shared by the size check at request time and the renderer)."""

from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from governance.accounts.permissions import Perm, has_perm
from governance.audit.models import AuditEvent
from governance.reports.models import Report

# Which audit targets belong to an AI system: (target type, how its id names the system).
# "{slug}" is the id itself; "{slug}@" and "{slug}:" are prefixes. Capabilities that audit
# objects of a system (approvals, incidents, kill switches) add their target types here.
SYSTEM_EVENT_TARGETS: list[tuple[str, str]] = [
    ("inventory.aisystem", "{slug}"),
    ("inventory.modelversion", "{slug}@"),
    ("controls.implementation", "{slug}:"),
]

# Filters an audit log report accepts, as the audit explorer reads them.
AUDIT_FILTERS = ("actor", "action", "target_type", "target_id")


def report_list(*, principal: Any) -> QuerySet[Report]:
    if not has_perm(principal, Perm.REPORTS_GENERATE):
        return Report.objects.none()
    return Report.objects.select_related("requested_by").order_by("-requested_at")


def report_get(*, principal: Any, public_id: Any) -> Report:
    return get_object_or_404(report_list(principal=principal), public_id=public_id)


def system_event_q(slug: str) -> Q:
    q = Q(pk__in=[])
    for target_type, pattern in SYSTEM_EVENT_TARGETS:
        value = pattern.format(slug=slug)
        if value == slug:
            q |= Q(target_type=target_type, target_id=value)
        else:
            q |= Q(target_type=target_type, target_id__startswith=value)
    # Release requests (and the approvals recorded on them) and kill switches are named by
    # their own ids, not the system's slug: look those ids up.
    from governance.releases.models import ReleaseRequest
    from governance.runtime.models import KillSwitch

    releases = [
        str(public_id)
        for public_id in ReleaseRequest.objects.filter(system__slug=slug).values_list(
            "public_id", flat=True
        )
    ]
    switches = list(KillSwitch.objects.filter(system__slug=slug).values_list("key", flat=True))
    q |= Q(target_type="releases.releaserequest", target_id__in=releases)
    q |= Q(target_type="incidents.killswitch", target_id__in=switches)
    return q


def report_events(
    *,
    since: datetime,
    until: datetime,
    system_slug: str | None = None,
    filters: dict[str, str] | None = None,
    up_to_sequence: int | None = None,
) -> QuerySet[AuditEvent]:
    """The events a report prints, oldest first."""
    events = AuditEvent.objects.filter(occurred_at__gte=since, occurred_at__lt=until)
    if system_slug:
        events = events.filter(system_event_q(system_slug))
    filters = filters or {}
    if filters.get("actor"):
        events = events.filter(actor_name__icontains=filters["actor"])
    if filters.get("action"):
        events = events.filter(action__startswith=filters["action"])
    if filters.get("target_type"):
        events = events.filter(target_type=filters["target_type"])
    if filters.get("target_id"):
        events = events.filter(target_id=filters["target_id"])
    if up_to_sequence is not None:
        events = events.filter(sequence__lte=up_to_sequence)
    return events.order_by("sequence")
