"""Kill switch tests use the incident factories: a switch is engaged for an incident."""

# Fixtures imported from tests.incidents are requested by name as parameters here.
# ruff: noqa: F811

import pytest

from governance.core.actor import Actor
from governance.inventory.services import model_version_register
from governance.runtime.control_services import runtime_control_create
from tests.incidents.conftest import (  # noqa: F401 (fixtures)
    _severity_levels,
    approver,
    commander,
    eager_celery,
    incident,
    make_incident,
    make_switch,
    switch,
    system,
    version,
)


@pytest.fixture
def prompts(system):
    """Two registered model versions, each with its prompt version."""
    for number, prompt in (("3.0.0", "refunds-v6"), ("3.1.0", "refunds-v7")):
        model_version_register(
            actor=Actor.system("tests"),
            system=system,
            version=number,
            framework="llm-provider",
            artifact_format="provider-hosted",
            prompt_version=prompt,
        )
    return ["refunds-v6", "refunds-v7"]


@pytest.fixture
def make_control(system):
    def make(key: str = "copilot-prompt", **fields):
        fields.setdefault("kind", "prompt_version")
        fields.setdefault("value", "refunds-v7")
        fields.setdefault("safe_value", "refunds-v6")
        return runtime_control_create(actor=Actor.system("tests"), key=key, system=system, **fields)

    return make
