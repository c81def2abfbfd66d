"""The only writer of audit events, and the chain verification record."""

import json
from dataclasses import dataclass
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from governance.audit.canonical import HASHED_FIELDS, canonical_json, chain_hash, json_value
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
    head.prev_hash, head.sequence, head.hash = head.hash, event.sequence, digest
    head.save(update_fields=["prev_hash", "sequence", "hash"])
    return event


_COLUMNS = tuple(c for c in HASHED_FIELDS if c != "sequence")
_JSON_COLUMNS = {"before", "after"}
# One statement under the head lock: advance the head (hashing in the database, over the
# canonical JSON that Python split around the sequence number) and insert the event with it.
# Built once from constant column names; every value travels as a query parameter.
_APPEND_EVENT = (  # noqa: S608
    "WITH head AS ("
    " UPDATE audit_auditchainhead SET prev_hash = hash, sequence = sequence + 1,"
    " hash = encode(sha256(convert_to(hash || %s || (sequence + 1)::text || %s, 'UTF8')), 'hex')"
    " WHERE id = 1 RETURNING sequence, prev_hash, hash) "
    "INSERT INTO audit_auditevent ({columns}, sequence, prev_hash, hash) "
    "SELECT {values}, head.sequence, head.prev_hash, head.hash FROM head "
    "RETURNING id, sequence, prev_hash, hash"
).format(
    columns=", ".join(_COLUMNS),
    values=", ".join("%s::jsonb" if c in _JSON_COLUMNS else "%s" for c in _COLUMNS),
)
_SEQUENCE_MARK = ',"sequence":0,"target_id":'


def _append_postgresql(fields: dict[str, Any]) -> AuditEvent:
    """The append in one round trip: the head lock is held until commit, so every round trip
    and every step saved under it is throughput for all writers (bench/audit_append.py)."""
    canonical = canonical_json(fields)
    # The top-level "sequence" is the last such key: before and after (which may hold their
    # own) sort ahead of it, and the string values after it cannot hold an unescaped quote.
    cut = canonical.rfind(_SEQUENCE_MARK)
    prefix = canonical[: cut + len(',"sequence":')]
    suffix = canonical[cut + len(',"sequence":0') :]
    params = [
        json.dumps(fields[c]) if c in _JSON_COLUMNS and fields[c] is not None else fields[c]
        for c in _COLUMNS
    ]
    with connection.cursor() as cursor:
        cursor.execute(_APPEND_EVENT, [prefix, suffix, *params])
        row = cursor.fetchone()
        if row is None:  # the very first event: create the head, then append
            cursor.execute(
                "INSERT INTO audit_auditchainhead (id, sequence, hash, prev_hash) "
                "VALUES (1, 0, %s, %s) ON CONFLICT (id) DO NOTHING",
                [GENESIS_HASH, GENESIS_HASH],
            )
            cursor.execute(_APPEND_EVENT, [prefix, suffix, *params])
            row = cursor.fetchone()
    event_id, fields["sequence"], prev_hash, digest = row
    # The database hashed what Python would have: checked here, so the two never drift (a
    # mismatch raises and rolls the change back with its event).
    if chain_hash(prev_hash, fields) != digest:
        raise RuntimeError("audit append: the database's chain hash differs from the canonical one")
    event = AuditEvent(id=event_id, **fields, prev_hash=prev_hash, hash=digest)
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
