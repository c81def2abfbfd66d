"""Starter runbooks for the ways AI systems usually go wrong, and the service that copies one.

A step whose automated action needs something the caller did not give (a kill switch, a model
version, a webhook URL) becomes a manual step with the same instructions.
"""

from dataclasses import dataclass

from django.db import transaction

from governance.core.actor import Actor
from governance.incidents.models import (
    KillSwitch,
    Runbook,
    RunbookTemplate,
    StepAction,
)
from governance.incidents.services import runbook_create, runbook_step_add
from governance.inventory.models import AISystem, ModelVersion


@dataclass(frozen=True)
class StepSpec:
    title: str
    instructions: str
    action: str = StepAction.NONE


_CONFIRM = StepSpec(
    "Confirm the harm has stopped",
    "Replay the failing conversations or requests; watch the error and complaint rates for "
    "15 minutes. Note the evidence on the timeline.",
)
_NOTIFY = StepSpec(
    "Notify the owners",
    "Tell the business and technical owners and the affected teams what changed and why.",
    StepAction.WEBHOOK,
)

TEMPLATES: dict[str, tuple[str, str, tuple[StepSpec, ...]]] = {
    RunbookTemplate.REVERT_PROMPT: (
        "Revert prompt",
        "A prompt change made the assistant leak data, hallucinate or misbehave.",
        (
            StepSpec(
                "Stop the faulty prompt",
                "Engage the prompt kill switch: clients fall back to the last approved prompt.",
                StepAction.ENGAGE_KILL_SWITCH,
            ),
            StepSpec(
                "Redeploy the last approved prompt version",
                "Find it in the model version's prompt_version; redeploy it through the normal "
                "pipeline.",
            ),
            _CONFIRM,
            _NOTIFY,
        ),
    ),
    RunbookTemplate.DISABLE_TOOL: (
        "Disable tool",
        "A tool the model calls (refunds, search, code execution) is being misused or is broken.",
        (
            StepSpec(
                "Disable the tool",
                "Engage the tool's feature kill switch: the model stops calling it.",
                StepAction.ENGAGE_KILL_SWITCH,
            ),
            StepSpec(
                "Review the tool calls made",
                "Pull the tool-call logs since the incident began; reverse harmful actions.",
            ),
            _CONFIRM,
            _NOTIFY,
        ),
    ),
    RunbookTemplate.SWAP_RETRIEVER: (
        "Swap retriever",
        "The retriever returns restricted, stale or poisoned documents.",
        (
            StepSpec(
                "Cut the retriever off",
                "Engage the retriever's feature kill switch: answers come without retrieval.",
                StepAction.ENGAGE_KILL_SWITCH,
            ),
            StepSpec(
                "Point at the last good index",
                "Switch the retriever to the previous index snapshot; purge the bad documents.",
            ),
            _CONFIRM,
            _NOTIFY,
        ),
    ),
    RunbookTemplate.ROUTE_TO_HUMAN: (
        "Route to human",
        "Automated answers or decisions cannot be trusted; people take over.",
        (
            StepSpec(
                "Stop automated answers",
                "Engage the system kill switch: clients route every request to the human queue.",
                StepAction.ENGAGE_KILL_SWITCH,
            ),
            StepSpec(
                "Staff the human queue",
                "Page the support lead; estimate the queue and the extra staff needed.",
            ),
            _NOTIFY,
        ),
    ),
    RunbookTemplate.ROLLBACK_MODEL: (
        "Roll back model",
        "A new model version drifts, underperforms or discriminates.",
        (
            StepSpec(
                "Roll back to the last good version",
                "Redeploy the named model version; the rollback is recorded on the timeline.",
                StepAction.ROLLBACK,
            ),
            StepSpec(
                "Freeze further deployments",
                "Block releases of this system until the cause is understood.",
            ),
            _CONFIRM,
            _NOTIFY,
        ),
    ),
}


def runbook_create_from_template(
    *,
    actor: Actor,
    system: AISystem,
    template: str,
    slug: str,
    kill_switch: KillSwitch | None = None,
    model_version: ModelVersion | None = None,
    webhook_url: str = "",
    webhook_secret: str = "",
) -> Runbook:
    name, description, steps = TEMPLATES[template]
    with transaction.atomic():
        runbook = runbook_create(
            actor=actor,
            system=system,
            slug=slug,
            name=f"{name}: {system.name}",
            description=description,
            template=template,
        )
        for spec in steps:
            action = spec.action
            if (
                (action == StepAction.ENGAGE_KILL_SWITCH and kill_switch is None)
                or (action == StepAction.ROLLBACK and model_version is None)
                or (action == StepAction.WEBHOOK and not (webhook_url and webhook_secret))
            ):
                action = StepAction.NONE
            runbook_step_add(
                actor=actor,
                runbook=runbook,
                title=spec.title,
                instructions=spec.instructions,
                action=action,
                kill_switch=kill_switch if action == StepAction.ENGAGE_KILL_SWITCH else None,
                model_version=model_version if action == StepAction.ROLLBACK else None,
                webhook_url=webhook_url if action == StepAction.WEBHOOK else "",
                webhook_secret=webhook_secret if action == StepAction.WEBHOOK else "",
            )
    return runbook
