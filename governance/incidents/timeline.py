"""The incident timeline other apps write to (kill switch flips, refused deployments)."""

from typing import Any

from django.utils import timezone

from governance.core.actor import Actor
from governance.core.errors import Conflict
from governance.incidents.models import Incident, TimelineEntry


class IncidentClosed(Conflict):
    code = "incident-closed"
    title = "The incident is closed"


def timeline_add(
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
