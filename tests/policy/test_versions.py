"""Policy versions: content-addressed, compiled and tested, activated with an audited reason."""

import pytest
from django.core.exceptions import ValidationError

from governance.audit.models import AuditEvent
from governance.core.actor import Actor
from governance.core.errors import Conflict, DomainError
from governance.policy.models import PolicyVersion, VersionStatus
from governance.policy.services import (
    policy_data_update,
    policy_directory_load,
    policy_version_activate,
    policy_version_create,
)

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("tests")


def test_loading_the_same_directory_twice_creates_one_version(world):
    again = policy_directory_load(actor=ACTOR)
    assert again == world.policy
    assert PolicyVersion.objects.count() == 1
    assert world.policy.status == VersionStatus.ACTIVE
    assert world.policy.tests_passed is True
    assert len(world.policy.test_results) >= 20


def test_activation_needs_a_reason_and_is_audited_and_retires_the_old_one(world):
    evaluation = {**world.policy.data["evaluation"], "regression_tolerance": 0.03}
    data = {**world.policy.data, "evaluation": evaluation}
    candidate = policy_data_update(actor=ACTOR, base=world.policy, data=data, note="tolerance")
    with pytest.raises(ValidationError):
        policy_version_activate(actor=ACTOR, version=candidate, reason="  ")
    candidate.refresh_from_db()
    assert candidate.status == VersionStatus.CANDIDATE
    policy_version_activate(
        actor=ACTOR, version=candidate, reason="tolerance agreed by the model risk board"
    )
    world.policy.refresh_from_db()
    candidate.refresh_from_db()
    assert (world.policy.status, candidate.status) == (VersionStatus.RETIRED, VersionStatus.ACTIVE)
    event = AuditEvent.objects.get(
        action="policy.version.activated", target_id=str(candidate.number)
    )
    assert event.reason == "tolerance agreed by the model risk board"
    assert event.before["displaced"] == [f"v{world.policy.number}"]


def test_activating_the_active_version_again_is_a_conflict(world):
    with pytest.raises(Conflict):
        policy_version_activate(actor=ACTOR, version=world.policy, reason="again")


def test_a_version_whose_rego_tests_fail_cannot_be_activated(world):
    modules = {
        **world.policy.modules,
        "extra_test.rego": (
            "package governance.extra_test\nimport rego.v1\ntest_always_fails if { 1 == 2 }\n"
        ),
    }
    candidate = policy_version_create(
        actor=ACTOR, modules=modules, data=world.policy.data, note="x"
    )
    assert candidate.tests_passed is False
    failed = [r["name"] for r in candidate.test_results if not r["passed"]]
    assert failed == ["test_always_fails"]
    with pytest.raises(DomainError, match="fails its Rego tests"):
        policy_version_activate(actor=ACTOR, version=candidate, reason="ship it")


def test_a_version_that_does_not_compile_is_refused_and_nothing_is_stored(world):
    modules = {
        **world.policy.modules,
        "broken.rego": "package governance.deployment\nnot rego at all {",
    }
    with pytest.raises(ValidationError, match="does not compile"):
        policy_version_create(actor=ACTOR, modules=modules, data=world.policy.data, note="x")
    assert PolicyVersion.objects.count() == 1


@pytest.mark.parametrize(
    "windows",
    [
        [{"name": "x", "start": "2026-12-20", "end": "2027-01-02T00:00:00Z", "environments": []}],
        [
            {
                "name": "x",
                "start": "2027-01-02T00:00:00Z",
                "end": "2026-12-20T00:00:00Z",
                "environments": [],
            }
        ],
        "not a list",
    ],
)
def test_freeze_windows_must_be_utc_stamps_in_order(world, windows):
    data = {**world.policy.data, "freeze_windows": windows}
    with pytest.raises(ValidationError):
        policy_data_update(actor=ACTOR, base=world.policy, data=data, note="bad window")
    assert PolicyVersion.objects.count() == 1


def test_shipped_rego_unit_tests_pass_through_the_engine():
    from django.core.management import call_command

    call_command("policy_test")  # raises CommandError when any test fails
