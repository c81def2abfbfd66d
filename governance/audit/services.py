"""The only writer of audit events, and the chain verification record."""

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

from governance.audit.canonical import json_value
from governance.audit.models import (
    AuditChainHead,
    AuditChainVerification,
    AuditEvent,
    AuditPendingEvent,
)
from governance.audit.sealing import canonical_parts, seal_now
from governance.audit.verification import verify_events
from governance.core.actor import Actor


@dataclass(frozen=True)
class Target:
    """What an event is about: a type name, a stable id, and a readable label."""

    type: str
    id: str
    repr: str = ""

    @classmethod
    def of(cls, obj: models.Model, *, id_field: str = "pk") -> "Target":
        return cls(
            type=obj._meta.label_lower,
            id=str(getattr(obj, id_field)),
            repr=str(obj)[:255],
        )


def audit_record(
    *,
    actor: Actor,
    action: str,
    target: Target | None = None,
    before: Any = None,
    after: Any = None,
    reason: str = "",
) -> None:
    """Record one event with the change it describes.

    Must run inside the transaction of the change (so a failed write rolls the change back,
    and a rolled-back change leaves no event). The event is sealed into the chain (numbered,
    hashed, linked) as that transaction commits, atomically with it (sealing.py); on SQLite, or
    with ``AUDIT_SEAL = "in_transaction"``, as it is recorded.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("audit_record must run inside the transaction of the change")
    _record(actor=actor, action=action, target=target, before=before, after=after, reason=reason)
    if settings.AUDIT_SEAL == "in_transaction" or connection.vendor != "postgresql":
        seal_now()


def audit_record_sealed(
    *, actor: Actor, action: str, target: Target | None = None, after: Any = None
) -> AuditEvent:
    """Record and seal at once, for the caller that needs the event's sequence before its
    transaction commits (an export names itself). The chain head stays locked until commit."""
    if not connection.in_atomic_block:
        raise RuntimeError("audit_record_sealed must run inside the transaction of the change")
    _record(actor=actor, action=action, target=target, after=after, reason="")
    seal_now()
    return AuditEvent.objects.get(sequence=AuditChainHead.objects.get(id=1).sequence)


def _record(
    *, actor: Actor, action: str, target: Target | None, before: Any = None, after: Any, reason: str
) -> AuditPendingEvent:
    target = target or Target(type="", id="")
    fields = {
        "occurred_at": timezone.now(),
        "actor_type": actor.kind,
        "actor_id": actor.id,
        "actor_name": actor.name[:150],
        "ip": actor.ip or "",
        "user_agent": actor.user_agent[:512],
        "request_id": actor.request_id[:128],
        "action": action,
        "target_type": target.type,
        "target_id": target.id[:255],
        "target_repr": target.repr[:255],
        "before": json_value(before),
        "after": json_value(after),
        "reason": reason,
    }
    prefix, suffix = canonical_parts(fields)
    return AuditPendingEvent.objects.create(
        **fields, canonical_prefix=prefix, canonical_suffix=suffix
    )


def audit_export_record(*, actor: Actor, export_format: str) -> int:
    """Record an export before it streams; returns the last sequence the export covers, which
    is this very event, so the file proves who took it."""
    with transaction.atomic():
        event = audit_record_sealed(
            actor=actor, action="audit.exported", after={"format": export_format}
        )
    return event.sequence


def audit_chain_verify() -> AuditChainVerification:
    """Walk the whole chain from the database and record the outcome."""
    head = AuditChainHead.objects.filter(id=1).first()
    rows = AuditEvent.objects.order_by("sequence").values().iterator(chunk_size=2000)
    result = verify_events(
        rows,
        expected_head=(head.sequence, head.hash) if head else None,
    )
    with transaction.atomic():
        return AuditChainVerification.objects.create(
            ok=result.ok,
            events_checked=result.checked,
            head_sequence=result.last_sequence,
            first_bad_sequence=result.first_bad_sequence,
            problem=result.problem,
        )
