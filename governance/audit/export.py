"""The JSONL audit export: one event a line, with its sequence, prev_hash and hash.

Each line holds exactly the hashed fields plus the two hashes, so ``verify_audit --file``
recomputes the chain offline with the same canonical form (canonical.py).
"""

import json
from collections.abc import Iterable, Iterator
from typing import IO, Any

from governance.audit.canonical import HASHED_FIELDS, timestamp
from governance.audit.models import AuditEvent

EXPORT_FIELDS = (*HASHED_FIELDS, "prev_hash", "hash")


def event_document(row: dict[str, Any]) -> dict[str, Any]:
    document = {name: row[name] for name in EXPORT_FIELDS}
    document["occurred_at"] = timestamp(row["occurred_at"])
    return document


def write_jsonl(out: IO[str], *, since_sequence: int = 1, until_sequence: int | None = None) -> int:
    """Stream the log (oldest first) into ``out``; returns the number of events written."""
    events = AuditEvent.objects.filter(sequence__gte=since_sequence)
    if until_sequence is not None:
        events = events.filter(sequence__lte=until_sequence)
    rows = events.order_by("sequence").values(*EXPORT_FIELDS).iterator(chunk_size=2000)
    count = 0
    for row in rows:
        out.write(json.dumps(event_document(row), sort_keys=True, ensure_ascii=False) + "\n")
        count += 1
    return count


class ExportLineError(ValueError):
    def __init__(self, line_number: int, message: str) -> None:
        super().__init__(f"line {line_number}: {message}")
        self.line_number = line_number


def read_jsonl(lines: Iterable[str]) -> Iterator[dict[str, Any]]:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            document = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ExportLineError(number, f"not JSON ({exc.msg})") from None
        if not isinstance(document, dict):
            raise ExportLineError(number, "not a JSON object")
        yield document
