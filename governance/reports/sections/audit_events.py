"""The audit events in the period (for a system, or filtered), each with its chain hash."""

from collections import Counter
from typing import Any

from governance.reports.sections.base import ReportScope, Section, SectionContent
from governance.reports.selectors import report_events

EVENT_FIELDS = (
    "sequence",
    "occurred_at",
    "actor_type",
    "actor_name",
    "action",
    "target_type",
    "target_id",
    "target_repr",
    "reason",
    "hash",
)


def build(scope: ReportScope) -> SectionContent | None:
    events = list(
        report_events(
            since=scope.since,
            until=scope.until,
            system_slug=scope.system.slug if scope.system else None,
            filters=scope.filters,
            up_to_sequence=scope.chain_sequence,
        ).values(*EVENT_FIELDS)
    )
    actions = Counter(event["action"] for event in events)
    return SectionContent(
        context={
            "events": events,
            "lines": [
                event_lines(e, system_name=scope.system.name if scope.system else "")
                for e in events
            ],
            "header": header_line(),
            "actions": sorted(actions.items(), key=lambda item: (-item[1], item[0])),
            "filters": {k: v for k, v in scope.filters.items() if v},
        },
        summary=[
            (
                "Audit events in the period",
                f"{len(events)}, sequence {events[0]['sequence']} to {events[-1]['sequence']}"
                if events
                else "none in the period",
            )
        ],
    )


# Fixed-width columns of the event list: (heading, width in characters). Each event prints as
# one preformatted monospace line (two with its reason): WeasyPrint lays a text line out many
# times faster than a row of cells, which is what keeps a 3,000-event report near 50 ms a page.
COLUMNS = (("Seq.", 7), ("Time (UTC)", 19), ("Actor", 14), ("Action", 38), ("Target", 36))
HASH_WIDTH = 16
REASON_WIDTH = 120


def _cell(value: str, width: int) -> str:
    value = " ".join(value.split())
    return value.ljust(width) if len(value) <= width else value[: width - 1] + "…"


def _target_cell(value: str, width: int) -> str:
    """Targets end with what identifies them (a control id, a version): cut the middle."""
    value = " ".join(value.split())
    if len(value) <= width:
        return value.ljust(width)
    head = (width - 1) // 3
    return value[:head] + "…" + value[-(width - 1 - head) :]


def header_line() -> str:
    return "  ".join(_cell(h, w) for h, w in COLUMNS) + "  " + "Hash (first 16)"


def event_lines(event: dict[str, Any], *, system_name: str = "") -> str:
    target = event["target_repr"] or f"{event['target_type']} {event['target_id']}".strip()
    # In a system's report its name before every target says nothing: keep what follows.
    if system_name and target.startswith(f"{system_name} · "):
        target = target[len(system_name) + 3 :]
    cells = (
        str(event["sequence"]),
        event["occurred_at"].strftime("%Y-%m-%d %H:%M:%S"),
        event["actor_name"],
        event["action"],
    )
    line = "  ".join(_cell(v, w) for v, (_, w) in zip(cells, COLUMNS, strict=False))
    line += "  " + _target_cell(target, COLUMNS[-1][1])
    line += "  " + event["hash"][:HASH_WIDTH]
    reason = " ".join(event["reason"].split())
    if reason:
        indent = " " * (COLUMNS[0][1] + 2)
        line += "\n" + indent + _cell("Why: " + reason, REASON_WIDTH).rstrip()
    return line


SECTION = Section(
    key="audit-events",
    title="Audit events in the period",
    template="reports/print/sections/audit_events.html",
    kinds=frozenset({"system", "audit", "ai_act"}),
    build=build,
)
