"""CSV import of AI systems: every row is checked first; any bad row means nothing is written."""

import csv
import io
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction

from governance.accounts.models import User
from governance.core.actor import Actor
from governance.inventory.models import (
    AISystem,
    DataCategory,
    Environment,
    LifecycleStage,
    RiskTier,
)
from governance.inventory.services import ai_system_create

REQUIRED_COLUMNS = ("slug", "name", "owner", "risk_tier")
OPTIONAL_COLUMNS = (
    "description",
    "technical_owner",
    "oncall_team",
    "risk_rationale",
    "lifecycle_stage",
    "intended_use",
    "out_of_scope_uses",
    "data_categories",
    "deployment_environments",
    "is_genai",
    "tags",
)
LIST_COLUMNS = {"data_categories", "deployment_environments", "tags"}
MAX_ROWS = 5000


@dataclass
class ImportReport:
    dry_run: bool
    rows: int = 0
    created: list[str] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)  # {"row": n, "field": name, "message": text}

    @property
    def ok(self) -> bool:
        return not self.errors


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.replace(";", "|").split("|") if part.strip()]


def _parse_row(
    number: int, row: dict[str, str], users: dict[str, User], report: ImportReport
) -> dict | None:
    def error(name: str, message: str) -> None:
        report.errors.append({"row": number, "field": name, "message": message})

    spec: dict = {}
    for name in REQUIRED_COLUMNS:
        if not (row.get(name) or "").strip():
            error(name, "This column is required.")
    for name in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS):
        raw = (row.get(name) or "").strip()
        if not raw:
            continue
        if name in ("owner", "technical_owner"):
            if raw not in users:
                error(name, f"No active user {raw!r}.")
                continue
            spec[name] = users[raw]
        elif name in LIST_COLUMNS:
            spec[name] = _split(raw)
        elif name == "is_genai":
            if raw.lower() not in ("true", "false", "yes", "no", "1", "0"):
                error(name, "Use true or false.")
                continue
            spec[name] = raw.lower() in ("true", "yes", "1")
        else:
            spec[name] = raw
    for name, choices in (
        ("risk_tier", RiskTier.values),
        ("lifecycle_stage", LifecycleStage.values),
    ):
        if name in spec and spec[name] not in choices:
            error(name, f"Unknown value {spec[name]!r}; choose from {', '.join(choices)}.")
    for name, choices in (
        ("data_categories", DataCategory.values),
        ("deployment_environments", Environment.values),
    ):
        bad = [v for v in spec.get(name, []) if v not in choices]
        if bad:
            error(name, f"Unknown value(s) {', '.join(bad)}; choose from {', '.join(choices)}.")
    return spec if not any(e["row"] == number for e in report.errors) else None


def systems_import_csv(*, actor: Actor, text: str, dry_run: bool) -> ImportReport:
    """Check every row; with no errors and not a dry run, create all systems in one transaction."""
    report = ImportReport(dry_run=dry_run)
    if "\x00" in text:  # csv reads it, and no database text column can hold it
        line = text.count("\n", 0, text.index("\x00")) + 1
        report.errors.append({"row": line, "field": "", "message": "Not valid CSV: a NUL byte."})
        return report
    reader = csv.DictReader(io.StringIO(text))
    try:
        parsed = _parse_rows(reader, report)
    except csv.Error as exc:  # a stray carriage return, an oversized field
        # line_num counts the lines read before the one that failed
        report.errors.append(
            {"row": reader.line_num + 1, "field": "", "message": f"Not valid CSV: {exc}."}
        )
        return report
    if parsed is None or report.errors or dry_run:
        if parsed:
            _validate_models(parsed, report)
        return report
    with transaction.atomic():
        for number, spec in parsed:
            try:
                ai_system_create(actor=actor, **spec)
            except ValidationError as exc:
                for name, messages in exc.message_dict.items():
                    report.errors.append(
                        {"row": number, "field": name, "message": " ".join(messages)}
                    )
            else:
                report.created.append(spec["slug"])
        if report.errors:
            report.created = []
            transaction.set_rollback(True)
    return report


def _parse_rows(reader: csv.DictReader, report: ImportReport) -> list[tuple[int, dict]] | None:
    """The rows that parse, or None when the header or the size makes the file unusable."""
    missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        report.errors.append(
            {"row": 1, "field": ",".join(missing), "message": "Missing column(s)."}
        )
        return None
    unknown = sorted(set(reader.fieldnames or []) - set(REQUIRED_COLUMNS) - set(OPTIONAL_COLUMNS))
    if unknown:
        report.errors.append(
            {"row": 1, "field": ",".join(unknown), "message": "Unknown column(s)."}
        )
        return None
    users = {u.username: u for u in User.objects.filter(is_active=True)}
    taken = set(AISystem.objects.values_list("slug", flat=True))
    parsed: list[tuple[int, dict]] = []
    seen: set[str] = set()
    for number, row in enumerate(reader, start=2):  # row 1 is the header
        report.rows += 1
        if report.rows > MAX_ROWS:
            report.errors.append(
                {"row": number, "field": "", "message": f"More than {MAX_ROWS} rows."}
            )
            return None
        spec = _parse_row(number, row, users, report)
        slug = (row.get("slug") or "").strip()
        if slug in taken or slug in seen:
            report.errors.append(
                {"row": number, "field": "slug", "message": f"Slug {slug!r} already exists."}
            )
            spec = None
        seen.add(slug)
        if spec is not None:
            parsed.append((number, spec))
    return parsed


def _validate_models(parsed: list[tuple[int, dict]], report: ImportReport) -> None:
    """A dry run still runs the model validation, so it finds what a real import would."""
    for number, spec in parsed:
        try:
            AISystem(**spec).full_clean(validate_unique=False)
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                report.errors.append({"row": number, "field": name, "message": " ".join(messages)})
