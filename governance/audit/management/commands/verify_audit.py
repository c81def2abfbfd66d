"""manage.py verify_audit [--file EXPORT.jsonl]: prove the chain, or name the first bad event."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from governance.audit.checkpoints import audit_checkpoint_check
from governance.audit.export import ExportLineError, read_jsonl
from governance.audit.models import GENESIS_HASH
from governance.audit.services import audit_chain_verify
from governance.audit.timestamping import TimestampError, timestamp_check
from governance.audit.verification import VerificationResult, verify_events


class Command(BaseCommand):
    help = (
        "Walk the audit hash chain and exit non-zero at the first bad sequence number. "
        "With --file, verify a JSONL export offline, without the database."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--file", type=Path, help="a JSONL file written by export_audit")
        parser.add_argument(
            "--expect-head",
            metavar="SEQUENCE:HASH",
            help="also check that the event with this sequence has this hash (a compliance "
            "report prints its chain head this way; a hash prefix of 16+ digits is enough)",
        )
        parser.add_argument(
            "--checkpoint",
            type=Path,
            action="append",
            default=[],
            metavar="FILE",
            help="a signed checkpoint (C2SP signed note); the events in the database must hash "
            "to its Merkle root. Repeat for several.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path | None = options["file"]
        expected = _parse_expected_head(options["expect_head"]) if options["expect_head"] else None
        if path is None:
            outcome = audit_chain_verify()
            result = VerificationResult(
                outcome.ok,
                outcome.events_checked,
                outcome.head_sequence,
                outcome.first_bad_sequence,
                outcome.problem,
            )
        else:
            result = self._verify_file(path)
        if not result.ok:
            raise CommandError(
                f"audit chain broken at sequence {result.first_bad_sequence}: {result.problem} "
                f"({result.checked} events verified before it)"
            )
        self.stdout.write(
            f"audit chain ok: {result.checked} events, head sequence {result.last_sequence}"
        )
        if expected is not None:
            sequence, prefix = expected
            found = _hash_at(path, sequence)
            if found is None:
                raise CommandError(f"sequence {sequence} is not in the verified log")
            if not found.startswith(prefix):
                raise CommandError(
                    f"sequence {sequence} has hash {found}, not {prefix}: the report does not "
                    "match this log"
                )
            self.stdout.write(f"chain head matches: sequence {sequence} has hash {found}")
        for checkpoint_path in options["checkpoint"]:
            self._verify_checkpoint(checkpoint_path, path)

    def _verify_checkpoint(self, checkpoint_path: Path, export: Path | None) -> None:
        if export is not None:
            raise CommandError(
                "--checkpoint checks the database; for an export use the standalone verifier "
                "(python tools/audit_verify.py --export FILE --checkpoint FILE --key KEY)"
            )
        try:
            note = checkpoint_path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"checkpoint {checkpoint_path}: cannot read it ({exc})") from None
        outcome = audit_checkpoint_check(note)
        if not outcome.ok:
            raise CommandError(f"checkpoint {checkpoint_path} fails: {outcome.problem}")
        self.stdout.write(
            f"checkpoint {checkpoint_path} ok: the first {outcome.tree_size} events hash to the "
            f"root signed by {outcome.signed_by}"
        )
        token = checkpoint_path.with_name(checkpoint_path.name + ".tsr")
        if token.exists():
            try:
                stamped = timestamp_check(token.read_bytes(), note.encode())
            except TimestampError as exc:
                raise CommandError(f"checkpoint {checkpoint_path}: {exc}") from None
            self.stdout.write(
                f"checkpoint {checkpoint_path} time-stamped {stamped:%Y-%m-%dT%H:%M:%SZ}"
            )

    def _verify_file(self, path: Path) -> VerificationResult:
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        with path.open(encoding="utf-8") as handle:
            documents = read_jsonl(handle)
            try:
                first = next(documents, None)
                if first is None:
                    return VerificationResult(True, 0, 0)
                start = first.get("sequence")
                if not isinstance(start, int) or start < 1:
                    raise CommandError(f"{path}: the first line has no valid sequence number")
                # From sequence 1 the chain must start at the genesis hash; a partial export
                # is checked from its own first link onwards.
                start_hash = GENESIS_HASH if start == 1 else first.get("prev_hash", "")

                def chained() -> Iterator[dict[str, Any]]:
                    yield first
                    yield from documents

                return verify_events(chained(), start_hash=start_hash, start_sequence=start)
            except ExportLineError as exc:
                raise CommandError(f"{path}: {exc}") from None


def _parse_expected_head(raw: str) -> tuple[int, str]:
    sequence, _, digest = raw.partition(":")
    digest = digest.strip().lower()
    sequence = sequence.strip()
    if not (sequence.isascii() and sequence.isdigit()) or len(digest) < 16 or not _is_hex(digest):
        raise CommandError("--expect-head takes SEQUENCE:HASH, the hash in 16 to 64 hex digits")
    return int(sequence), digest


def _is_hex(value: str) -> bool:
    return all(c in "0123456789abcdef" for c in value) and len(value) <= 64


def _hash_at(path: Path | None, sequence: int) -> str | None:
    """The hash of one event, from the export just verified or from the database."""
    if path is None:
        from governance.audit.models import AuditEvent

        return AuditEvent.objects.filter(sequence=sequence).values_list("hash", flat=True).first()
    with path.open(encoding="utf-8") as handle:
        for document in read_jsonl(handle):
            if document.get("sequence") == sequence:
                return document.get("hash")
    return None
