"""One golden corpus of inputs and expected decisions, run against every engine adapter."""

import json
import os
from pathlib import Path

import pytest

from governance.policy.engines.base import EngineError, EngineTimeout
from governance.policy.engines.embedded import EmbeddedEngine
from governance.policy.engines.opa import OpaEngine
from governance.policy.sources import PolicySnapshot, content_hash, read_policy_directory
from tests.policy.fake_opa import FakeOpa

CORPUS = json.loads((Path(__file__).parent / "corpus.json").read_text())


def shipped_policy() -> PolicySnapshot:
    modules, data = read_policy_directory()
    return PolicySnapshot(
        number=1,
        content_hash=content_hash(modules, data),
        modules={n: s for n, s in modules.items() if not n.endswith("_test.rego")},
        data=data,
    )


@pytest.fixture(scope="module")
def fake_opa():
    with FakeOpa() as opa:
        yield opa


# A real OPA server (docker-compose's, port published) joins the run when OPA_CORPUS_URL is set.
REAL_OPA = os.environ.get("OPA_CORPUS_URL", "")


@pytest.fixture(params=["embedded", "opa", *(["real-opa"] if REAL_OPA else [])])
def engine(request, fake_opa):
    if request.param == "embedded":
        return EmbeddedEngine(timeout_seconds=5)
    return OpaEngine(REAL_OPA if request.param == "real-opa" else fake_opa.url, timeout_seconds=5)


@pytest.mark.parametrize("case", CORPUS, ids=[c["name"] for c in CORPUS])
def test_corpus_decides_the_same_on_every_engine(engine, case):
    result = engine.evaluate(shipped_policy(), case["input"])
    assert result.allow is case["allow"]
    assert sorted({v["code"] for v in result.violations}) == case["codes"]
    for violation in result.violations:
        assert violation["message"]
        assert violation["severity"] in {"deny", "warn"}
    denied_codes = [v for v in result.violations if v["severity"] == "deny"]
    assert bool(denied_codes) is not case["allow"]


def test_every_deny_names_the_nist_controls_it_enforces(engine):
    for case in CORPUS:
        for violation in engine.evaluate(shipped_policy(), case["input"]).violations:
            assert violation["controls"], violation["code"]
            assert all(
                c.split()[0] in {"GOVERN", "MAP", "MEASURE", "MANAGE"}
                for c in violation["controls"]
            )


def test_opa_adapter_pushes_policy_and_data_once_then_queries(fake_opa):
    engine = OpaEngine(fake_opa.url, timeout_seconds=5)
    fake_opa.requests.clear()
    engine.evaluate(shipped_policy(), CORPUS[0]["input"])
    engine.evaluate(shipped_policy(), CORPUS[1]["input"])
    puts = [p for m, p in fake_opa.requests if m == "PUT"]
    posts = [p for m, p in fake_opa.requests if m == "POST"]
    assert "/v1/data/policy" in puts
    assert any(p.startswith("/v1/policies/governance/") for p in puts)
    assert len(puts) == len(shipped_policy().modules) + 1  # pushed once, not per decision
    assert posts == ["/v1/data/governance/deployment/decision"] * 2


def test_opa_adapter_repushes_after_opa_forgets_its_policies(fake_opa):
    engine = OpaEngine(fake_opa.url, timeout_seconds=5)
    engine.evaluate(shipped_policy(), CORPUS[0]["input"])
    fake_opa.forget_everything()
    result = engine.evaluate(shipped_policy(), CORPUS[1]["input"])
    assert result.allow is False
    assert {v["code"] for v in result.violations} == {"approvals.insufficient"}


def test_opa_unreachable_is_an_engine_error():
    engine = OpaEngine("http://127.0.0.1:9", timeout_seconds=0.5)
    with pytest.raises(EngineError):
        engine.evaluate(shipped_policy(), CORPUS[0]["input"])


def test_slow_opa_is_a_timeout(fake_opa):
    engine = OpaEngine(fake_opa.url, timeout_seconds=0.3)
    engine.evaluate(shipped_policy(), CORPUS[0]["input"])
    fake_opa.delay = 1.0
    try:
        with pytest.raises(EngineTimeout):
            engine.evaluate(shipped_policy(), CORPUS[0]["input"])
    finally:
        fake_opa.delay = 0.0


def test_a_policy_that_answers_no_decision_is_an_error():
    broken = PolicySnapshot(
        number=9,
        content_hash="b" * 64,
        modules={"x.rego": "package governance.deployment\nimport rego.v1\ndecision := 7\n"},
        data={},
    )
    with pytest.raises(EngineError, match="not a decision"):
        EmbeddedEngine(timeout_seconds=5).evaluate(broken, {})


def test_a_policy_that_does_not_compile_is_an_error():
    broken = PolicySnapshot(
        number=9,
        content_hash="c" * 64,
        modules={"x.rego": "package governance.deployment\nthis is not rego"},
        data={},
    )
    with pytest.raises(EngineError, match="does not compile"):
        EmbeddedEngine(timeout_seconds=5).evaluate(broken, {})


def test_a_violation_names_each_control_once(engine):
    case = next(c for c in CORPUS if c["name"] == "high risk with control gaps")
    document = {**case["input"], "coverage": {"missing_required": ["GOVERN 1.3", "MAP 1.1"]}}
    coverage = next(
        v
        for v in engine.evaluate(shipped_policy(), document).violations
        if v["code"] == "coverage.required_controls_missing"
    )
    assert coverage["controls"] == ["GOVERN 1.3", "GOVERN 1.4", "MAP 1.1"]
