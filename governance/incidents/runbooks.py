"""Runbooks: writing them, starting them on an incident, and performing their steps (in
Celery through the outbox when a step calls out), each audited in its own transaction."""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from governance.audit.refusals import guarded as _guarded
from governance.audit.services import Target, audit_record
from governance.core.actor import Actor
from governance.core.errors import Conflict
from governance.core.outbound import OutboundRefused, outbound_validate_url
from governance.core.outbox import outbox_enqueue
from governance.core.redaction import url_redacted
from governance.incidents.models import (
    Incident,
    Runbook,
    RunbookRun,
    RunbookStep,
    StepAction,
    StepExecution,
    StepStatus,
    TimelineKind,
)
from governance.incidents.outbound import webhook_post
from governance.incidents.services import incident_locked, incident_target
from governance.incidents.timeline import IncidentClosed
from governance.incidents.timeline import timeline_add as _timeline
from governance.inventory.models import AISystem, ModelVersion
from governance.runtime.models import KillSwitch, RuntimeControl
from governance.runtime.services import kill_switch_engage
from governance.webhooks.signatures import SignatureInvalid, standard_webhooks_sign

# Actions that change the running system live in governance.incidents.actions (imported when
# a step runs: it reaches releases and policy, which import this module).
ACTING = (StepAction.SET_CONTROL, StepAction.REVERT_PROMPT, StepAction.ROLLBACK)


def runbook_target(runbook: Runbook) -> Target:
    return Target.of(runbook, id_field="slug")


def _step_snapshot(step: RunbookStep) -> dict[str, Any]:
    return {
        "position": step.position,
        "title": step.title,
        "action": step.action,
        "kill_switch": step.kill_switch.key if step.kill_switch_id else None,
        "model_version": step.model_version.version if step.model_version_id else None,
        "control": step.control.key if step.control_id else None,
        "control_value": step.control_value,
        "environment": step.environment or None,
        "webhook_url": url_redacted(step.webhook_url) or None,
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
    version = step.model_version
    if step.action == StepAction.ROLLBACK and version and version.system_id != runbook.system_id:
        errors["model_version"] = ["That model version belongs to another system."]
    if step.action in (StepAction.SET_CONTROL, StepAction.REVERT_PROMPT):
        if step.control is None:
            errors["control"] = ["Name the runtime control this step sets."]
        elif step.control.system_id != runbook.system_id:
            errors["control"] = ["The runtime control belongs to another system."]
        elif step.action == StepAction.REVERT_PROMPT and step.control.kind != "prompt_version":
            errors["control"] = ["Reverting a prompt needs a prompt_version control."]
        elif step.action == StepAction.SET_CONTROL:
            from governance.runtime.control_services import check_value

            try:
                check_value(step.control, "control_value", step.control_value)
            except ValidationError as exc:
                errors.update(exc.message_dict)
    if step.action == StepAction.WEBHOOK:
        if not step.webhook_url:
            errors["webhook_url"] = ["Give the URL to call."]
        else:
            try:
                outbound_validate_url(step.webhook_url)
            except OutboundRefused as exc:
                errors["webhook_url"] = [str(exc)]
        try:
            standard_webhooks_sign(step.webhook_secret, "check", 0, b"")
        except SignatureInvalid:
            errors["webhook_secret"] = ["Give the Standard Webhooks secret (whsec_ + base64)."]
    if step.action != StepAction.ENGAGE_KILL_SWITCH:
        step.kill_switch = None
    if step.action != StepAction.ROLLBACK:
        step.model_version = None
        step.environment = ""
    if step.action not in (StepAction.SET_CONTROL, StepAction.REVERT_PROMPT):
        step.control = None
    if step.action != StepAction.SET_CONTROL:
        step.control_value = None
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
    control: RuntimeControl | None = None,
    control_value: Any = None,
    environment: str = "",
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
            control=control,
            control_value=control_value,
            environment=environment,
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
            locked = incident_locked(incident)
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


STEP_TASK = "governance.incidents.tasks.runbook_step_execute_task"


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
            incident = incident_locked(locked.run.incident)
            if not incident.is_open:
                raise IncidentClosed(f"{incident.ref} is {incident.status}; its runbook is closed.")
            if (
                locked.status not in (StepStatus.PENDING, StepStatus.FAILED)
                and not locked.queued_too_long
            ):
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
                actor_spec = {
                    "kind": actor.kind,
                    "id": actor.id,
                    "name": actor.name,
                    "request_id": actor.request_id,
                }
                # In the outbox, in this transaction: a broker that is down delays the step.
                outbox_enqueue(task=STEP_TASK, args=[locked.pk, actor_spec])
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
        "run__incident",
        "run__runbook__system",
        "step__kill_switch",
        "step__model_version__system",
        "step__control__system",
        "step__runbook__system",
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
    elif step.action in ACTING:
        from governance.incidents import actions

        act = {
            StepAction.SET_CONTROL: actions.step_set_control,
            StepAction.REVERT_PROMPT: actions.step_revert_prompt,
            StepAction.ROLLBACK: actions.step_rollback,
        }[step.action]
        why = (
            f"{incident.ref} runbook {execution.run.runbook.name}, step {step.position}: "
            f"{step.title}"
        )
        ok, outcome, result = act(actor=actor, step=step, incident=incident, why=why)
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
        ok, outcome = delivery.ok, f"Webhook {url_redacted(step.webhook_url)}: {delivery.detail}"
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
