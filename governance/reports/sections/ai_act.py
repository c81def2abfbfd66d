"""EU AI Act sections: the system's classification with its reasons, the obligations that bind
it with status, evidence and the crosswalked NIST AI RMF evidence, serious incidents with their
reporting times, and the pre-filled Art. 73 report to the market surveillance authority."""

from django.apps import apps

from governance.controls.aiact import (
    ANNEX_III_AREAS,
    FRAMEWORK_SLUG,
    PROHIBITED_PRACTICES,
    TRANSPARENCY_SITUATIONS,
)
from governance.controls.coverage import coverage_for
from governance.controls.models import AIActClassification, Framework, Subcategory
from governance.controls.selectors import supporting_evidence
from governance.reports.sections.base import ReportScope, Section, SectionContent

AI_ACT_KINDS = frozenset({"ai_act"})


def build_classification(scope: ReportScope) -> SectionContent | None:
    if scope.system is None:
        return None
    classification = AIActClassification.objects.filter(system=scope.system).first()
    context = {
        "classification": classification,
        "practice": PROHIBITED_PRACTICES.get(getattr(classification, "prohibited_practice", "")),
        "area": ANNEX_III_AREAS.get(getattr(classification, "annex_iii_area", "")),
        "situations": [
            TRANSPARENCY_SITUATIONS[s] for s in getattr(classification, "transparency", [])
        ],
    }
    summary = [
        (
            "EU AI Act classification",
            classification.get_risk_class_display() if classification else "not classified",
        )
    ]
    if classification:
        summary.append(("Role under the AI Act", classification.get_role_display()))
    return SectionContent(context=context, summary=summary)


def build_obligations(scope: ReportScope) -> SectionContent | None:
    framework = Framework.objects.filter(slug=FRAMEWORK_SLUG).first()
    if scope.system is None or framework is None:
        return None
    coverage = coverage_for([scope.system], framework=framework, today=scope.generated_at.date())[
        scope.system.pk
    ]
    subs = {
        s.code: s
        for s in Subcategory.objects.filter(category__function__framework=framework).select_related(
            "category__function__framework"
        )
    }
    rows = [
        {
            "row": row,
            "crosswalk": supporting_evidence(system=scope.system, subcategory=subs[row.code]),
        }
        for row in coverage.rows
        if row.required
    ]
    total = coverage.total
    return SectionContent(
        context={"rows": rows, "total": total},
        summary=[
            (
                "AI Act obligations implemented",
                f"{total.implemented} of {total.applicable} binding"
                + (
                    f"; {total.supported} more supported by NIST AI RMF evidence"
                    if total.supported
                    else ""
                ),
            ),
            ("AI Act obligations open", ", ".join(coverage.gaps) or "none"),
        ],
    )


def build_serious(scope: ReportScope) -> SectionContent | None:
    if scope.system is None or not apps.is_installed("governance.incidents"):
        return None
    from governance.incidents.models import SeriousIncidentReport

    reports = list(
        SeriousIncidentReport.objects.filter(
            system=scope.system, marked_at__lt=scope.until, incident__opened_at__lt=scope.until
        )
        .select_related("incident")
        .order_by("aware_at")
    )
    late = [
        r
        for r in reports
        if r.late or (r.submitted_at is None and r.deadline_at < scope.generated_at)
    ]
    return SectionContent(
        context={"reports": reports, "now": scope.generated_at},
        summary=[
            ("Serious incidents (Art. 73)", str(len(reports))),
            ("Serious incident reports late or overdue", str(len(late))),
        ],
    )


def build_authority_report(scope: ReportScope) -> SectionContent | None:
    incident = scope.incident
    if incident is None:
        return None
    report = incident.serious_report
    classification = AIActClassification.objects.filter(system=report.system).first()
    return SectionContent(
        context={
            "incident": incident,
            "report": report,
            "system": report.system,
            "classification": classification,
            "area": ANNEX_III_AREAS.get(getattr(classification, "annex_iii_area", "")),
            "timeline": list(incident.timeline.order_by("occurred_at", "id")),
            "versions": list(report.system.versions.order_by("-registered_at")[:5]),
            "now": scope.generated_at,
        },
        summary=[
            ("Incident", f"{incident.ref} {incident.title}"),
            ("Reporting deadline", f"{report.deadline_at:%Y-%m-%d %H:%M} UTC"),
            (
                "Submitted",
                f"{report.submitted_at:%Y-%m-%d %H:%M} UTC, reference {report.reference}"
                + (" (late)" if report.late else "")
                if report.submitted_at
                else "not yet",
            ),
        ],
    )


CLASSIFICATION = Section(
    key="ai-act-classification",
    title="EU AI Act classification",
    template="reports/print/sections/ai_act_classification.html",
    kinds=AI_ACT_KINDS,
    build=build_classification,
)
OBLIGATIONS = Section(
    key="ai-act-obligations",
    title="EU AI Act obligations",
    template="reports/print/sections/ai_act_obligations.html",
    kinds=AI_ACT_KINDS,
    build=build_obligations,
)
SERIOUS_INCIDENTS = Section(
    key="ai-act-serious-incidents",
    title="Serious incidents (Art. 73)",
    template="reports/print/sections/ai_act_serious.html",
    kinds=AI_ACT_KINDS,
    build=build_serious,
)
AUTHORITY_REPORT = Section(
    key="serious-incident-report",
    title="Serious incident report to the market surveillance authority",
    template="reports/print/sections/serious_incident_report.html",
    kinds=frozenset({"serious_incident"}),
    build=build_authority_report,
)
