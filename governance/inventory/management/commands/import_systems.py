"""manage.py import_systems FILE.csv [--dry-run]: register AI systems from a spreadsheet."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from governance.core.actor import Actor
from governance.inventory.imports import OPTIONAL_COLUMNS, REQUIRED_COLUMNS, systems_import_csv


class Command(BaseCommand):
    help = (
        "Import AI systems from CSV. Columns: "
        + ", ".join(REQUIRED_COLUMNS)
        + " (required); "
        + ", ".join(OPTIONAL_COLUMNS)
        + ". Lists use | between values. Any bad row means nothing is written."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--dry-run", action="store_true", help="check every row, write nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        report = systems_import_csv(
            actor=Actor.system("import_systems"),
            text=path.read_text(encoding="utf-8-sig"),
            dry_run=options["dry_run"],
        )
        for error in report.errors:
            self.stderr.write(f"row {error['row']}, {error['field'] or 'file'}: {error['message']}")
        if not report.ok:
            raise CommandError(f"{len(report.errors)} problem(s); nothing was imported")
        verb = "would import" if report.dry_run else "imported"
        self.stdout.write(f"{verb} {report.rows} AI systems")
