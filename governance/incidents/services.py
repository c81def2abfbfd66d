"""Every write to incidents and severity levels, audited in its own transaction (runbooks:
``runbooks.py``).

Refused attempts (no reason, a closed incident, a release without a second person...) change
nothing and are audited as ``...refused`` in a transaction of their own.
"""

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from governance.accounts.models import User
from governance.audit.refusals import guarded as _guarded
from governance.audit.refusals import require_reason as _require_reason
from governance.audit.services import Target, audit_record
from governance.core.actor import Actor
from governance.core.errors import Conflict
from governance.incidents.models import (
    Incident,
    IncidentStatus,
    SeverityLevel,
    TimelineEntry,
    TimelineKind,
)
from governance.incidents.timeline import timeline_add as _timeline
from governance.inventory.models import AISystem
from governance.runtime.models import KillSwitch

# --- Severity levels ------------------------------------------------------------------------

SEVERITY_FIELDS = ("name", "harm", "exposure", "scale", "response")


def _severity_snapshot(level: SeverityLevel) -> dict[str, Any]:
    return {"code": level.code, **{f: getattr(level, f) for f in SEVERITY_FIELDS}}


def severity_level_update(
    *, actor: Actor, level: SeverityLevel, reason: str, **changes: Any
) -> SeverityLevel:
    unknown = set(changes) - set(SEVERITY_FIELDS)
    if unknown:
        raise TypeError(f"not editable: {', '.join(sorted(unknown))}")

    def work() -> SeverityLevel:
        why = _require_reason(reason, "Changing a severity level")
        with transaction.atomic():
            locked = SeverityLevel.objects.select_for_update().get(pk=level.pk)
            before = _severity_snapshot(locked)
            for field, value in changes.items():
                setattr(locked, field, value)
            locked.full_clean()
            if _severity_snapshot(locked) == before:
                return locked
            locked.save()
            audit_record(
                actor=actor,
                action="incidents.severity.updated",
                target=Target.of(locked, id_field="code"),
                before=before,
                after=_severity_snapshot(locked),
                reason=why,
            )
            return locked

    return _guarded(
        actor=actor,
        action="incidents.severity.update_refused",
        target=Target.of(level, id_field="code"),
        reason=reason,
        work=work,
    )


# --- Incidents ------------------------------------------------------------------------------


def incident_target(incident: Incident) -> Target:
    return Target(type="incidents.incident", id=incident.ref, repr=str(incident)[:255])


def _incident_snapshot(incident: Incident) -> dict[str, Any]:
    return {
        "ref": incident.ref,
        "title": incident.title,
        "severity": incident.severity.code,
        "status": incident.status,
        "commander": incident.commander.username,
        "systems": sorted(s.slug for s in incident.systems.all()),
    }


def incident_open(
    *,
    actor: Actor,
    title: str,
    severity: SeverityLevel,
    systems: Iterable[AISystem],
    commander: User,
    summary: str = "",
) -> Incident:
    systems = list(systems)
    if not systems:
        raise ValidationError({"systems": ["Name at least one affected AI system."]})
    if not commander.is_active:
        raise ValidationError({"commander": ["The commander must be an active user."]})
    now = timezone.now()
    for _attempt in range(5):
        try:
            with transaction.atomic():
                number = (Incident.objects.aggregate(n=Max("number"))["n"] or 0) + 1
                incident = Incident(
                    number=number,
                    title=title,
                    summary=summary,
                    severity=severity,
                    commander=commander,
                    opened_by=actor.name[:150],
                    opened_at=now,
                )
                incident.full_clean(exclude=["number"])
                incident.save()
                incident.systems.set(systems)
                _timeline(
                    incident=incident,
                    kind=TimelineKind.OPENED,
                    message=f"Opened as {severity.code} by {actor.name}; commander "
                    f"{commander.username}.",
                    actor=actor,
                )
                audit_record(
                    actor=actor,
                    action="incidents.incident.opened",
                    target=incident_target(incident),
                    after=_incident_snapshot(incident),
                )
                return incident
        except IntegrityError:  # two incidents took the same number: take the next one
            continue
    raise Conflict("Could not number the incident; try again.")


def incident_locked(incident: Incident) -> Incident:
    return Incident.objects.select_for_update().select_related("severity").get(pk=incident.pk)


def incident_set_status(
    *, actor: Actor, incident: Incident, status: str, note: str = ""
) -> Incident:
    def work() -> Incident:
        if status not in IncidentStatus.values:
            raise ValidationError({"status": [f"Choose from: {', '.join(IncidentStatus.values)}."]})
        with transaction.atomic():
            locked = incident_locked(incident)
            if locked.status == status:
                raise Conflict(f"{locked.ref} is already {locked.get_status_display().lower()}.")
            before = locked.status
            now = timezone.now()
            locked.status = status
            if status == IncidentStatus.MITIGATED and locked.mitigated_at is None:
                locked.mitigated_at = now
            if status in (IncidentStatus.RESOLVED, IncidentStatus.POSTMORTEM):
                locked.mitigated_at = locked.mitigated_at or now
                locked.resolved_at = locked.resolved_at or now
            if status in (IncidentStatus.INVESTIGATING, IncidentStatus.IDENTIFIED):
                locked.resolved_at = None  # reopened
            locked.save()
            message = f"Status {before} → {status}."
            if note.strip():
                message += f" {note.strip()}"
            _timeline(incident=locked, kind=TimelineKind.STATUS, message=message, actor=actor)
            audit_record(
                actor=actor,
                action="incidents.incident.status_changed",
                target=incident_target(locked),
                before={"status": before},
                after={
                    "status": status,
                    "mitigated_at": locked.mitigated_at,
                    "resolved_at": locked.resolved_at,
                },
                reason=note,
            )
            return locked

    return _guarded(
        actor=actor,
        action="incidents.incident.status_refused",
        target=incident_target(incident),
        reason=note,
        work=work,
    )


def incident_set_severity(
    *, actor: Actor, incident: Incident, severity: SeverityLevel, reason: str
) -> Incident:
    def work() -> Incident:
        why = _require_reason(reason, "Changing the severity")
        with transaction.atomic():
            locked = incident_locked(incident)
            before = locked.severity.code
            if before == severity.code:
                raise Conflict(f"{locked.ref} is already {before}.")
            locked.severity = severity
            locked.save(update_fields=["severity", "updated_at"])
            _timeline(
                incident=locked,
                kind=TimelineKind.SEVERITY,
                message=f"Severity {before} → {severity.code}: {why}",
                actor=actor,
            )
            audit_record(
                actor=actor,
                action="incidents.incident.severity_changed",
                target=incident_target(locked),
                before={"severity": before},
                after={"severity": severity.code},
                reason=why,
            )
            return locked

    return _guarded(
        actor=actor,
        action="incidents.incident.severity_refused",
        target=incident_target(incident),
        reason=reason,
        work=work,
    )


def incident_add_note(*, actor: Actor, incident: Incident, message: str) -> TimelineEntry:
    def work() -> TimelineEntry:
        text = (message or "").strip()
        if not text:
            raise ValidationError({"message": ["A note needs some text."]})
        with transaction.atomic():
            locked = incident_locked(incident)
            entry = _timeline(incident=locked, kind=TimelineKind.NOTE, message=text, actor=actor)
            audit_record(
                actor=actor,
                action="incidents.incident.note_added",
                target=incident_target(locked),
                after={"note": text},
            )
            return entry

    return _guarded(
        actor=actor,
        action="incidents.incident.note_refused",
        target=incident_target(incident),
        reason="",
        work=work,
    )


def incident_record_postmortem(
    *, actor: Actor, incident: Incident, cause: str, impact: str, actions: str
) -> Incident:
    def work() -> Incident:
        errors = {
            name: ["Required for the postmortem."]
            for name, value in (("cause", cause), ("impact", impact), ("actions", actions))
            if not (value or "").strip()
        }
        if errors:
            raise ValidationError(errors)
        with transaction.atomic():
            locked = incident_locked(incident)
            if locked.is_open:
                raise Conflict(f"Resolve {locked.ref} before writing its postmortem.")
            before = {
                "cause": locked.postmortem_cause,
                "impact": locked.postmortem_impact,
                "actions": locked.postmortem_actions,
                "status": locked.status,
            }
            locked.postmortem_cause, locked.postmortem_impact = cause.strip(), impact.strip()
            locked.postmortem_actions = actions.strip()
            locked.status = IncidentStatus.POSTMORTEM
            locked.save()
            _timeline(
                incident=locked,
                kind=TimelineKind.POSTMORTEM,
                message="Postmortem recorded.",
                actor=actor,
            )
            audit_record(
                actor=actor,
                action="incidents.incident.postmortem_recorded",
                target=incident_target(locked),
                before=before,
                after={
                    "cause": locked.postmortem_cause,
                    "impact": locked.postmortem_impact,
                    "actions": locked.postmortem_actions,
                    "status": locked.status,
                },
            )
            return locked

    return _guarded(
        actor=actor,
        action="incidents.incident.postmortem_refused",
        target=incident_target(incident),
        reason="",
        work=work,
    )


def incident_deployment_refused(*, decision: Any) -> list[TimelineEntry]:
    """A policy decision refused a deployment because kill switches were engaged: say so on
    the timeline of each open incident those switches were engaged for."""
    keys = [ks["key"] for ks in decision.input.get("kill_switches", [])]
    switches = KillSwitch.objects.filter(key__in=keys, incident__isnull=False).select_related(
        "incident"
    )
    entries = []
    with transaction.atomic():
        for switch in switches:
            if switch.incident.status in (IncidentStatus.RESOLVED, IncidentStatus.POSTMORTEM):
                continue
            entries.append(
                _timeline(
                    incident=switch.incident,
                    kind=TimelineKind.DEPLOYMENT,
                    message=(
                        f"Deployment of {decision.system_slug}@{decision.model_version} to "
                        f"{decision.environment} refused by policy: kill switch {switch.key} "
                        "is engaged."
                    ),
                    actor=Actor(kind="system", id="policy", name=decision.caller),
                    data={"decision_id": str(decision.decision_id), "switch": switch.key},
                )
            )
    return entries
