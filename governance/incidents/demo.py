"""Demo data for incidents: severity levels, kill switches and runbooks, through the services.

Idempotent: what exists is left alone. No incident is opened, so the demo starts calm and the
incident commander opens the first one.
"""

from governance.core.actor import Actor
from governance.incidents.models import KillSwitch, Runbook
from governance.incidents.runbook_templates import runbook_create_from_template
from governance.incidents.services import kill_switch_create
from governance.incidents.severity import severity_levels_ensure
from governance.inventory.models import AISystem, ModelVersion

DEMO_SWITCHES = (
    {
        "key": "support-copilot",
        "system": "support-copilot",
        "scope": "system",
        "safe_state": "engaged",
        "description": "Stops every automated reply; tickets go to the human queue.",
    },
    {
        "key": "support-copilot-refund-tool",
        "system": "support-copilot",
        "scope": "feature",
        "feature": "refund_lookup",
        "safe_state": "engaged",
        "description": "The model stops calling the refund lookup tool.",
    },
    {
        "key": "support-copilot-retriever",
        "system": "support-copilot",
        "scope": "feature",
        "feature": "help_centre_retriever",
        "safe_state": "released",
        "description": "Answers come without help-centre retrieval (fails open).",
    },
    {
        "key": "credit-risk-scoring-production",
        "system": "credit-risk-scoring",
        "scope": "environment",
        "environment": "production",
        "safe_state": "engaged",
        "description": "Production scoring stops; applications go to manual underwriting.",
    },
)


def incidents_demo_seed(*, actor: Actor) -> None:
    severity_levels_ensure()
    for spec in DEMO_SWITCHES:
        if KillSwitch.objects.filter(key=spec["key"]).exists():
            continue
        system = AISystem.objects.filter(slug=spec["system"]).first()
        if system is None:
            continue
        kill_switch_create(actor=actor, **{**spec, "system": system})
    copilot = AISystem.objects.filter(slug="support-copilot").first()
    if copilot and not Runbook.objects.filter(slug="support-copilot-disable-refunds").exists():
        runbook_create_from_template(
            actor=actor,
            system=copilot,
            template="disable-tool",
            slug="support-copilot-disable-refunds",
            kill_switch=KillSwitch.objects.get(key="support-copilot-refund-tool"),
        )
    if copilot and not Runbook.objects.filter(slug="support-copilot-route-to-human").exists():
        runbook_create_from_template(
            actor=actor,
            system=copilot,
            template="route-to-human",
            slug="support-copilot-route-to-human",
            kill_switch=KillSwitch.objects.get(key="support-copilot"),
        )
    scoring = AISystem.objects.filter(slug="credit-risk-scoring").first()
    version = ModelVersion.objects.filter(system=scoring, version="7.1.0").first()
    if version and not Runbook.objects.filter(slug="credit-risk-scoring-rollback").exists():
        runbook_create_from_template(
            actor=actor,
            system=scoring,
            template="rollback-model",
            slug="credit-risk-scoring-rollback",
            model_version=version,
        )
