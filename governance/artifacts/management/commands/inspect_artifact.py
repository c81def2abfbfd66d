"""manage.py inspect_artifact PATH [--json]: a model file's or directory's facts."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from governance.artifacts.inspector import artifact_inspect_path
from governance.artifacts.record import InspectionError


class Command(BaseCommand):
    help = "Inspect a model file or directory without loading it (no ML framework, no unpickling)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument("--json", action="store_true", help="Print the record as JSON")

    def handle(self, *args: object, **options: object) -> None:
        path = options["path"]
        assert isinstance(path, Path)
        try:
            record = artifact_inspect_path(path=path)
        except InspectionError as exc:
            raise CommandError(str(exc)) from None
        data = record.as_dict()
        if options["json"]:
            self.stdout.write(json.dumps(data, indent=2, sort_keys=True, default=str))
            return
        framework = " ".join(p for p in (data["framework"], data["framework_version"]) if p)
        lines = [
            f"format      {data['format']} (inventory: {data['artifact_format'] or '-'})",
            f"framework   {framework}",
            f"sha256      {data['sha256']}",
            f"files       {data['sizes'].get('files', 0)} ({data['sizes'].get('bytes', 0)} bytes)",
        ]
        if "parameters" in data["sizes"]:
            lines.append(f"parameters  {data['sizes']['parameters']}")
        for key in ("license", "base_model", "run_id"):
            if data[key]:
                lines.append(f"{key:<11} {data[key]}")
        if data["datasets"]:
            lines.append(f"datasets    {', '.join(data['datasets'])}")
        for metric in data["metrics"]:
            lines.append(f"metric      {metric.get('metric')} = {metric.get('value')}")
        if data["signature"]:
            lines.append(
                f"signature   {len(data['signature'].get('inputs') or [])} input(s), "
                f"{len(data['signature'].get('outputs') or [])} output(s)"
            )
        for finding in data["findings"]:
            where = f" [{finding['location']}]" if finding["location"] else ""
            lines.append(f"{finding['severity'].upper():<11} {finding['message']}{where}")
        self.stdout.write("\n".join(lines))
