"""The decision path: the baseline "version this one replaces" comes from one indexed row per
(system, environment, version), written with each allowing decision, never from scanning the
decision log; and the input stays exactly as fresh as the log."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from governance.core.actor import Actor
from governance.inventory.services import model_version_register
from governance.policy.inputs import DeploymentRequest, deployment_input
from governance.policy.models import AllowedVersion
from governance.policy.services import decision_evaluate
from tests.policy.conftest import COMPLETE

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("tests")


def ask(world, version, environment="staging", dry_run=False):
    return decision_evaluate(
        actor=ACTOR,
        endpoint="api",
        request=DeploymentRequest(
            system=world.system, model_version=version, environment=environment, requester="o"
        ),
        dry_run=dry_run,
    )


def request_for(world, version, environment="staging"):
    return DeploymentRequest(
        system=world.system, model_version=version, environment=environment, requester="o"
    )


def test_allowing_decisions_move_the_baseline_and_others_do_not(world):
    newer = model_version_register(
        actor=ACTOR,
        system=world.system,
        version="2.1",
        framework="sklearn",
        artifact_format="onnx",
        datasets=list(world.good.datasets.all()),
        **COMPLETE,
    )
    assert ask(world, world.good).allow
    row = AllowedVersion.objects.get()
    assert (row.system_slug, row.environment, row.model_version) == ("churn", "staging", "2.0")
    # 2.1's next decision compares with 2.0, the version allowed there last.
    assert deployment_input(request_for(world, newer))["current_version"]["version"] == "2.0"
    ask(world, newer, dry_run=True)
    assert AllowedVersion.objects.count() == 1  # a dry run never counts
    assert not ask(world, world.pickled, environment="production").allow
    assert AllowedVersion.objects.count() == 1  # nor does a denial
    first = row.last_allowed_at
    assert ask(world, world.good).allow
    row.refresh_from_db()
    assert row.last_allowed_at > first and AllowedVersion.objects.count() == 1  # upserted
    assert ask(world, newer).allow
    # Now 2.0's next decision compares with 2.1, and the reverse: the very next decision sees it.
    assert deployment_input(request_for(world, world.good))["current_version"]["version"] == "2.1"
    assert ask(world, world.good).allow
    assert deployment_input(request_for(world, newer))["current_version"]["version"] == "2.0"


def test_the_input_never_scans_the_decision_log(world):
    for _ in range(5):
        ask(world, world.good)
    with CaptureQueriesContext(connection) as reads:
        deployment_input(request_for(world, world.good))
    tables = " ".join(q["sql"] for q in reads.captured_queries)
    assert "policy_decision" not in tables
    assert "policy_allowedversion" in tables


def test_a_decision_costs_a_constant_number_of_queries(world):
    ask(world, world.good)
    with CaptureQueriesContext(connection) as first:
        ask(world, world.good)
    for _ in range(10):
        ask(world, world.good)
    with CaptureQueriesContext(connection) as later:
        ask(world, world.good)
    assert len(later.captured_queries) == len(first.captured_queries) <= 12
