"""Sealing: each pending event numbered, hashed and moved into the chain at its commit.

Writers insert pending events with their change (a table with no index but its key, so they
never wait for one another while the change runs). On PostgreSQL a deferred constraint trigger
seals each of them as the transaction commits: it takes the seal lock (an advisory lock, held
to the end of that commit), gives the event the next sequence number and its hash, moves it
into ``audit_auditevent`` and advances the head. The lock is held only from the first seal to
the commit's end, with no round trip to the client in between; the event and its change
commit, or fail, together. On SQLite, where writers are serialized anyway, the same steps run
in Python (``chain_hash``) as the event is recorded.

The canonical JSON is made in Python when the event is recorded, cut around the sequence number
(which only the seal knows); the seal hashes ``prev_hash + prefix + sequence + suffix``, which
is ``chain_hash`` of the event as sealed."""

from typing import Any

from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper

from governance.audit.canonical import HASHED_FIELDS, canonical_json, chain_hash
from governance.audit.models import AuditChainHead, AuditEvent, AuditPendingEvent

_SEQUENCE_MARK = ',"sequence":0,"target_id":'
CONTENT = tuple(c for c in HASHED_FIELDS if c != "sequence")


def canonical_parts(fields: dict[str, Any]) -> tuple[str, str]:
    """The event's canonical JSON before and after its sequence number."""
    canonical = canonical_json({**fields, "sequence": 0})
    # The top-level "sequence" is the last such key: before and after (which may hold their
    # own) sort ahead of it, and the string values after it cannot hold an unescaped quote.
    cut = canonical.rfind(_SEQUENCE_MARK)
    return canonical[: cut + len(',"sequence":')], canonical[cut + len(',"sequence":0') :]


# pg_advisory_xact_lock key of the seal ("audit" in ASCII).
SEAL_LOCK = 0x6175646974
TRIGGER = "audit_seal_at_commit"
_COLUMNS = ", ".join(CONTENT)
_PENDING_VALUES = ", ".join(f"pending.{c}" for c in CONTENT)
# Built once from constant names.
_POSTGRES_CREATE = [
    f"""
    CREATE OR REPLACE FUNCTION audit_seal_pending_row() RETURNS trigger
    LANGUAGE plpgsql AS $$
    DECLARE
        head_sequence bigint;
        previous text;
        digest text;
        pending audit_auditpendingevent%ROWTYPE;
    BEGIN
        -- One sealer at a time, until this transaction ends. An advisory lock rather than the
        -- head row's, so it is taken once per transaction, at its first event.
        PERFORM pg_advisory_xact_lock({SEAL_LOCK});
        DELETE FROM audit_auditpendingevent p WHERE p.id = NEW.id RETURNING * INTO pending;
        IF NOT FOUND THEN
            RETURN NULL;
        END IF;
        SELECT h.sequence, h.hash INTO head_sequence, previous
            FROM audit_auditchainhead h WHERE h.id = 1;
        IF NOT FOUND THEN
            INSERT INTO audit_auditchainhead (id, sequence, hash, prev_hash)
                VALUES (1, 0, repeat('0', 64), repeat('0', 64));
            head_sequence := 0;
            previous := repeat('0', 64);
        END IF;
        head_sequence := head_sequence + 1;
        digest := encode(sha256(convert_to(
            previous || pending.canonical_prefix || head_sequence::text
            || pending.canonical_suffix, 'UTF8')), 'hex');
        INSERT INTO audit_auditevent ({_COLUMNS}, sequence, prev_hash, hash)
            VALUES ({_PENDING_VALUES}, head_sequence, previous, digest);
        UPDATE audit_auditchainhead h
            SET sequence = head_sequence, hash = digest, prev_hash = previous
            WHERE h.id = 1;
        RETURN NULL;
    END;
    $$
    """,  # noqa: S608
    f"""
    CREATE CONSTRAINT TRIGGER {TRIGGER} AFTER INSERT ON audit_auditpendingevent
        DEFERRABLE INITIALLY DEFERRED
        FOR EACH ROW EXECUTE FUNCTION audit_seal_pending_row()
    """,
]
_POSTGRES_DROP = [
    f"DROP TRIGGER IF EXISTS {TRIGGER} ON audit_auditpendingevent",
    "DROP FUNCTION IF EXISTS audit_seal_pending_row()",
]


def create_seal_trigger(connection: BaseDatabaseWrapper) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for sql in _POSTGRES_CREATE:
                cursor.execute(sql)


def drop_seal_trigger(connection: BaseDatabaseWrapper) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for sql in _POSTGRES_DROP:
                cursor.execute(sql)


def seal_now() -> None:
    """Seal this transaction's events as they are recorded instead of at its commit (the chain
    head then stays locked until the transaction ends); on SQLite, seal what is pending."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SET CONSTRAINTS {TRIGGER} IMMEDIATE")
    else:
        _seal_in_python()


def _seal_in_python() -> None:
    if not AuditPendingEvent.objects.exists():
        return
    head, _ = AuditChainHead.objects.select_for_update().get_or_create(id=1)
    pending = list(AuditPendingEvent.objects.order_by("id").values("id", *CONTENT))
    sequence, previous, before_last = head.sequence, head.hash, head.hash
    events, sealed = [], []
    for row in pending:
        sealed.append(row.pop("id"))
        sequence += 1
        fields = {**row, "sequence": sequence}
        digest = chain_hash(previous, fields)
        events.append(AuditEvent(**fields, prev_hash=previous, hash=digest))
        before_last, previous = previous, digest
    AuditEvent.objects.bulk_create(events, batch_size=500)
    AuditPendingEvent.objects.filter(id__in=sealed).delete()
    head.prev_hash, head.sequence, head.hash = before_last, sequence, previous
    head.save(update_fields=["prev_hash", "sequence", "hash"])
