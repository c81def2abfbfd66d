"""Every write to incidents, runbooks and kill switches, audited in its own transaction.

Refused attempts (no reason, a closed incident, a release without a second person...) change
nothing and are audited as ``...refused`` in a transaction of their own.
"""

import hashlib
import json
from collections.abc import Callable, Iterable
from datetime import UTC
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from governance.accounts.models import User
from governance.audit.services import Target, audit_record
from governance.core.actor import Actor
from governance.core.errors import Conflict, DomainError
from governance.incidents.models import (
    Incident,
    IncidentStatus,
    KillSwitch,
    KillSwitchEvent,
    Runbook,
    RunbookRun,
    RunbookStep,
    SeverityLevel,
    StepAction,
    StepExecution,
    StepStatus,
    SwitchScope,
    SwitchState,
    TimelineEntry,
    TimelineKind,
)
from governance.incidents.outbound import webhook_post
from governance.inventory.models import AISystem, ModelVersion
from governance.webhooks.signatures import SignatureInvalid, standard_webhooks_sign


class SecondPersonRequired(Conflict):
    code = "second-person-required"
    title = "A second person must confirm"


class IncidentClosed(Conflict):
    code = "incident-closed"
    title = "The incident is closed"


def _require_reason(reason: str, what: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [f"{what} needs a reason."]})
    return reason


def _refusal_detail(exc: Exception) -> str:
    if isinstance(exc, DomainError):
        return exc.detail
    if isinstance(exc, ValidationError):
        return "; ".join(exc.messages)
    return str(exc)


def _refused(
    *, actor: Actor, action: str, target: Target | None, reason: str, exc: Exception
) -> None:
    """Record a refused attempt. Inside an outer transaction (an Idempotency-Key request) the
    interface answers with a problem response instead of raising, so the event commits."""
    with transaction.atomic():
        audit_record(
            actor=actor,
            action=action,
            target=target,
            after={"refused": _refusal_detail(exc)},
            reason=reason or "",
        )


def _guarded(
    *, actor: Actor, action: str, target: Target | None, reason: str, work: Callable[[], Any]
) -> Any:
    try:
        return work()
    except (DomainError, ValidationError) as exc:
        _refused(actor=actor, action=action, target=target, reason=reason, exc=exc)
        raise


def _timeline(
    *,
    incident: Incident,
    kind: str,
    message: str,
    actor: Actor,
    data: dict[str, Any] | None = None,
) -> TimelineEntry:
    return TimelineEntry.objects.create(
        incident=incident,
        kind=kind,
        message=message,
        actor_name=actor.name[:150],
        occurred_at=timezone.now(),
        data=data or {},
    )


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


def _locked_incident(incident: Incident) -> Incident:
    return Incident.objects.select_for_update().select_related("severity").get(pk=incident.pk)


def incident_set_status(
    *, actor: Actor, incident: Incident, status: str, note: str = ""
) -> Incident:
    def work() -> Incident:
        if status not in IncidentStatus.values:
            raise ValidationError({"status": [f"Choose from: {', '.join(IncidentStatus.values)}."]})
        with transaction.atomic():
            locked = _locked_incident(incident)
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
            locked = _locked_incident(incident)
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
            locked = _locked_incident(incident)
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
            locked = _locked_incident(incident)
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


# --- Kill switches --------------------------------------------------------------------------


def kill_switch_representation(switch: KillSwitch) -> dict[str, Any]:
    """The switch as AI services see it: API bodies, stream events and the ETag all use this."""
    return {
        "key": switch.key,
        "system": switch.system.slug,
        "scope": switch.scope,
        "environment": switch.environment or None,
        "feature": switch.feature or None,
        "state": switch.state,
        "safe_state": switch.safe_state,
        "version": switch.version,
        "reason": switch.reason,
        "changed_by": switch.changed_by,
        "changed_at": switch.changed_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
        if switch.changed_at
        else None,
        "incident": switch.incident.ref if switch.incident_id else None,
        "release_pending": switch.release_pending,
    }


def _materialize(switch: KillSwitch) -> None:
    """Store what readers get and its strong ETag; every write calls this before save()."""
    switch.representation = kill_switch_representation(switch)
    canonical = json.dumps(switch.representation, sort_keys=True, separators=(",", ":"))
    switch.etag = '"' + hashlib.sha256(canonical.encode()).hexdigest()[:32] + '"'


def kill_switch_target(switch: KillSwitch) -> Target:
    return Target(type="incidents.killswitch", id=switch.key, repr=switch.key)


def kill_switch_create(
    *,
    actor: Actor,
    key: str,
    system: AISystem,
    scope: str,
    environment: str = "",
    feature: str = "",
    safe_state: str = SwitchState.ENGAGED,
    description: str = "",
) -> KillSwitch:
    switch = KillSwitch(
        key=key,
        system=system,
        scope=scope,
        environment=environment if scope == SwitchScope.ENVIRONMENT else "",
        feature=feature.strip() if scope == SwitchScope.FEATURE else "",
        safe_state=safe_state,
        description=description,
    )
    switch.full_clean()
    if system.archived_at is not None:
        raise ValidationError({"system": ["The system is archived."]})
    _materialize(switch)
    with transaction.atomic():
        switch.save()
        audit_record(
            actor=actor,
            action="incidents.killswitch.created",
            target=kill_switch_target(switch),
            after=kill_switch_representation(switch),
        )
    return switch


def _flip_event(switch: KillSwitch) -> KillSwitchEvent:
    return KillSwitchEvent.objects.create(
        switch=switch,
        key=switch.key,
        system_slug=switch.system.slug,
        state=switch.state,
        version=switch.version,
        payload=kill_switch_representation(switch),
        occurred_at=switch.changed_at,
    )


def _publish_on_commit(event: KillSwitchEvent) -> None:
    from governance.incidents.streaming import publish_flip

    event_id, system_slug = event.pk, event.system_slug
    transaction.on_commit(lambda: publish_flip(event_id=event_id, system_slug=system_slug))


def _lock_switch(switch: KillSwitch) -> KillSwitch:
    return (
        KillSwitch.objects.select_for_update(of=("self",))
        .select_related("system", "incident__severity")
        .get(pk=switch.pk)
    )


def _flip(
    *,
    actor: Actor,
    switch: KillSwitch,
    state: str,
    why: str,
    action: str,
    timeline: str,
    before: dict[str, Any],
    extra_after: dict[str, Any] | None = None,
) -> KillSwitch:
    """Apply one flip to a locked switch: state, audit event, stream event, incident timeline,
    and the publish after commit. Engage and release differ only in what leads up to it."""
    switch.state = state
    switch.reason, switch.changed_by = why, actor.name[:150]
    switch.changed_at = timezone.now()
    switch.version += 1
    _clear_release_request(switch)
    _materialize(switch)
    switch.save()
    # The audit append locks the chain head until commit, so the event id taken below is in
    # commit order: a stream that has seen id N has seen every flip before it.
    audit_record(
        actor=actor,
        action=action,
        target=kill_switch_target(switch),
        before=before,
        after={**kill_switch_representation(switch), **(extra_after or {})},
        reason=why,
    )
    event = _flip_event(switch)
    if switch.incident is not None:
        _timeline(
            incident=switch.incident,
            kind=TimelineKind.KILL_SWITCH,
            message=timeline,
            actor=actor,
            data={"key": switch.key, "state": switch.state, "event_id": event.pk},
        )
    _publish_on_commit(event)
    return switch


def kill_switch_engage(
    *, actor: Actor, switch: KillSwitch, reason: str, incident: Incident | None = None
) -> KillSwitch:
    """Engage at once (no approval: minutes matter). Lands on the incident's timeline."""

    def work() -> KillSwitch:
        why = _require_reason(reason, "Engaging a kill switch")
        with transaction.atomic():
            locked = _lock_switch(switch)
            if locked.is_engaged:
                raise Conflict(
                    f"{locked.key} is already engaged (by {locked.changed_by} at "
                    f"{locked.changed_at:%Y-%m-%d %H:%M:%S} UTC)."
                )
            current = Incident.objects.get(pk=incident.pk) if incident is not None else None
            if current is not None and not current.is_open:
                raise IncidentClosed(f"{current.ref} is {current.status}; reopen it first.")
            before = kill_switch_representation(locked)
            locked.incident = incident
            return _flip(
                actor=actor,
                switch=locked,
                state=SwitchState.ENGAGED,
                why=why,
                action="incidents.killswitch.engaged",
                timeline=f"Kill switch {locked.key} ENGAGED: {why}",
                before=before,
            )

    return _guarded(
        actor=actor,
        action="incidents.killswitch.engage_refused",
        target=kill_switch_target(switch),
        reason=reason,
        work=work,
    )


def _clear_release_request(switch: KillSwitch) -> None:
    switch.release_requested_by = switch.release_requested_by_id = ""
    switch.release_requested_at = None
    switch.release_request_reason = ""


def kill_switch_release(*, actor: Actor, switch: KillSwitch, reason: str) -> KillSwitch:
    """Release the switch. Tied to a SEV1 or SEV2 incident it takes two people: the first call
    records a release request (the switch stays engaged), a different person's call releases.
    Check ``release_pending`` on the returned switch."""

    def work() -> KillSwitch:
        why = _require_reason(reason, "Releasing a kill switch")
        with transaction.atomic():
            locked = _lock_switch(switch)
            if not locked.is_engaged:
                raise Conflict(f"{locked.key} is not engaged.")
            before = kill_switch_representation(locked)
            incident = locked.incident
            who = f"{actor.kind}:{actor.id}"
            if incident is not None and incident.severity.needs_second_person:
                if not locked.release_pending:
                    return _request_release(actor=actor, switch=locked, reason=why, before=before)
                if locked.release_requested_by_id == who:
                    raise SecondPersonRequired(
                        f"{locked.key} is tied to {incident.ref} ({incident.severity.code}): "
                        f"a second person must confirm the release you requested."
                    )
                if actor.kind != "user":
                    raise SecondPersonRequired(
                        f"{locked.key} is tied to {incident.ref} ({incident.severity.code}): "
                        "the second person confirming a release must be a person, not a token."
                    )
            requested_by = locked.release_requested_by
            confirmed = f" (requested by {requested_by})" if requested_by else ""
            return _flip(
                actor=actor,
                switch=locked,
                state=SwitchState.RELEASED,
                why=why,
                action="incidents.killswitch.released",
                timeline=f"Kill switch {locked.key} released{confirmed}: {why}",
                before=before,
                extra_after={"release_requested_by": requested_by or None},
            )

    return _guarded(
        actor=actor,
        action="incidents.killswitch.release_refused",
        target=kill_switch_target(switch),
        reason=reason,
        work=work,
    )


def _request_release(
    *, actor: Actor, switch: KillSwitch, reason: str, before: dict[str, Any]
) -> KillSwitch:
    switch.release_requested_by = actor.name[:150]
    switch.release_requested_by_id = f"{actor.kind}:{actor.id}"[:64]
    switch.release_requested_at = timezone.now()
    switch.release_request_reason = reason
    switch.version += 1
    _materialize(switch)
    switch.save()
    audit_record(
        actor=actor,
        action="incidents.killswitch.release_requested",
        target=kill_switch_target(switch),
        before=before,
        after=kill_switch_representation(switch),
        reason=reason,
    )
    _timeline(
        incident=switch.incident,
        kind=TimelineKind.KILL_SWITCH,
        message=f"Release of {switch.key} requested ({reason}); a second person must confirm.",
        actor=actor,
        data={"key": switch.key, "release_requested": True},
    )
    return switch


# --- Runbooks -------------------------------------------------------------------------------


def runbook_target(runbook: Runbook) -> Target:
    return Target.of(runbook, id_field="slug")


def _step_snapshot(step: RunbookStep) -> dict[str, Any]:
    return {
        "position": step.position,
        "title": step.title,
        "action": step.action,
        "kill_switch": step.kill_switch.key if step.kill_switch_id else None,
        "model_version": step.model_version.version if step.model_version_id else None,
        "webhook_url": step.webhook_url or None,
    }


def runbook_create(
    *,
    actor: Actor,
    system: AISystem,
    slug: str,
    name: str,
    description: str = "",
    template: str = "",
) -> Runbook:
    runbook = Runbook(
        slug=slug, system=system, name=name, description=description, template=template
    )
    runbook.full_clean()
    with transaction.atomic():
        runbook.save()
        audit_record(
            actor=actor,
            action="incidents.runbook.created",
            target=runbook_target(runbook),
            after={"slug": slug, "system": system.slug, "name": name, "template": template},
        )
    return runbook


def _check_step(runbook: Runbook, step: RunbookStep) -> None:
    errors: dict[str, list[str]] = {}
    if step.action == StepAction.ENGAGE_KILL_SWITCH:
        if step.kill_switch is None:
            errors["kill_switch"] = ["Name the kill switch this step engages."]
        elif step.kill_switch.system_id != runbook.system_id:
            errors["kill_switch"] = ["The kill switch belongs to another system."]
    if step.action == StepAction.ROLLBACK:
        if step.model_version is None:
            errors["model_version"] = ["Name the model version to roll back to."]
        elif step.model_version.system_id != runbook.system_id:
            errors["model_version"] = ["That model version belongs to another system."]
    if step.action == StepAction.WEBHOOK:
        if not step.webhook_url:
            errors["webhook_url"] = ["Give the URL to call."]
        try:
            standard_webhooks_sign(step.webhook_secret, "check", 0, b"")
        except SignatureInvalid:
            errors["webhook_secret"] = ["Give the Standard Webhooks secret (whsec_ + base64)."]
    if step.action != StepAction.ENGAGE_KILL_SWITCH:
        step.kill_switch = None
    if step.action != StepAction.ROLLBACK:
        step.model_version = None
    if step.action != StepAction.WEBHOOK:
        step.webhook_url = step.webhook_secret = ""
    if errors:
        raise ValidationError(errors)


def runbook_step_add(
    *,
    actor: Actor,
    runbook: Runbook,
    title: str,
    instructions: str = "",
    action: str = StepAction.NONE,
    kill_switch: KillSwitch | None = None,
    model_version: ModelVersion | None = None,
    webhook_url: str = "",
    webhook_secret: str = "",
) -> RunbookStep:
    with transaction.atomic():
        locked = Runbook.objects.select_for_update().get(pk=runbook.pk)
        position = (locked.steps.aggregate(p=Max("position"))["p"] or 0) + 1
        step = RunbookStep(
            runbook=locked,
            position=position,
            title=title,
            instructions=instructions,
            action=action,
            kill_switch=kill_switch,
            model_version=model_version,
            webhook_url=webhook_url,
            webhook_secret=webhook_secret,
        )
        _check_step(locked, step)
        step.full_clean()
        step.save()
        audit_record(
            actor=actor,
            action="incidents.runbook.step_added",
            target=runbook_target(locked),
            after=_step_snapshot(step),
        )
    return step


def runbook_start(*, actor: Actor, incident: Incident, runbook: Runbook) -> RunbookRun:
    """Follow a runbook inside an incident: every step gets a checklist line."""

    def work() -> RunbookRun:
        with transaction.atomic():
            locked = _locked_incident(incident)
            if not locked.is_open:
                raise IncidentClosed(f"{locked.ref} is {locked.status}; reopen it first.")
            if RunbookRun.objects.filter(incident=locked, runbook=runbook).exists():
                raise Conflict(f"{runbook.name} is already running in {locked.ref}.")
            run = RunbookRun.objects.create(
                incident=locked,
                runbook=runbook,
                started_by=actor.name[:150],
                started_at=timezone.now(),
            )
            StepExecution.objects.bulk_create(
                StepExecution(run=run, step=step) for step in runbook.steps.all()
            )
            _timeline(
                incident=locked,
                kind=TimelineKind.RUNBOOK,
                message=f"Runbook {runbook.name} started.",
                actor=actor,
                data={"runbook": runbook.slug},
            )
            audit_record(
                actor=actor,
                action="incidents.runbook.started",
                target=incident_target(locked),
                after={"runbook": runbook.slug},
            )
            return run

    return _guarded(
        actor=actor,
        action="incidents.runbook.start_refused",
        target=incident_target(incident),
        reason="",
        work=work,
    )


def _execution_target(execution: StepExecution) -> Target:
    run = execution.run
    return Target(
        type="incidents.stepexecution",
        id=str(execution.pk),
        repr=f"{run.incident.ref} {run.runbook.slug} step {execution.step.position}",
    )


def runbook_step_perform(
    *, actor: Actor, execution: StepExecution, outcome: str = "", skip: bool = False
) -> StepExecution:
    """A person ticks a step. Manual steps are done (or skipped) with their outcome; automated
    steps are queued for a Celery worker, which records their result."""

    def work() -> StepExecution:
        with transaction.atomic():
            locked = (
                StepExecution.objects.select_for_update(of=("self",))
                .select_related("run__incident", "run__runbook", "step")
                .get(pk=execution.pk)
            )
            incident = _locked_incident(locked.run.incident)
            if not incident.is_open:
                raise IncidentClosed(f"{incident.ref} is {incident.status}; its runbook is closed.")
            if locked.status not in (StepStatus.PENDING, StepStatus.FAILED):
                raise Conflict(f"Step {locked.step.position} is already {locked.status}.")
            step, now = locked.step, timezone.now()
            locked.performed_by, locked.started_at = actor.name[:150], now
            if skip:
                locked.status, locked.finished_at = StepStatus.SKIPPED, now
                locked.outcome = outcome.strip() or "Skipped."
            elif step.action:
                locked.status, locked.finished_at = StepStatus.QUEUED, None
                locked.outcome = "Queued for the worker."
            else:
                locked.status, locked.finished_at = StepStatus.DONE, now
                locked.outcome = outcome.strip() or "Done."
            locked.save()
            _timeline(
                incident=incident,
                kind=TimelineKind.RUNBOOK,
                message=f"{locked.run.runbook.name} · step {step.position} “{step.title}”: "
                f"{locked.get_status_display().lower()}. {locked.outcome}",
                actor=actor,
                data={"execution": locked.pk, "status": locked.status},
            )
            audit_record(
                actor=actor,
                action=f"incidents.runbook.step_{locked.status}",
                target=_execution_target(locked),
                after={"status": locked.status, "outcome": locked.outcome, **_step_snapshot(step)},
                reason=outcome,
            )
            if locked.status == StepStatus.QUEUED:
                from governance.incidents.tasks import runbook_step_execute_task

                execution_id = locked.pk
                actor_spec = {
                    "kind": actor.kind,
                    "id": actor.id,
                    "name": actor.name,
                    "request_id": actor.request_id,
                }
                transaction.on_commit(
                    lambda: runbook_step_execute_task.delay(execution_id, actor_spec)
                )
            return locked

    return _guarded(
        actor=actor,
        action="incidents.runbook.step_refused",
        target=_execution_target(execution),
        reason=outcome,
        work=work,
    )


def runbook_step_execute(*, actor: Actor, execution_id: int) -> StepExecution:
    """Run a queued automated step (in a Celery worker) and record its result."""
    execution = StepExecution.objects.select_related(
        "run__incident", "run__runbook", "step__kill_switch", "step__model_version__system"
    ).get(pk=execution_id)
    if execution.status != StepStatus.QUEUED:
        return execution  # a retried task after the result was recorded
    step, incident = execution.step, execution.run.incident
    ok, outcome, result = True, "", {}
    if step.action == StepAction.ENGAGE_KILL_SWITCH:
        try:
            kill_switch_engage(
                actor=actor,
                switch=step.kill_switch,
                reason=f"{incident.ref} runbook {execution.run.runbook.name}, step "
                f"{step.position}: {step.title}",
                incident=incident if incident.is_open else None,
            )
            outcome = f"Kill switch {step.kill_switch.key} engaged."
        except Conflict as exc:
            ok, outcome = step.kill_switch.is_engaged, exc.detail
            if "already engaged" in exc.detail:
                ok, outcome = True, f"Kill switch {step.kill_switch.key} was already engaged."
        result = {"kill_switch": step.kill_switch.key}
    elif step.action == StepAction.ROLLBACK:
        version = step.model_version
        with transaction.atomic():
            _timeline(
                incident=incident,
                kind=TimelineKind.ROLLBACK,
                message=f"Deployment of {version.system.slug} rolled back to model version "
                f"{version.version}.",
                actor=actor,
                data={"system": version.system.slug, "model_version": version.version},
            )
            audit_record(
                actor=actor,
                action="incidents.rollback.recorded",
                target=Target(
                    type="inventory.modelversion",
                    id=f"{version.system.slug}@{version.version}",
                    repr=str(version),
                ),
                after={
                    "incident": incident.ref,
                    "system": version.system.slug,
                    "model_version": version.version,
                },
                reason=f"{incident.ref}: {step.title}",
            )
        outcome = f"Rolled back {version.system.slug} to {version.version}."
        result = {"model_version": version.version}
    elif step.action == StepAction.WEBHOOK:
        delivery = webhook_post(
            url=step.webhook_url,
            secret=step.webhook_secret,
            event_type="incident.runbook_step",
            data={
                "incident": incident.ref,
                "severity": incident.severity.code,
                "runbook": execution.run.runbook.slug,
                "step": step.position,
                "title": step.title,
                "systems": [s.slug for s in incident.systems.all()],
            },
        )
        ok, outcome = delivery.ok, f"Webhook {step.webhook_url}: {delivery.detail}"
        result = {"webhook_id": delivery.msg_id, "status": delivery.status}
        with transaction.atomic():
            _timeline(
                incident=incident,
                kind=TimelineKind.WEBHOOK,
                message=outcome,
                actor=actor,
                data=result,
            )
    return _step_finish(actor=actor, execution=execution, ok=ok, outcome=outcome, result=result)


def _step_finish(
    *, actor: Actor, execution: StepExecution, ok: bool, outcome: str, result: dict[str, Any]
) -> StepExecution:
    with transaction.atomic():
        locked = StepExecution.objects.select_for_update().get(pk=execution.pk)
        locked.status = StepStatus.DONE if ok else StepStatus.FAILED
        locked.finished_at = timezone.now()
        locked.outcome, locked.result = outcome, result
        locked.save()
        step = execution.step
        _timeline(
            incident=execution.run.incident,
            kind=TimelineKind.RUNBOOK,
            message=f"{execution.run.runbook.name} · step {step.position} “{step.title}”: "
            f"{'done' if ok else 'FAILED'}. {outcome}",
            actor=actor,
            data={"execution": locked.pk, "status": locked.status, **result},
        )
        audit_record(
            actor=actor,
            action=f"incidents.runbook.step_{locked.status}",
            target=_execution_target(execution),
            after={"status": locked.status, "outcome": outcome, "result": result},
        )
    return locked


def kill_switch_refused_unknown(*, actor: Actor, action: str, key: str, reason: str) -> None:
    """An attempt to flip a switch that does not exist: nothing to change, but audited."""
    _refused(
        actor=actor,
        action=action,
        target=Target(type="incidents.killswitch", id=key[:255], repr=key[:255]),
        reason=reason,
        exc=DomainError(f"No kill switch {key!r}."),
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
