"""The AI system as registered: owners, risk, uses, model versions and datasets."""

from governance.inventory.models import Dataset, ModelVersion
from governance.reports.sections.base import ReportScope, Section, SectionContent


def build(scope: ReportScope) -> SectionContent | None:
    system = scope.system
    if system is None:
        return None
    versions = list(
        ModelVersion.objects.filter(system=system)
        .prefetch_related("datasets")
        .order_by("-registered_at")
    )
    datasets = list(
        Dataset.objects.filter(model_versions__system=system).distinct().order_by("name")
    )
    return SectionContent(
        context={"system": system, "versions": versions, "datasets": datasets},
        summary=[
            ("Risk tier", system.get_risk_tier_display()),
            ("Lifecycle stage", system.get_lifecycle_stage_display()),
            ("Business owner", system.owner.get_full_name() or system.owner.username),
            ("Model versions", str(len(versions))),
        ],
    )


SECTION = Section(
    key="system",
    title="The AI system",
    template="reports/print/sections/system_profile.html",
    kinds=frozenset({"system", "ai_act"}),
    build=build,
)
