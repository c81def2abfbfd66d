"""Every write to kill switches, audited in its own transaction.

Refused attempts (no reason, a closed incident, a release without a second person...) change
nothing and are audited as ``...refused`` in a transaction of their own.
"""

import hashlib
import json
from datetime import UTC
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from governance.accounts.models import ApiToken
from governance.audit.refusals import guarded as _guarded
from governance.audit.refusals import refused as _refused
from governance.audit.refusals import require_reason as _require_reason
from governance.audit.services import Target, audit_record
from governance.core.actor import Actor
from governance.core.errors import Conflict, DomainError
from governance.incidents.models import Incident, TimelineKind
from governance.incidents.timeline import IncidentClosed
from governance.incidents.timeline import timeline_add as _timeline
from governance.inventory.models import AISystem
from governance.runtime.models import (
    KillSwitch,
    KillSwitchEvent,
    RuntimeControl,
    SwitchScope,
    SwitchState,
)


class SecondPersonRequired(Conflict):
    code = "second-person-required"
    title = "A second person must confirm"


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
        raise Conflict(f"{system.slug} is archived; it gets no new kill switches.")
    if RuntimeControl.objects.filter(key=key).exists():
        raise ValidationError({"key": ["A runtime control has this key (one namespace)."]})
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
    from governance.runtime.streaming import publish_flip_on_commit

    publish_flip_on_commit(event)


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
            if incident is not None and incident.severity.needs_second_person:
                if not locked.release_pending:
                    return _request_release(actor=actor, switch=locked, reason=why, before=before)
                if _requester_person_key(locked.release_requested_by_id) == actor.person_key:
                    raise SecondPersonRequired(
                        f"{locked.key} is tied to {incident.ref} ({incident.severity.code}): "
                        "a second person must confirm the release you requested (a token "
                        "counts as the person who created it)."
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


def _requester_person_key(stored: str) -> str:
    """The person behind a stored release request: requests made before tokens counted as
    their creator stored ``token:<public id>``; resolve those to the creator too."""
    kind, _, ident = stored.partition(":")
    if kind == "token":
        try:
            creator = (
                ApiToken.objects.filter(public_id=ident)
                .values_list("created_by_id", flat=True)
                .first()
            )
        except ValidationError:  # not a UUID: no such token
            creator = None
        if creator is not None:
            return f"user:{creator}"
    return stored


def _request_release(
    *, actor: Actor, switch: KillSwitch, reason: str, before: dict[str, Any]
) -> KillSwitch:
    switch.release_requested_by = actor.name[:150]
    switch.release_requested_by_id = actor.person_key[:64]
    switch.release_requested_at = timezone.now()
    switch.release_request_reason = reason
    return _save_noted(
        actor=actor,
        switch=switch,
        action="incidents.killswitch.release_requested",
        before=before,
        reason=reason,
        message=f"Release of {switch.key} requested ({reason}); a second person must confirm.",
        data={"release_requested": True},
    )


def _save_noted(
    *,
    actor: Actor,
    switch: KillSwitch,
    action: str,
    before: dict[str, Any],
    reason: str,
    message: str,
    data: dict[str, Any],
) -> KillSwitch:
    """Save a change that is not a flip (no stream event; readers see the new version):
    audited, and on the incident's timeline when the switch has one."""
    switch.version += 1
    _materialize(switch)
    switch.save()
    audit_record(
        actor=actor,
        action=action,
        target=kill_switch_target(switch),
        before=before,
        after=kill_switch_representation(switch),
        reason=reason,
    )
    if switch.incident is not None:
        _timeline(
            incident=switch.incident,
            kind=TimelineKind.KILL_SWITCH,
            message=message,
            actor=actor,
            data={"key": switch.key, **data},
        )
    return switch


def kill_switch_refused_unknown(*, actor: Actor, action: str, key: str, reason: str) -> None:
    """An attempt to flip a switch that does not exist: nothing to change, but audited."""
    _refused(
        actor=actor,
        action=action,
        target=Target(type="incidents.killswitch", id=key[:255], repr=key[:255]),
        reason=reason,
        exc=DomainError(f"No kill switch {key!r}."),
    )


def kill_switch_attach_incident(
    *, actor: Actor, switch: KillSwitch, incident: Incident, reason: str = ""
) -> KillSwitch:
    """Tie a switch engaged outside an incident to one later: from now on it is on that
    incident's timeline, and its release follows the incident's severity (two people for SEV1
    and SEV2). The state does not change, so no stream event; readers see the new version."""
    with transaction.atomic():
        locked = _lock_switch(switch)
        if not locked.is_engaged:
            raise Conflict(f"{locked.key} is not engaged; engage it from the incident instead.")
        if locked.incident_id is not None:
            raise Conflict(f"{locked.key} is already tied to {locked.incident.ref}.")
        current = Incident.objects.select_for_update().get(pk=incident.pk)
        if not current.is_open:
            raise IncidentClosed(f"{current.ref} is {current.status}; reopen it first.")
        before = kill_switch_representation(locked)
        locked.incident = current
        return _save_noted(
            actor=actor,
            switch=locked,
            action="incidents.killswitch.attached",
            before=before,
            reason=reason,
            message=f"Kill switch {locked.key} (engaged {locked.changed_at:%Y-%m-%d %H:%M} UTC "
            f"by {locked.changed_by}) attached to this incident.",
            data={"attached": True},
        )


def kill_switch_release_cancel(*, actor: Actor, switch: KillSwitch, reason: str = "") -> KillSwitch:
    """The person who asked for a two-person release takes the request back; the switch stays
    engaged. Only they may: anyone else confirms or leaves it."""
    with transaction.atomic():
        locked = _lock_switch(switch)
        if not locked.release_pending:
            raise Conflict(f"No release of {locked.key} is waiting for a second person.")
        if locked.release_requested_by_id != f"{actor.kind}:{actor.id}"[:64]:
            raise Conflict(
                f"Only {locked.release_requested_by}, who asked for the release, can cancel it."
            )
        before = kill_switch_representation(locked)
        _clear_release_request(locked)
        return _save_noted(
            actor=actor,
            switch=locked,
            action="incidents.killswitch.release_cancelled",
            before=before,
            reason=reason,
            message=f"Release request of {locked.key} cancelled; it stays engaged.",
            data={"release_cancelled": True},
        )
