"""manage.py verify_audit [--file EXPORT.jsonl]: prove the chain, or name the first bad event."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from governance.audit.export import ExportLineError, read_jsonl
from governance.audit.models import GENESIS_HASH
from governance.audit.services import audit_chain_verify
from governance.audit.verification import VerificationResult, verify_events


class Command(BaseCommand):
    help = (
        "Walk the audit hash chain and exit non-zero at the first bad sequence number. "
        "With --file, verify a JSONL export offline, without the database."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--file", type=Path, help="a JSONL file written by export_audit")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path | None = options["file"]
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
