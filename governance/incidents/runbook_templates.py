"""Starter runbooks for the ways AI systems usually go wrong, and the service that copies one.

A step whose automated action needs something the caller did not give (a kill switch, a runtime
control, a webhook URL) becomes a manual step with the same instructions.
"""

from dataclasses import dataclass
from typing import Any

from django.db import transaction

from governance.core.actor import Actor
from governance.incidents.models import Runbook, RunbookTemplate, StepAction
from governance.incidents.runbooks import runbook_create, runbook_step_add
from governance.inventory.models import AISystem, ModelVersion
from governance.runtime.models import KillSwitch, RuntimeControl


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
                "Revert to the last approved prompt",
                "Set the prompt control to the prompt version of the newest approved release: "
                "services reading it switch at their next evaluation.",
                StepAction.REVERT_PROMPT,
            ),
            StepSpec(
                "Make the revert durable",
                "Open a release for the reverted prompt so the next deployment keeps it.",
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
                "Swap to the last good retriever",
                "Set the retriever control to the registered fallback (e.g. the previous index "
                "snapshot): services switch at their next evaluation.",
                StepAction.SET_CONTROL,
            ),
            StepSpec(
                "Purge the bad documents",
                "Remove the restricted, stale or poisoned documents from the faulty index.",
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
                "Route requests to people",
                "Set the route-to-human control: services send every request to the human queue.",
                StepAction.SET_CONTROL,
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
                "Roll back the deployed release",
                "Mark the release deployed in the environment rolled back: the previous version "
                "becomes current (policy decisions compare against it), model controls follow, "
                "and the deployment side gets the signed release.rolled_back webhook.",
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
    control: RuntimeControl | None = None,
    control_value: Any = None,
    environment: str = "",
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
        if control is not None and control.kind == "route_to_human" and control_value is None:
            control_value = True
        for spec in steps:
            action = spec.action
            if (
                (action == StepAction.ENGAGE_KILL_SWITCH and kill_switch is None)
                or (action == StepAction.REVERT_PROMPT and control is None)
                or (action == StepAction.SET_CONTROL and (control is None or control_value is None))
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
                environment=environment if action == StepAction.ROLLBACK else "",
                control=control
                if action in (StepAction.SET_CONTROL, StepAction.REVERT_PROMPT)
                else None,
                control_value=control_value if action == StepAction.SET_CONTROL else None,
                webhook_url=webhook_url if action == StepAction.WEBHOOK else "",
                webhook_secret=webhook_secret if action == StepAction.WEBHOOK else "",
            )
    return runbook
