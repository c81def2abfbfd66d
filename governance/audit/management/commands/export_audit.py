"""manage.py export_audit --format jsonl [--output FILE]: the log with its hashes."""

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand

from governance.audit.export import write_jsonl


class Command(BaseCommand):
    help = "Export the audit log, oldest first, one JSON event per line, with prev_hash and hash."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--format", choices=["jsonl"], default="jsonl")
        parser.add_argument("--output", type=Path, help="file to write (default: standard output)")
        parser.add_argument("--since-sequence", type=int, default=1)

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path | None = options["output"]
        if path is None:
            count = write_jsonl(sys.stdout, since_sequence=options["since_sequence"])
        else:
            with path.open("w", encoding="utf-8") as out:
                count = write_jsonl(out, since_sequence=options["since_sequence"])
        self.stderr.write(f"exported {count} audit events")
