"""Decisions: logged, fail closed, fail open only where configured (and audited), shadowed."""

import pytest
from django.test import override_settings

from governance.audit.models import AuditEvent
from governance.core.actor import Actor
from governance.policy.inputs import DeploymentRequest
from governance.policy.models import Decision, PolicyVersion, ShadowResult, VersionStatus
from governance.policy.services import (
    decision_evaluate,
    policy_data_update,
    policy_version_activate,
    policy_version_create,
    policy_version_shadow,
)

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("tests")


def ask(world, version=None, environment="staging", change=None):
    return decision_evaluate(
        actor=ACTOR,
        endpoint="api",
        request=DeploymentRequest(
            system=world.system,
            model_version=version or world.good,
            environment=environment,
            requester="owner",
            change=change or {},
        ),
    )


def test_allowed_decision_is_logged_with_version_hash_engine_and_latency(world):
    decision = ask(world)
    assert decision.allow is True
    stored = Decision.objects.get()
    assert stored.policy_version == world.policy
    assert stored.policy_hash == world.policy.content_hash
    assert stored.engine == "embedded"
    assert stored.latency_ms > 0
    assert stored.input["model_version"]["version"] == "2.0"
    assert stored.caller == "system:tests"


def test_pickle_is_denied_in_production_with_its_controls(world):
    decision = ask(world, version=world.pickled, environment="production")
    assert decision.allow is False
    codes = {v["code"]: v for v in decision.violations}
    assert "supply_chain.artifact_format_not_allowed" in codes
    assert "MEASURE 2.7" in codes["supply_chain.artifact_format_not_allowed"]["controls"]


def test_a_recorded_pickle_exception_in_the_data_lets_that_version_through(world):
    data = {**world.policy.data, "exceptions": {"pickle": ["churn@2.1-pkl"]}}
    version = policy_data_update(actor=ACTOR, base=world.policy, data=data, note="risk accepted")
    policy_version_activate(actor=ACTOR, version=version, reason="exception for churn 2.1")
    decision = ask(world, version=world.pickled, environment="production")
    codes = {v["code"] for v in decision.violations}
    assert "supply_chain.artifact_format_not_allowed" not in codes
    assert "supply_chain.pickle_exception" in codes


def test_secret_fields_are_masked_in_the_log(world):
    ask(world, change={"ticket": "CHG-1", "api_token": "s3cr3t", "nested": {"password": "x"}})
    stored = Decision.objects.get().input["request"]["change"]
    assert stored == {"ticket": "CHG-1", "api_token": "***", "nested": {"password": "***"}}


def test_no_active_policy_fails_closed(world):
    PolicyVersion.objects.update(status=VersionStatus.RETIRED)
    decision = ask(world)
    assert decision.allow is False
    assert decision.violations[0]["code"] == "engine.error"
    assert "No policy version is active" in decision.error
    assert not AuditEvent.objects.filter(action="policy.decision.fail_open").exists()


@override_settings(OPA_URL="http://127.0.0.1:9", POLICY_TIMEOUT_MS=300)
def test_engine_failure_denies_with_the_reason_by_default(world):
    decision = ask(world)
    assert decision.allow is False
    assert decision.engine == "opa"
    assert "OPA" in decision.error
    assert decision.fail_open is False


@override_settings(OPA_URL="http://127.0.0.1:9", POLICY_TIMEOUT_MS=300, POLICY_FAIL_OPEN=["api"])
def test_fail_open_endpoint_allows_and_every_such_decision_is_audited(world, client_for):
    decision = ask(world)
    assert decision.allow is True
    assert decision.fail_open is True
    event = AuditEvent.objects.get(action="policy.decision.fail_open")
    assert event.target_id == str(decision.decision_id)
    assert event.target_type == "policy.decision"
    explorer = client_for("auditor").get("/audit/").content.decode()
    assert f'href="/policy/decisions/{decision.decision_id}/"' in explorer


def test_shadow_version_disagreement_is_recorded(world):
    stricter = {
        **world.policy.data,
        "classification": {**world.policy.data["classification"], "staging": ["public"]},
    }
    candidate = policy_version_create(
        actor=ACTOR, modules=world.policy.modules, data=stricter, note="stricter"
    )
    policy_version_shadow(actor=ACTOR, version=candidate, reason="dry run before tightening")
    decision = ask(world)
    assert decision.allow is True  # the active version decides
    shadow = ShadowResult.objects.get(decision=decision)
    assert shadow.allow is False
    assert shadow.added == ["data.classification_not_allowed"]


def test_shadow_that_agrees_records_nothing(world):
    same_rules = {**world.policy.data, "freeze_windows": []}
    candidate = policy_version_create(
        actor=ACTOR, modules=world.policy.modules, data=same_rules, note="no freeze"
    )
    policy_version_shadow(actor=ACTOR, version=candidate, reason="dry run")
    ask(world)
    assert not ShadowResult.objects.exists()


def test_policy_input_gaps_equal_the_coverage_pages_gaps(world):
    from governance.controls.coverage import coverage_for
    from governance.controls.models import ControlStatus, Subcategory
    from governance.controls.selectors import required_gaps
    from governance.controls.services import control_implementation_update

    high = world.system
    high.risk_tier = "high"
    high.save(update_fields=["risk_tier"])
    for code, status in (("GOVERN 1.1", ControlStatus.IMPLEMENTED), ("MAP 1.1", "in_progress")):
        control_implementation_update(
            actor=ACTOR,
            system=high,
            subcategory=Subcategory.objects.get(code=code),
            reason="progress",
            status=status,
        )
    required, gaps = required_gaps(system=high)
    coverage = coverage_for([high])[high.pk]
    assert (required, gaps) == (coverage.total.required, coverage.gaps)
    assert "GOVERN 1.1" not in gaps and "MAP 1.1" in gaps
    decision = ask(world, environment="production")
    assert decision.input["coverage"]["missing_required"] == gaps
    assert "coverage.required_controls_missing" in {v["code"] for v in decision.violations}


def test_a_decision_can_be_linked_as_evidence(world):
    from governance.controls.models import Subcategory
    from governance.controls.services import evidence_add

    decision = ask(world)
    evidence = evidence_add(
        actor=ACTOR,
        system=world.system,
        subcategory=Subcategory.objects.get(code="MEASURE 2.3"),
        title="Release gate passed",
        object_type="policy.decision",
        object_id=str(decision.decision_id),
    )
    assert evidence.object_url == f"/policy/decisions/{decision.decision_id}/"
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        evidence_add(
            actor=ACTOR,
            system=world.system,
            subcategory=Subcategory.objects.get(code="MEASURE 2.3"),
            title="Nothing",
            object_type="policy.decision",
            object_id="00000000-0000-0000-0000-000000000000",
        )


def test_an_engaged_kill_switch_refuses_deployment_and_a_released_one_does_not(world):
    from governance.runtime.services import (
        kill_switch_create,
        kill_switch_engage,
        kill_switch_release,
    )

    switch = kill_switch_create(actor=ACTOR, key="churn-off", system=world.system, scope="system")
    prod_only = kill_switch_create(
        actor=ACTOR,
        key="churn-prod",
        system=world.system,
        scope="environment",
        environment="production",
    )
    kill_switch_engage(actor=ACTOR, switch=prod_only, reason="drift in production")
    assert "kill_switch.engaged" not in {v["code"] for v in ask(world).violations}  # staging
    kill_switch_engage(actor=ACTOR, switch=switch, reason="PII leak in answers")
    decision = ask(world)
    assert decision.allow is False
    engaged = [v for v in decision.violations if v["code"] == "kill_switch.engaged"]
    assert engaged[0]["message"] == "Kill switch churn-off is engaged: PII leak in answers"
    assert decision.input["kill_switches"][0]["key"] == "churn-off"
    kill_switch_release(actor=ACTOR, switch=switch, reason="fixed")
    assert ask(world).allow is True


def test_a_refused_deployment_lands_on_the_incident_timeline(world):
    from governance.incidents.models import SeverityLevel, TimelineEntry
    from governance.incidents.services import incident_open
    from governance.runtime.services import kill_switch_create, kill_switch_engage

    incident = incident_open(
        actor=ACTOR,
        title="Churn scores drift",
        severity=SeverityLevel.objects.get(code="SEV2"),
        systems=[world.system],
        commander=world.owner,
    )
    switch = kill_switch_create(actor=ACTOR, key="churn-off", system=world.system, scope="system")
    kill_switch_engage(actor=ACTOR, switch=switch, reason="drift", incident=incident)
    decision = ask(world)
    entry = TimelineEntry.objects.get(incident=incident, kind="deployment")
    assert entry.data["decision_id"] == str(decision.decision_id)
    assert "churn@2.0 to staging refused by policy" in entry.message
