"""Signed checkpoints of the audit log: made on a schedule, for every report, and on demand.

A checkpoint is a statement about the log, not a change in what the log describes, so it
writes no audit event (one would make every checkpoint stale the moment it is signed, like
the chain verification records). Its rows are append-only like the events.
"""

import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from governance.audit.keys import signing_key, trusted_keys
from governance.audit.models import AuditCheckpoint, AuditEvent, CheckpointTrigger
from governance.audit.signing import (
    NoteError,
    checkpoint_body,
    open_note,
    parse_checkpoint,
    sign_note,
)
from governance.audit.timestamping import TimestampError, timestamp_request
from governance.audit.tree import audit_tree_extend, root_from_events, tree_root
from governance.core.outbound import OutboundError, outbound_request
from governance.core.outbox import outbox_enqueue

logger = logging.getLogger(__name__)


def audit_checkpoint_create(*, trigger: str, label: str = "") -> AuditCheckpoint:
    """Grow the tree over every committed event, sign its head, and keep the checkpoint.

    A scheduled checkpoint of a log that has not grown since the last one is not repeated.
    With a time-stamping authority configured, the note is time-stamped before it is stored;
    an unreachable authority is recorded on the checkpoint, never a reason to sign nothing.
    """
    key = signing_key()
    size = audit_tree_extend()
    if trigger == CheckpointTrigger.SCHEDULE:
        last = AuditCheckpoint.objects.order_by("-tree_size", "-id").first()
        if last is not None and last.tree_size == size and last.key_name == key.name:
            return last
    root = tree_root(size)
    note = sign_note(checkpoint_body(settings.AUDIT_LOG_ORIGIN, size, root), [key])
    token, stamped_at, error = None, None, ""
    if settings.AUDIT_TSA_URL:
        try:
            stamp = timestamp_request(note.encode(), url=settings.AUDIT_TSA_URL)
            token, stamped_at = stamp.token, stamp.gen_time
        except TimestampError as exc:
            error = str(exc)
            logger.warning("audit checkpoint %s not time-stamped: %s", size, exc)
    with transaction.atomic():
        checkpoint = AuditCheckpoint.objects.create(
            created_at=timezone.now(),
            tree_size=size,
            root_hash=root.hex(),
            origin=settings.AUDIT_LOG_ORIGIN,
            key_name=key.name,
            key_id=key.verifier.id_hex,
            note=note,
            trigger=trigger,
            label=label[:255],
            timestamp_token=token,
            timestamp_authority=settings.AUDIT_TSA_URL if token or error else "",
            timestamped_at=stamped_at,
            timestamp_error=error,
        )
        if settings.AUDIT_WITNESS_URLS:
            # In the outbox, with the checkpoint: a broker that is down delays the push.
            outbox_enqueue(
                task="governance.audit.tasks.audit_checkpoint_push_task", args=[checkpoint.pk]
            )
    return checkpoint


@dataclass(frozen=True)
class CheckpointCheck:
    """The outcome of comparing the log with one signed checkpoint."""

    ok: bool
    tree_size: int
    signed_by: str = ""
    problem: str = ""


def audit_checkpoint_check(note: str) -> CheckpointCheck:
    """Verify a signed checkpoint against the events in the database, recomputing the root
    from the events themselves (no stored tree node is trusted)."""
    try:
        opened = open_note(note, trusted_keys())
        checkpoint = parse_checkpoint(opened.body)
    except NoteError as exc:
        return CheckpointCheck(False, 0, problem=f"checkpoint refused: {exc}")
    signer = f"{opened.signed_by[0].name} ({opened.signed_by[0].id_hex})"
    if checkpoint.origin != settings.AUDIT_LOG_ORIGIN:
        return CheckpointCheck(
            False,
            checkpoint.size,
            signer,
            f"checkpoint is for the log {checkpoint.origin!r}, not {settings.AUDIT_LOG_ORIGIN!r}",
        )
    rows = (
        AuditEvent.objects.filter(sequence__lte=checkpoint.size)
        .order_by("sequence")
        .values("hash")
        .iterator(chunk_size=5000)
    )
    root, count = root_from_events(rows, size=checkpoint.size)
    if count < checkpoint.size:
        return CheckpointCheck(
            False,
            checkpoint.size,
            signer,
            f"the log holds {count} events but the checkpoint signed {checkpoint.size}: "
            "events were removed (truncated log)",
        )
    if root != checkpoint.root:
        return CheckpointCheck(
            False,
            checkpoint.size,
            signer,
            f"the first {checkpoint.size} events do not hash to the signed root: the log was "
            "rewritten after this checkpoint was signed",
        )
    return CheckpointCheck(True, checkpoint.size, signer)


def audit_checkpoint_push(*, checkpoint_id: int) -> list[str]:
    """POST a checkpoint's signed note to every witness URL; returns the URLs that failed.
    Witnesses keep what they receive, so sending the same note again is harmless."""
    checkpoint = AuditCheckpoint.objects.get(pk=checkpoint_id)
    failed = []
    for url in settings.AUDIT_WITNESS_URLS:
        try:
            response = outbound_request(
                "POST",
                url,
                headers={"Content-Type": "text/plain; charset=utf-8"},
                body=checkpoint.note.encode(),
                timeout=settings.OUTBOUND_WEBHOOK_TIMEOUT_SECONDS,
            )
        except OutboundError as exc:
            logger.warning("witness %s unreachable for checkpoint %s: %s", url, checkpoint_id, exc)
            failed.append(url)
            continue
        if not response.ok:
            logger.warning("witness %s answered %s", url, response.status)
            failed.append(url)
    return failed
