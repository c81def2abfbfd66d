"""The report sections, in print order. To add a capability's section, write a module with a
``SECTION`` (see base.py) and list it here; its ``build`` returns None when the capability is
not installed or has nothing for the scope."""

from governance.reports.sections import (
    ai_act,
    approvals,
    audit_events,
    controls,
    coverage,
    incidents,
    policy,
    portfolio,
    system_profile,
)
from governance.reports.sections.base import (
    BuiltSection,
    ReportScope,
    Section,
    SectionContent,
)

SECTIONS: tuple[Section, ...] = (
    ai_act.AUTHORITY_REPORT,
    system_profile.SECTION,
    ai_act.CLASSIFICATION,
    portfolio.SECTION,
    coverage.SECTION,
    controls.SECTION,
    ai_act.OBLIGATIONS,
    policy.SECTION,
    approvals.SECTION,
    incidents.SECTION,
    ai_act.SERIOUS_INCIDENTS,
    audit_events.SECTION,
)

__all__ = ["SECTIONS", "BuiltSection", "ReportScope", "Section", "SectionContent"]
