"""The only writer of audit events, and the chain verification record."""

import json
from dataclasses import dataclass
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from governance.audit.canonical import HASHED_FIELDS, chain_hash, json_value
from governance.audit.models import (
    GENESIS_HASH,
    AuditChainHead,
    AuditChainVerification,
    AuditEvent,
)
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
) -> AuditEvent:
    """Append one event to the chain.

    Must run inside the transaction of the change it records (so a failed append rolls the
    change back, and a rolled-back change leaves no event). The chain head row is locked for
    the rest of that transaction: concurrent writers queue, and the sequence stays gap-free.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("audit_record must run inside the transaction of the change")
    target = target or Target(type="", id="")
    fields = {
        "sequence": 0,  # set under the chain head lock
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
    if connection.vendor == "postgresql":
        return _append_postgresql(fields)
    head, _ = AuditChainHead.objects.select_for_update().get_or_create(id=1)
    fields["sequence"] = head.sequence + 1
    digest = chain_hash(head.hash, fields)
    event = AuditEvent.objects.create(**fields, prev_hash=head.hash, hash=digest)
    head.sequence, head.hash = event.sequence, digest
    head.save(update_fields=["sequence", "hash"])
    return event


_COLUMNS = (*HASHED_FIELDS, "prev_hash", "hash")
_JSON_COLUMNS = {"before", "after"}
# Built once from constant column names; every value travels as a query parameter.
_INSERT_EVENT = (  # noqa: S608
    "WITH event AS (INSERT INTO audit_auditevent ({columns}) VALUES ({values}) RETURNING id) "
    "UPDATE audit_auditchainhead SET hash = %s WHERE id = 1 RETURNING (SELECT id FROM event)"
).format(
    columns=", ".join(_COLUMNS),
    values=", ".join("%s::jsonb" if c in _JSON_COLUMNS else "%s" for c in _COLUMNS),
)


def _append_postgresql(fields: dict[str, Any]) -> AuditEvent:
    """The same append in two statements: the head lock is held until commit, so every
    round trip saved under it is throughput for all writers (see bench/audit_append.py)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_auditchainhead SET sequence = sequence + 1 WHERE id = 1 "
            "RETURNING sequence, hash"
        )
        row = cursor.fetchone()
        if row is None:  # the very first event: create the head, then lock it
            cursor.execute(
                "INSERT INTO audit_auditchainhead (id, sequence, hash) VALUES (1, 0, %s) "
                "ON CONFLICT (id) DO NOTHING",
                [GENESIS_HASH],
            )
            cursor.execute(
                "UPDATE audit_auditchainhead SET sequence = sequence + 1 WHERE id = 1 "
                "RETURNING sequence, hash"
            )
            row = cursor.fetchone()
        fields["sequence"], prev_hash = row
        digest = chain_hash(prev_hash, fields)
        values = {**fields, "prev_hash": prev_hash, "hash": digest}
        params = [
            json.dumps(values[c]) if c in _JSON_COLUMNS and values[c] is not None else values[c]
            for c in _COLUMNS
        ]
        cursor.execute(_INSERT_EVENT, [*params, digest])
        (event_id,) = cursor.fetchone()
    event = AuditEvent(id=event_id, **values)
    event._state.adding = False
    event._state.db = connection.alias
    return event


def audit_export_record(*, actor: Actor, export_format: str) -> int:
    """Record an export before it streams; returns the last sequence the export covers, which
    is this very event, so the file proves who took it."""
    with transaction.atomic():
        event = audit_record(actor=actor, action="audit.exported", after={"format": export_format})
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
