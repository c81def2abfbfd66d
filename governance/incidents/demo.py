"""Demo data for incidents: severity levels, kill switches, runtime controls and runbooks,
through the services.

Idempotent: what exists is left alone. No incident is opened, so the demo starts calm and the
incident commander opens the first one.
"""

from django.core.exceptions import ValidationError

from governance.core.actor import Actor
from governance.incidents.models import Runbook
from governance.incidents.runbook_templates import runbook_create_from_template
from governance.incidents.severity import severity_levels_ensure
from governance.inventory.models import AISystem
from governance.runtime.control_services import runtime_control_create
from governance.runtime.models import KillSwitch, RuntimeControl
from governance.runtime.services import kill_switch_create

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


DEMO_CONTROLS = (
    {
        "key": "support-copilot-prompt",
        "system": "support-copilot",
        "kind": "prompt_version",
        "value": "support-v14",
        "safe_value": "support-v14",
        "description": "The prompt version the copilot serves; runbooks revert it.",
    },
    {
        "key": "support-copilot-human",
        "system": "support-copilot",
        "kind": "route_to_human",
        "value": False,
        "safe_value": True,
        "description": "Every ticket goes to the human queue while true.",
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
    for spec in DEMO_CONTROLS:
        system = AISystem.objects.filter(slug=spec["system"]).first()
        if system is None or RuntimeControl.objects.filter(key=spec["key"]).exists():
            continue
        try:
            runtime_control_create(actor=actor, **{**spec, "system": system})
        except ValidationError:  # the demo system lacks the registered prompt version
            continue
    copilot = AISystem.objects.filter(slug="support-copilot").first()
    prompt = RuntimeControl.objects.filter(key="support-copilot-prompt").first()
    if copilot and prompt and not Runbook.objects.filter(slug="support-copilot-revert").exists():
        runbook_create_from_template(
            actor=actor,
            system=copilot,
            template="revert-prompt",
            slug="support-copilot-revert",
            control=prompt,
        )
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
            control=RuntimeControl.objects.filter(key="support-copilot-human").first(),
        )
    scoring = AISystem.objects.filter(slug="credit-risk-scoring").first()
    if scoring and not Runbook.objects.filter(slug="credit-risk-scoring-rollback").exists():
        # Rolls back whatever release is deployed in production when it runs.
        runbook_create_from_template(
            actor=actor,
            system=scoring,
            template="rollback-model",
            slug="credit-risk-scoring-rollback",
            environment="production",
        )
