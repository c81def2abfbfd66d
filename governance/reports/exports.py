"""CSV and JSON exports: AI systems, control implementations (with evidence SHA-256s),
coverage, and audit events. One row shape per export serves both formats."""

import csv
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Prefetch
from django.http import Http404, StreamingHttpResponse
from django.utils.dateparse import parse_datetime

from governance.accounts.permissions import Perm, has_perm
from governance.audit.services import audit_export_record
from governance.controls.coverage import coverage_for
from governance.controls.models import ControlImplementation, Evidence
from governance.core.actor import Actor
from governance.core.errors import DomainError
from governance.inventory.models import AISystem
from governance.inventory.selectors import ai_system_list
from governance.reports.selectors import AUDIT_FILTERS, report_events

Row = dict[str, Any]


@dataclass(frozen=True)
class Export:
    name: str
    fields: tuple[str, ...]
    rows: Callable[..., Iterable[Row]]
    audited: bool = False


def _systems(*, principal: Any, params: Any) -> list[AISystem]:
    archived = params.get("archived") == "true"
    systems = ai_system_list(principal=principal, include_archived=archived).select_related(
        "owner", "technical_owner"
    )
    if params.get("system"):
        systems = systems.filter(slug=params["system"])
        if not systems.exists():
            raise Http404(f"No AI system {params['system']!r}.")
    return list(systems.order_by("slug"))


def system_rows(*, principal: Any, params: Any) -> Iterator[Row]:
    for s in _systems(principal=principal, params=params):
        yield {
            "slug": s.slug,
            "name": s.name,
            "owner": s.owner.username,
            "technical_owner": s.technical_owner.username if s.technical_owner else "",
            "oncall_team": s.oncall_team,
            "risk_tier": s.risk_tier,
            "lifecycle_stage": s.lifecycle_stage,
            "is_genai": s.is_genai,
            "data_categories": "|".join(s.data_categories),
            "deployment_environments": "|".join(s.deployment_environments),
            "tags": "|".join(s.tags),
            "archived_at": s.archived_at,
            "created_at": s.created_at,
        }


def control_rows(*, principal: Any, params: Any) -> Iterator[Row]:
    if not has_perm(principal, Perm.CONTROLS_VIEW):
        return
    systems = _systems(principal=principal, params=params)
    coverage = coverage_for(systems)
    implementations = {
        (impl.system_id, impl.subcategory.code): impl
        for impl in ControlImplementation.objects.filter(system__in=systems)
        .select_related("owner", "subcategory")
        .prefetch_related(Prefetch("evidence", queryset=Evidence.objects.order_by("added_at")))
    }
    for system in systems:
        for row in coverage[system.pk].rows:
            impl = implementations.get((system.pk, row.code))
            evidence = list(impl.evidence.all()) if impl else []
            yield {
                "system": system.slug,
                "subcategory": row.code,
                "function": row.function,
                "category": row.category,
                "required": row.required,
                "status": row.status,
                "owner": impl.owner.username if impl and impl.owner else "",
                "implementation": impl.implementation if impl else "",
                "justification": impl.justification if impl else "",
                "last_reviewed_at": impl.last_reviewed_at if impl else None,
                "next_review_at": row.next_review_at,
                "review_overdue": row.review_overdue,
                "evidence_count": len(evidence),
                "evidence_sha256": "|".join(e.sha256 for e in evidence if e.sha256),
                "evidence": "|".join(e.url or e.title for e in evidence),
            }


def coverage_rows(*, principal: Any, params: Any) -> Iterator[Row]:
    if not has_perm(principal, Perm.CONTROLS_VIEW):
        return
    systems = _systems(principal=principal, params=params)
    coverage = coverage_for(systems)
    for system in systems:
        cov = coverage[system.pk]
        for scope, tally in [("total", cov.total), *sorted(cov.functions.items())]:
            yield {
                "system": system.slug,
                "risk_tier": system.risk_tier,
                "scope": scope,
                "required": tally.required,
                "implemented": tally.implemented,
                "not_applicable": tally.not_applicable,
                "applicable": tally.applicable,
                "share": None if tally.share is None else round(tally.share, 4),
                "gaps": "|".join(cov.gaps) if scope == "total" else "",
                "review_overdue": "|".join(cov.overdue) if scope == "total" else "",
            }


def _moment(params: Any, name: str, default: datetime) -> datetime:
    raw = params.get(name)
    if not raw:
        return default
    value = parse_datetime(raw)
    if value is None:
        raise DomainError(
            f"{name} must be an ISO 8601 date-time.", errors={name: ["Not a date-time."]}
        )
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def audit_event_rows(*, principal: Any, params: Any, up_to_sequence: int) -> Iterator[Row]:
    """Validates the filters at once, then streams the events (oldest first)."""
    if not has_perm(principal, Perm.AUDIT_EXPORT):
        return iter(())
    events = report_events(
        since=_moment(params, "since", datetime(1970, 1, 1, tzinfo=UTC)),
        until=_moment(params, "until", datetime(9999, 1, 1, tzinfo=UTC)),
        filters={k: params.get(k, "") for k in AUDIT_FILTERS},
        up_to_sequence=up_to_sequence,
    )
    return events.values(*AUDIT_FIELDS).iterator(chunk_size=2000)


AUDIT_FIELDS = (
    "sequence",
    "occurred_at",
    "actor_type",
    "actor_name",
    "ip",
    "request_id",
    "action",
    "target_type",
    "target_id",
    "target_repr",
    "reason",
    "prev_hash",
    "hash",
)

SYSTEM_FIELDS = (
    "slug",
    "name",
    "owner",
    "technical_owner",
    "oncall_team",
    "risk_tier",
    "lifecycle_stage",
    "is_genai",
    "data_categories",
    "deployment_environments",
    "tags",
    "archived_at",
    "created_at",
)
CONTROL_FIELDS = (
    "system",
    "subcategory",
    "function",
    "category",
    "required",
    "status",
    "owner",
    "implementation",
    "justification",
    "last_reviewed_at",
    "next_review_at",
    "review_overdue",
    "evidence_count",
    "evidence_sha256",
    "evidence",
)
COVERAGE_FIELDS = (
    "system",
    "risk_tier",
    "scope",
    "required",
    "implemented",
    "not_applicable",
    "applicable",
    "share",
    "gaps",
    "review_overdue",
)

SYSTEMS = Export("systems", SYSTEM_FIELDS, system_rows)
CONTROLS = Export("controls", CONTROL_FIELDS, control_rows)
COVERAGE = Export("coverage", COVERAGE_FIELDS, coverage_rows)
AUDIT_EVENTS = Export("audit-events", AUDIT_FIELDS, audit_event_rows, audited=True)


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    text = str(value)
    # Cells starting with these are formulas to spreadsheets (CSV injection): quote them.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def rows_for(
    export: Export, *, principal: Any, params: Any, actor: Actor, fmt: str
) -> Iterable[Row]:
    """The export's rows; an audit event export is itself audited, and covers the log up to
    (and including) that very event."""
    if export.audited:
        head = audit_export_record(actor=actor, export_format=f"{export.name}.{fmt}")
        return export.rows(principal=principal, params=params, up_to_sequence=head)
    # Small (systems by subcategories): built before the response starts, so an unknown
    # system is a 404 and not a broken stream.
    return list(export.rows(principal=principal, params=params))


def response(export: Export, rows: Iterable[Row], *, fmt: str) -> StreamingHttpResponse:
    if fmt == "csv":
        writer = csv.writer(_Echo())

        def lines() -> Iterator[str]:
            yield writer.writerow(export.fields)
            for row in rows:
                yield writer.writerow([_csv_value(row[f]) for f in export.fields])

        result = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    elif fmt == "json":

        def documents() -> Iterator[str]:
            yield "["
            for index, row in enumerate(rows):
                yield ("," if index else "") + json.dumps(
                    {f: row[f] for f in export.fields}, cls=DjangoJSONEncoder
                )
            yield "]"

        result = StreamingHttpResponse(documents(), content_type="application/json")
    else:
        raise Http404(f"Exports come as csv or json, not {fmt!r}.")
    result["Content-Disposition"] = f'attachment; filename="{export.name}.{fmt}"'
    return result
