"""Serious incidents under Art. 73 of the EU AI Act: marking an incident on a high-risk system
starts the reporting clock; submitting the report to the market surveillance authority stops
it. A late submission is allowed and flagged. Every change is audited and on the timeline."""

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from governance.audit.services import Target, audit_record
from governance.core.actor import Actor
from governance.core.errors import Conflict
from governance.incidents.models import (
    Incident,
    SeriousIncidentKind,
    SeriousIncidentReport,
    TimelineEntry,
    TimelineKind,
)
from governance.inventory.models import AISystem

# Art. 73(2), (3) and (4): at the latest this long after becoming aware.
REPORTING_DAYS = {
    SeriousIncidentKind.GENERAL: 15,
    SeriousIncidentKind.DEATH: 10,
    SeriousIncidentKind.WIDESPREAD: 2,
}


def reporting_deadline(kind: str, aware_at: datetime) -> datetime:
    return aware_at + timedelta(days=REPORTING_DAYS[SeriousIncidentKind(kind)])


def clock_text(deadline: datetime, now: datetime) -> str:
    """The reporting clock as a commander reads it: "8 days 23 h left", "overdue by 5 h"."""
    seconds = int((deadline - now).total_seconds())
    days, rest = divmod(abs(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    if days:
        text = f"{days} day{'s' if days != 1 else ''} {hours} h"
    else:
        text = f"{hours} h {rest // 60} min"
    return f"{text} left" if seconds >= 0 else f"overdue by {text}"


def _target(incident: Incident) -> Target:
    return Target("incidents.incident", incident.ref, f"{incident.ref} {incident.title}")


def _timeline(incident: Incident, actor: Actor, message: str, data: dict) -> None:
    TimelineEntry.objects.create(
        incident=incident,
        kind=TimelineKind.SERIOUS,
        message=message,
        actor_name=actor.name[:150],
        occurred_at=timezone.now(),
        data=data,
    )


def serious_incident_mark(
    *,
    actor: Actor,
    incident: Incident,
    system: AISystem,
    kind: str,
    aware_at: datetime,
    reason: str,
) -> SeriousIncidentReport:
    """Mark the incident serious for one of its high-risk systems and start the clock."""
    errors: dict[str, list[str]] = {}
    if kind not in SeriousIncidentKind.values:
        errors["kind"] = [f"Choose one of: {', '.join(SeriousIncidentKind.values)}."]
    if aware_at is None or timezone.is_naive(aware_at):
        errors["aware_at"] = ["Give the time the organisation became aware, with its time zone."]
    elif aware_at > timezone.now() + timedelta(minutes=5):
        errors["aware_at"] = ["Awareness cannot be in the future."]
    elif aware_at < incident.opened_at - timedelta(days=365):
        errors["aware_at"] = ["That is more than a year before the incident was opened."]
    if not reason.strip():
        errors["reason"] = ["Say why this is a serious incident (Art. 3(49))."]
    if not incident.systems.filter(pk=system.pk).exists():
        errors["system"] = [f"{system.slug} is not affected by {incident.ref}."]
    elif not AISystem.objects.filter(
        pk=system.pk, ai_act_classification__risk_class="high_risk"
    ).exists():
        errors["system"] = [
            f"{system.slug} is not classified high-risk under the EU AI Act; Art. 73 reporting "
            "applies to high-risk systems."
        ]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        locked = Incident.objects.select_for_update().get(pk=incident.pk)
        if SeriousIncidentReport.objects.filter(incident=locked).exists():
            raise Conflict(f"{incident.ref} is already marked as a serious incident.")
        report = SeriousIncidentReport.objects.create(
            incident=locked,
            system=system,
            kind=kind,
            aware_at=aware_at,
            deadline_at=reporting_deadline(kind, aware_at),
            reason=reason.strip(),
            marked_by=actor.label,
            marked_at=timezone.now(),
        )
        data = {
            "system": system.slug,
            "kind": kind,
            "aware_at": aware_at.isoformat(),
            "deadline_at": report.deadline_at.isoformat(),
        }
        _timeline(
            locked,
            actor,
            f"Marked a serious incident under Art. 73 of the EU AI Act ({system.slug}); "
            f"the report is due by {report.deadline_at:%Y-%m-%d %H:%M} UTC.",
            data,
        )
        audit_record(
            actor=actor,
            action="incidents.serious.marked",
            target=_target(locked),
            after=data,
            reason=report.reason,
        )
    return report


def serious_incident_report_submit(
    *,
    actor: Actor,
    report: SeriousIncidentReport,
    authority: str,
    reference: str,
    submitted_at: datetime | None = None,
) -> SeriousIncidentReport:
    """Record that the report reached the authority (who, when, their reference). After the
    deadline it is still recorded, and flagged late."""
    submitted_at = submitted_at or timezone.now()
    errors: dict[str, list[str]] = {}
    if not authority.strip():
        errors["authority"] = ["Name the market surveillance authority."]
    if not reference.strip():
        errors["reference"] = ["Give the authority's reference for the report."]
    if timezone.is_naive(submitted_at) or submitted_at > timezone.now() + timedelta(minutes=5):
        errors["submitted_at"] = ["Give when it was submitted (not in the future)."]
    elif submitted_at < report.marked_at - timedelta(days=30):
        errors["submitted_at"] = ["That is before the incident was marked serious."]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        locked = SeriousIncidentReport.objects.select_for_update().get(pk=report.pk)
        if locked.submitted_at is not None:
            raise Conflict(
                f"The report was already submitted on {locked.submitted_at:%Y-%m-%d %H:%M} UTC "
                f"(reference {locked.reference})."
            )
        locked.authority = authority.strip()
        locked.reference = reference.strip()
        locked.submitted_by = actor.label
        locked.submitted_at = submitted_at
        locked.save(update_fields=["authority", "reference", "submitted_by", "submitted_at"])
        late = locked.late
        data = {
            "authority": locked.authority,
            "reference": locked.reference,
            "submitted_at": submitted_at.isoformat(),
            "deadline_at": locked.deadline_at.isoformat(),
            "late": late,
        }
        incident = locked.incident
        _timeline(
            incident,
            actor,
            f"Serious incident report submitted to {locked.authority} (reference "
            f"{locked.reference}){' LATE: after the Art. 73 deadline' if late else ''}.",
            data,
        )
        audit_record(
            actor=actor,
            action="incidents.serious.reported",
            target=_target(incident),
            after=data,
        )
    return locked
