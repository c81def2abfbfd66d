"""A pipeline's repeated checks take the known input from the process's cache, and every change
the input reflects is still seen by the very next check."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from governance.controls.aiact import Answers
from governance.controls.classifications import ai_act_classify
from governance.controls.models import Subcategory
from governance.controls.services import control_implementation_update
from governance.core.actor import Actor
from governance.inventory.services import ai_system_update, model_version_update
from governance.policy.inputs import deployment_input
from governance.policy.selectors import deployment_request_resolve
from governance.policy.services import (
    decision_evaluate,
    policy_data_update,
    policy_version_activate,
)
from governance.runtime.services import kill_switch_create, kill_switch_engage

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("tests")


def next_input(environment: str = "production", requester: str = "ci") -> dict:
    return deployment_input(
        deployment_request_resolve(
            system_slug="churn", version="2.0", environment=environment, requester=requester
        )
    )


def test_a_repeated_check_reads_one_row_of_state_and_keeps_its_own_requester(world):
    first = next_input()
    with CaptureQueriesContext(connection) as queries:
        again = next_input(requester="someone-else")
    assert len(queries) == 1, [q["sql"] for q in queries]
    assert again["request"]["requester"] == "someone-else"
    assert {k: v for k, v in again.items() if k not in ("request", "now")} == {
        k: v for k, v in first.items() if k not in ("request", "now")
    }
    # The document is the caller's own: changing it does not change the next one.
    again["coverage"]["missing_required"].append("MADE UP")
    assert "MADE UP" not in next_input()["coverage"]["missing_required"]


def _coverage(world) -> None:
    code = next_input()["coverage"]["missing_required"][0]
    control_implementation_update(
        actor=ACTOR,
        system=world.system,
        subcategory=Subcategory.objects.get(code=code),
        reason="done",
        status="implemented",
    )


def _kill_switch(world) -> None:
    switch = kill_switch_create(actor=ACTOR, key="churn-off", system=world.system, scope="system")
    kill_switch_engage(actor=ACTOR, switch=switch, reason="Drift")


def _tier(world) -> None:
    ai_system_update(actor=ACTOR, system=world.system, reason="Scores people", risk_tier="high")


def _evaluation(world) -> None:
    model_version_update(
        actor=ACTOR,
        version=world.good,
        reason="Re-evaluated",
        evaluation=[{"metric": "auc", "value": 0.5, "threshold": 0.8, "dataset": "holdout"}],
    )


def _classification(world) -> None:
    ai_act_classify(
        actor=ACTOR,
        system=world.system,
        answers=Answers(annex_iii_area="5b", role="provider"),
        reasons="Scores consumer credit",
    )


def _allowed_elsewhere(world) -> None:
    # No audit event: the baseline moves with an allowing decision for another version.
    other = deployment_request_resolve(
        system_slug="churn", version="2.1-pkl", environment="staging", requester="ci"
    )
    assert decision_evaluate(actor=ACTOR, endpoint="api", request=other).allow


CHANGES = {
    "coverage": (_coverage, lambda i: len(i["coverage"]["missing_required"])),
    "kill switch": (_kill_switch, lambda i: [s["key"] for s in i["kill_switches"]]),
    "risk tier": (_tier, lambda i: i["system"]["risk_tier"]),
    "evaluation": (_evaluation, lambda i: i["model_version"]["evaluation"]),
    "AI Act class": (_classification, lambda i: i["system"]["eu_ai_act"]),
    "allowed version": (_allowed_elsewhere, lambda i: i["current_version"]),
}


@pytest.mark.parametrize("name", CHANGES)
def test_every_change_is_seen_by_the_very_next_check(world, name):
    change, seen = CHANGES[name]
    environment = "staging" if name == "allowed version" else "production"
    before = seen(next_input(environment))
    next_input(environment)  # the cache is warm
    change(world)
    assert seen(next_input(environment)) != before


def test_a_rolled_back_change_leaves_no_input_behind(world):
    with pytest.raises(RuntimeError), transaction.atomic():
        _tier(world)
        assert next_input()["system"]["risk_tier"] == "high"  # seen inside its transaction
        raise RuntimeError("rolled back")
    # The next change writes the audit event the rolled-back one wrote: the same sequence
    # number, another hash, so the input cached inside that transaction is never used.
    _evaluation(world)
    assert next_input()["system"]["risk_tier"] == "low"


def test_an_activation_is_seen_by_the_very_next_check(world):
    def decide():
        request = deployment_request_resolve(
            system_slug="churn", version="2.0", environment="staging", requester="ci"
        )
        return decision_evaluate(actor=ACTOR, endpoint="api", request=request).policy_version

    assert decide().number == decide().number == world.policy.number
    newer = policy_data_update(
        actor=ACTOR, base=world.policy, data={**world.policy.data, "note": "v2"}, note="A note"
    )
    policy_version_activate(actor=ACTOR, version=newer, reason="Roll forward")
    assert decide().number == newer.number
    policy_version_activate(actor=ACTOR, version=world.policy, reason="Roll back")
    assert decide().number == world.policy.number
