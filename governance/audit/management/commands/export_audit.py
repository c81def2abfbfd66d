"""manage.py export_audit --format jsonl [--output FILE]: the log with its hashes.

Audited like the API export: the export is recorded first, and the file ends with that event."""

import getpass
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand

from governance.audit.export import write_jsonl
from governance.audit.services import audit_export_record
from governance.core.actor import Actor


class Command(BaseCommand):
    help = "Export the audit log, oldest first, one JSON event per line, with prev_hash and hash."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--format", choices=["jsonl"], default="jsonl")
        parser.add_argument("--output", type=Path, help="file to write (default: standard output)")
        parser.add_argument("--since-sequence", type=int, default=1)

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path | None = options["output"]
        head = audit_export_record(
            actor=Actor(
                kind="system",
                id="export_audit",
                name=f"export_audit ({getpass.getuser()})",
                user_agent="manage.py export_audit",
            ),
            export_format=options["format"],
        )
        since = options["since_sequence"]
        if path is None:
            count = write_jsonl(sys.stdout, since_sequence=since, until_sequence=head)
        else:
            with path.open("w", encoding="utf-8") as out:
                count = write_jsonl(out, since_sequence=since, until_sequence=head)
        self.stderr.write(f"exported {count} audit events")
