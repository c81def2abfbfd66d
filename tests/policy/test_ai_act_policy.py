"""The shipped policy and the EU AI Act: a high-risk system reaches production only once its
conformity assessment (Art. 43) and registration (Art. 49) are implemented; a prohibited
practice never deploys."""

from django.core.management import call_command

from governance.controls.aiact import Answers
from governance.controls.classifications import ai_act_classify
from governance.controls.models import Subcategory
from governance.controls.services import control_implementation_update
from governance.core.actor import Actor
from tests.policy.test_decisions import ask

ACTOR = Actor.system("tests")


def codes(decision) -> set[str]:
    return {v["code"] for v in decision.violations}


def implement(world, code: str) -> None:
    control_implementation_update(
        actor=ACTOR,
        system=world.system,
        subcategory=Subcategory.objects.get(code=code),
        reason=f"{code} done",
        status="implemented",
    )


def test_high_risk_is_denied_in_production_until_assessed_and_registered(world):
    call_command("load_catalog", verbosity=0)
    ai_act_classify(
        actor=ACTOR,
        system=world.system,
        answers=Answers(annex_iii_area="5b", role="provider"),
        reasons="Scores consumer credit",
    )
    first = ask(world, environment="production")
    assert "ai_act.high_risk_not_ready" in codes(first) and not first.allow
    messages = [v["message"] for v in first.violations if v["code"] == "ai_act.high_risk_not_ready"]
    assert any("Art. 43" in m and "conformity assessment" in m for m in messages)
    assert any("Art. 49" in m and "registration" in m for m in messages)
    # Staging only warns.
    staging = ask(world, environment="staging")
    assert staging.allow and "ai_act.high_risk_not_ready" in codes(staging)
    implement(world, "Art. 43")
    still = ask(world, environment="production")
    assert not still.allow
    assert [m for m in (v["message"] for v in still.violations) if "Art. 43" in m] == []
    implement(world, "Art. 49")
    ready = ask(world, environment="production")
    assert "ai_act.high_risk_not_ready" not in codes(ready)
    assert ready.input["system"]["eu_ai_act"]["risk_class"] == "high_risk"


def test_a_prohibited_practice_is_denied_everywhere(world):
    call_command("load_catalog", verbosity=0)
    ai_act_classify(
        actor=ACTOR,
        system=world.system,
        answers=Answers(prohibited_practice="5.1.c", role="provider"),
        reasons="Scores citizens' social behaviour",
    )
    for environment in ("development", "staging", "production"):
        decision = ask(world, environment=environment)
        assert not decision.allow
        assert "ai_act.prohibited_practice" in codes(decision)


def test_an_unclassified_system_sees_no_ai_act_rule(world):
    decision = ask(world, environment="staging")
    assert decision.input["system"]["eu_ai_act"] == {"classified": False}
    assert not {c for c in codes(decision) if c.startswith("ai_act.")}
