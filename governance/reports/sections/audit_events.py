"""The audit events in the period (for a system, or filtered), each with its chain hash."""

from collections import Counter

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


SECTION = Section(
    key="audit-events",
    title="Audit events in the period",
    template="reports/print/sections/audit_events.html",
    kinds=frozenset({"system", "audit"}),
    build=build,
)
