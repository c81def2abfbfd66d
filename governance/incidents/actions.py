"""What automated runbook steps do to the running system: set runtime controls, revert a
prompt, roll a release back. Each returns (ok, outcome, result); the outcome says what was
actually changed, never more.
"""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from governance.audit.services import Target, audit_record
from governance.core.actor import Actor
from governance.core.errors import Conflict, DomainError
from governance.incidents.models import Incident, RunbookStep, TimelineKind
from governance.incidents.timeline import timeline_add
from governance.inventory.models import Environment
from governance.releases.models import ReleaseRequest, ReleaseState
from governance.releases.services import release_request_rollback
from governance.runtime.control_services import runtime_control_set
from governance.runtime.models import ControlKind, RuntimeControl
from governance.webhooks.models import OutboundDelivery

Outcome = tuple[bool, str, dict[str, Any]]


def _set(
    *, actor: Actor, control: RuntimeControl, value: Any, why: str, incident: Incident
) -> Outcome:
    try:
        runtime_control_set(
            actor=actor,
            control=control,
            value=value,
            reason=why,
            incident=incident if incident.is_open else None,
        )
    except Conflict as exc:
        if "already" in exc.detail:
            return True, f"Control {control.key} was already {value!r}; nothing changed.", {}
        return False, exc.detail, {}
    except (DomainError, ValidationError) as exc:
        detail = exc.detail if isinstance(exc, DomainError) else "; ".join(exc.messages)
        return False, f"Control {control.key} not changed: {detail}", {}
    return (
        True,
        f"Control {control.key} set to {value!r}.",
        {"control": control.key, "value": value},
    )


def step_set_control(*, actor: Actor, step: RunbookStep, incident: Incident, why: str) -> Outcome:
    """Swap a retriever, route to a person, or any other control value the step names."""
    return _set(
        actor=actor, control=step.control, value=step.control_value, why=why, incident=incident
    )


def last_approved_prompt(control: RuntimeControl) -> str | None:
    """The prompt version of the newest approved or deployed release of the control's system
    (in its environment, when it has one) other than the control's current value."""
    releases = ReleaseRequest.objects.filter(
        system=control.system,
        state__in=[ReleaseState.APPROVED, ReleaseState.DEPLOYED],
    ).exclude(model_version__prompt_version__in=["", control.value])
    if control.environment:
        releases = releases.filter(environment=control.environment)
    release = (
        releases.select_related("model_version").order_by("-decided_at", "-created_at").first()
    )
    return release.model_version.prompt_version if release else None


def step_revert_prompt(*, actor: Actor, step: RunbookStep, incident: Incident, why: str) -> Outcome:
    control = step.control
    prompt = last_approved_prompt(control)
    if prompt is None:
        return (
            False,
            f"No approved release of {control.system.slug} has a prompt version other than "
            f"{control.value!r}; {control.key} not changed.",
            {},
        )
    return _set(actor=actor, control=control, value=prompt, why=why, incident=incident)


def _deployed(system_id: int, environment: str) -> list[ReleaseRequest]:
    return list(
        ReleaseRequest.objects.filter(
            system_id=system_id, environment=environment, state=ReleaseState.DEPLOYED
        )
        .select_related("model_version", "system")
        .order_by("-deployed_at")
    )


def step_rollback(*, actor: Actor, step: RunbookStep, incident: Incident, why: str) -> Outcome:
    """Mark the release deployed in the environment rolled back. The previous deployed version
    becomes the environment's current one, which the policy input and the regression gate
    compare against; model controls of the system are set to it; the deployment side hears of
    it through the signed release.rolled_back webhook."""
    system = step.runbook.system
    environment = step.environment or Environment.PRODUCTION
    deployed = _deployed(system.pk, environment)
    if not deployed:
        return (
            False,
            f"No release of {system.slug} is deployed in {environment}; nothing rolled back.",
            {},
        )
    current = deployed[0]
    previous = next(
        (r for r in deployed[1:] if r.model_version_id != current.model_version_id), None
    )
    landing = previous.model_version if previous else None
    expected = step.model_version
    if expected is not None and (landing is None or landing.pk != expected.pk):
        return (
            False,
            f"Rolling back {system.slug}@{current.model_version.version} in {environment} would "
            f"land on {landing.version if landing else 'no deployed version'}, not "
            f"{expected.version} as the step expects; nothing rolled back.",
            {},
        )
    last_delivery = OutboundDelivery.objects.order_by("-pk").values_list("pk", flat=True).first()
    # Stopping is always allowed (DESIGN rule 10): the runbook acts for the incident, whoever
    # started the step, so the release service sees the system actor, named for the person.
    rollback_actor = Actor(kind="system", id="runbook", name=f"{actor.name} (runbook)")
    with transaction.atomic():
        release_request_rollback(actor=rollback_actor, request=current, reason=why)
        parts = [
            f"Release {current.short_id} ({system.slug}@{current.model_version.version}) in "
            f"{environment} marked rolled back;"
        ]
        if landing is not None:
            parts.append(f"{environment}'s current version is now {landing.version}.")
        else:
            parts.append(f"no earlier deployed version: {environment} has no current version.")
        changed_controls = []
        if landing is not None:
            controls = RuntimeControl.objects.filter(
                system=system, kind=ControlKind.MODEL, environment__in=["", environment]
            ).select_related("system")
            for control in controls:
                ok, _, result = _set(
                    actor=actor, control=control, value=landing.version, why=why, incident=incident
                )
                if ok and result:
                    changed_controls.append(control.key)
        if changed_controls:
            parts.append(
                f"Model control(s) {', '.join(changed_controls)} set to {landing.version}."
            )
        notified = OutboundDelivery.objects.filter(
            event="release.rolled_back", pk__gt=last_delivery or 0
        ).count()
        parts.append(
            f"Deployment side notified: {notified} signed release.rolled_back webhook(s) queued."
            if notified
            else "No webhook subscribes to release.rolled_back: the deployment side was not told."
        )
        outcome = " ".join(parts)
        result = {
            "release": str(current.public_id),
            "environment": environment,
            "rolled_back": current.model_version.version,
            "current_version": landing.version if landing else None,
            "controls": changed_controls,
            "webhooks": notified,
        }
        timeline_add(
            incident=incident,
            kind=TimelineKind.ROLLBACK,
            message=outcome,
            actor=actor,
            data=result,
        )
        audit_record(
            actor=actor,
            action="incidents.rollback.performed",
            target=Target(type="releases.releaserequest", id=str(current.public_id)),
            after={"incident": incident.ref, **result},
            reason=why,
        )
    return True, outcome, result
