"""Embedded evaluations run where a timeout kills them: a runaway policy costs only the
decisions made with it, the engine fails closed at once when saturated, and a version whose
evaluations keep being stopped (at the timeout or the memory limit) is flagged and audited."""

import os
import threading
import time
from dataclasses import replace

import pytest
from django.test import override_settings

from governance.audit.models import AuditEvent
from governance.core.actor import Actor
from governance.policy import engines
from governance.policy.engines.base import EngineError, EngineTimeout
from governance.policy.engines.embedded import EmbeddedEngine, EngineSaturated
from governance.policy.inputs import DeploymentRequest
from governance.policy.services import (
    decision_evaluate,
    policy_version_activate,
    policy_version_create,
)
from governance.policy.sources import PolicySnapshot
from tests.policy.test_corpus import CORPUS, shipped_policy

ACTOR = Actor.system("tests")
# Seconds of CPU per evaluation (a billion iterations) in little memory, so it is the time
# budget that stops it, however fast the machine (a big range would hit the memory cap first).
SLOW = """package governance.deployment
import rego.v1
r := numbers.range(1, 1000)
decision := {"allow": count([1 | some a in r; some b in r; some c in r; a + b + c < 0]) == 0,
             "violations": []}
"""
# Allocates without bound.
HUNGRY = """package governance.deployment
import rego.v1
decision := {"allow": count([[n, n, n] | some n in numbers.range(1, 50000000)]) > 0,
             "violations": []}
"""


def snapshot(source: str, tag: str) -> PolicySnapshot:
    return PolicySnapshot(number=99, content_hash=tag * 64, modules={"x.rego": source}, data={})


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split()[2] != "Z"


@pytest.fixture
def engine():
    made = EmbeddedEngine(timeout_seconds=0.4, processes=2, memory_mb=300, wait_ms=20)
    yield made
    made.close()


def test_a_timeout_kills_the_evaluation_and_healthy_decisions_go_on(engine):
    healthy, document = shipped_policy(), CORPUS[0]["input"]
    engine.timeout = 10  # the first evaluation compiles the version
    assert engine.evaluate(healthy, document).allow is True
    engine.timeout = 0.4
    pool = engine._processes()
    pids = {p.popen.pid for p in pool._idle}
    started = time.monotonic()
    with pytest.raises(EngineTimeout, match="stopped"):
        engine.evaluate(snapshot(SLOW, "s"), document)
    assert time.monotonic() - started < 1.5
    deadline = time.monotonic() + 5
    while all(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not all(alive(pid) for pid in pids), "the overrunning process still runs"
    # Every later healthy decision is decided, none denied as a timeout or as saturated.
    for case in CORPUS[:6]:
        assert engine.evaluate(healthy, case["input"]).allow is case["allow"]


def test_an_evaluation_that_outgrows_its_memory_budget_is_stopped(engine):
    engine.timeout = 20
    with pytest.raises(EngineError, match="more than 300 MB"):
        engine.evaluate(snapshot(HUNGRY, "m"), {})
    assert engine.evaluate(shipped_policy(), CORPUS[0]["input"]).allow is True


def test_a_saturated_engine_denies_at_once_instead_of_queueing():
    engine = EmbeddedEngine(timeout_seconds=10, processes=1, wait_ms=20)
    try:
        healthy, document = shipped_policy(), CORPUS[0]["input"]
        engine.evaluate(healthy, document)  # the one process is up and warm
        engine.timeout = 3
        outcomes: list[Exception] = []

        def run_away() -> None:
            try:
                engine.evaluate(snapshot(SLOW, "t"), {})
            except EngineError as exc:
                outcomes.append(exc)

        runaway = threading.Thread(target=run_away)
        runaway.start()
        time.sleep(0.3)
        started = time.monotonic()
        with pytest.raises(EngineSaturated, match="busy"):
            engine.evaluate(healthy, document)
        assert time.monotonic() - started < 1.0  # not the 3 s the runaway holds the process
        runaway.join()
        assert [type(e) for e in outcomes] == [EngineTimeout]
    finally:
        engine.close()


def test_a_rolled_back_runaway_does_not_hold_the_processes_its_successor_needs():
    """Every process is busy with a runaway version when an older, healthy one is activated
    again: the next healthy decision stops one runaway evaluation (denied as superseded) and
    is decided, instead of being denied as saturated for the rest of the runaway's timeout."""
    engine = EmbeddedEngine(timeout_seconds=10, processes=2, wait_ms=20)
    try:
        healthy, document = shipped_policy(), CORPUS[0]["input"]
        engine.evaluate(healthy, document)  # up and warm
        runaway = replace(snapshot(SLOW, "r"), number=7, since=1000.0)
        rolled_back = replace(healthy, since=2000.0)
        engine.timeout = 6
        outcomes: list[Exception] = []

        def run_away() -> None:
            try:
                engine.evaluate(runaway, {})
            except EngineError as exc:
                outcomes.append(exc)

        threads = [threading.Thread(target=run_away) for _ in range(2)]
        for thread in threads:  # one at a time: the first compiles it in both processes
            thread.start()
            time.sleep(0.8)
        assert not outcomes, outcomes
        # The version activated before the runaway may not stop it: still saturated.
        with pytest.raises(EngineSaturated):
            engine.evaluate(replace(healthy, since=500.0), document)
        started = time.monotonic()
        assert engine.evaluate(rolled_back, document).allow is CORPUS[0]["allow"]
        assert time.monotonic() - started < 4  # a new process, not the runaway's 6 s
        for case in CORPUS[1:4]:
            assert engine.evaluate(rolled_back, case["input"]).allow is case["allow"]
        for thread in threads:
            thread.join()
        messages = sorted(str(e) for e in outcomes)
        assert any("stopped to make room" in m and "with v7" in m for m in messages), messages
    finally:
        engine.close()


def _engine_with(**overrides):
    """Decisions on an engine built with these settings (the engines are made once)."""
    with override_settings(**overrides):
        engines.embedded_engine().close()
        engines.embedded_engine.cache_clear()
        yield
        engines.embedded_engine().close()
        engines.embedded_engine.cache_clear()


@pytest.fixture
def fast_timeouts():
    """Decisions on an engine built with a short timeout."""
    yield from _engine_with(POLICY_TIMEOUT_MS=400, POLICY_TIMEOUT_ALERT_COUNT=3)


def _decide(world):
    return decision_evaluate(
        actor=ACTOR,
        endpoint="api",
        request=DeploymentRequest(
            system=world.system,
            model_version=world.good,
            environment="staging",
            requester="owner",
            change={},
        ),
    )


@pytest.mark.django_db
def test_a_version_that_keeps_timing_out_is_flagged_audited_and_costs_only_its_decisions(
    world, client_for, fast_timeouts
):
    slow = policy_version_create(
        actor=ACTOR, modules={"slow.rego": SLOW}, data={}, note="pathological"
    )
    policy_version_activate(actor=ACTOR, version=slow, reason="fault drill")

    def ask():
        return _decide(world)

    for expected_events in (0, 0, 1, 1):
        decision = ask()
        assert decision.allow is False and "did not decide within 400 ms" in decision.error
        assert (
            AuditEvent.objects.filter(
                action="policy.version.timing_out", target_id=str(slow.number)
            ).count()
            == expected_events
        )
    event = AuditEvent.objects.get(action="policy.version.timing_out")
    assert event.after["timeouts_last_hour"] == 3 and event.actor_name == "policy-engine"
    admin = client_for("admin")
    assert 'data-health="timing-out"' in admin.get("/policy/").content.decode()
    page = admin.get(f"/policy/versions/{slow.number}/").content.decode()
    assert "keeps overrunning" in page
    # Back to the healthy version: the very next decisions are decided, none denied.
    policy_version_activate(actor=ACTOR, version=world.policy, reason="roll back the drill")
    activated = AuditEvent.objects.filter(action="policy.version.activated").last()
    assert activated.after["timeouts_last_hour"] == 0
    for _ in range(5):
        decision = ask()
        assert decision.allow is True and decision.error == ""
    restored = AuditEvent.objects.filter(
        action="policy.version.activated", target_id=str(slow.number)
    ).get()
    assert restored.after["timing_out"] is False  # it was activated before any timeout


@pytest.fixture
def small_memory():
    """Decisions on an engine that stops an evaluation past 300 MB, long before its timeout."""
    yield from _engine_with(
        POLICY_TIMEOUT_MS=30000, POLICY_ENGINE_MEMORY_MB=300, POLICY_TIMEOUT_ALERT_COUNT=2
    )


@pytest.mark.django_db
def test_a_version_that_keeps_outgrowing_its_memory_is_flagged_and_audited_too(
    world, client_for, small_memory
):
    """On a fast machine a runaway reaches the memory limit before the timeout: it is the same
    runaway, and the admin must see it the same way."""
    hungry = policy_version_create(
        actor=ACTOR, modules={"hungry.rego": HUNGRY}, data={}, note="allocates without bound"
    )
    policy_version_activate(actor=ACTOR, version=hungry, reason="fault drill")
    for expected_events in (0, 1):
        decision = _decide(world)
        assert decision.allow is False and "more than 300 MB" in decision.error
        assert (
            AuditEvent.objects.filter(
                action="policy.version.timing_out", target_id=str(hungry.number)
            ).count()
            == expected_events
        )
    event = AuditEvent.objects.get(action="policy.version.timing_out")
    assert event.after["timeouts_last_hour"] == 2 and event.after["memory_mb"] == 300
    assert "memory limit" in event.reason
    page = client_for("admin").get(f"/policy/versions/{hungry.number}/").content.decode()
    assert "keeps overrunning" in page and "memory limit" in page
