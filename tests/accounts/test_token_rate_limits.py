"""Machine tokens have a per-minute budget for policy checks and for reads: 429 problem+json
with Retry-After beyond it, counted in the shared cache, people with a session unaffected."""

import pytest
from django.core.cache import caches
from rest_framework.test import APIClient

from governance.accounts.models import Role
from governance.accounts.permissions import Perm

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_counters():
    caches["default"].clear()
    yield
    caches["default"].clear()


def _bearer(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def test_reads_beyond_the_budget_get_429_problem_json_with_retry_after(make_token, settings):
    settings.TOKEN_RATE_LIMITS = {"read": 3, "policy_check": 100}
    _, secret = make_token([Perm.KILLSWITCHES_READ])
    client = _bearer(secret)
    statuses = [client.get("/api/v1/kill-switches/").status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    refused = client.get("/api/v1/kill-switches/")
    assert refused["Content-Type"] == "application/problem+json"
    assert refused.json()["status"] == 429
    assert 1 <= int(refused["Retry-After"]) <= 60


def test_each_token_has_its_own_budget_and_a_second_client_shares_it(make_token, settings):
    settings.TOKEN_RATE_LIMITS = {"read": 2, "policy_check": 100}
    _, first = make_token([Perm.KILLSWITCHES_READ])
    _, second = make_token([Perm.KILLSWITCHES_READ])
    # Two clients (think: two processes) with one token spend one budget.
    a, b = _bearer(first), _bearer(first)
    assert a.get("/api/v1/kill-switches/").status_code == 200
    assert b.get("/api/v1/kill-switches/").status_code == 200
    assert a.get("/api/v1/kill-switches/").status_code == 429
    assert _bearer(second).get("/api/v1/kill-switches/").status_code == 200


def test_policy_checks_have_their_own_budget(make_token, settings):
    settings.TOKEN_RATE_LIMITS = {"read": 100, "policy_check": 2}
    _, secret = make_token([Perm.POLICY_CHECK])
    client = _bearer(secret)
    body = {"system": "nope", "model_version": "1", "environment": "production", "requester": "ci"}
    # Unknown system: an error, but each answer spends budget all the same.
    first = [client.post("/api/v1/policy/check", body, format="json").status_code for _ in range(3)]
    assert first[2] == 429
    assert first[:2] != [429, 429]


def test_admission_has_a_budget_apart_from_policy_checks(make_token, settings):
    settings.TOKEN_RATE_LIMITS = {"read": 100, "policy_check": 1, "admission": 2}
    _, secret = make_token([Perm.POLICY_CHECK])
    client = _bearer(secret)
    body = {"system": "nope", "model_version": "1", "environment": "production", "requester": "ci"}
    assert [client.post("/api/v1/policy/check", body, format="json").status_code][0] != 429
    assert client.post("/api/v1/policy/check", body, format="json").status_code == 429
    # The policy checks spent theirs; the API server's reviews still have their own.
    admission = [client.post("/webhooks/k8s/admission", {}, format="json") for _ in range(3)]
    assert [r.status_code for r in admission][:2] == [400, 400]  # an empty review: refused
    assert admission[2].status_code == 429
    assert admission[2]["Content-Type"] == "application/problem+json"


def test_writes_and_people_are_not_limited(make_token, client_for, settings):
    settings.TOKEN_RATE_LIMITS = {"read": 1, "policy_check": 1}
    person = client_for(Role.VIEWER)
    assert {person.get("/api/v1/kill-switches/").status_code for _ in range(5)} == {200}
    _, secret = make_token([Perm.INVENTORY_MANAGE])
    client = _bearer(secret)
    for n in range(3):
        created = client.post(
            "/api/v1/systems/",
            {"slug": f"s-{n}", "name": "S", "owner": "nobody", "risk_tier": "low"},
            format="json",
        )
        assert created.status_code != 429


def test_zero_means_unlimited(make_token, settings):
    settings.TOKEN_RATE_LIMITS = {"read": 0, "policy_check": 0}
    _, secret = make_token([Perm.KILLSWITCHES_READ])
    client = _bearer(secret)
    assert {client.get("/api/v1/kill-switches/").status_code for _ in range(10)} == {200}


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return self.now


def test_a_failing_cache_allows_requests_and_is_not_asked_again_for_a_while(
    make_token, settings, monkeypatch, caplog
):
    """While Redis hangs every call costs the socket timeout: after one failure the limiter
    stands aside in this process for a few seconds instead of paying it on every request."""
    from governance.accounts import throttling

    settings.TOKEN_RATE_LIMITS = {"read": 1, "policy_check": 100}
    clock, calls = _Clock(), []

    def failing(key: str) -> int:
        calls.append(key)
        raise TimeoutError("Timeout reading from socket")

    monkeypatch.setattr(throttling, "time", clock)
    monkeypatch.setattr(throttling, "_count", failing)
    monkeypatch.setattr(throttling, "_skip_until", 0.0)
    _, secret = make_token([Perm.KILLSWITCHES_READ])
    client = _bearer(secret)
    with caplog.at_level("WARNING", logger="governance.accounts.throttling"):
        statuses = [client.get("/api/v1/kill-switches/").status_code for _ in range(3)]
    assert statuses == [200, 200, 200]  # over the budget of 1, yet allowed: the cache is down
    assert len(calls) == 1
    assert len([r for r in caplog.records if "unavailable" in r.getMessage()]) == 1

    clock.now += throttling.SKIP_AFTER_FAILURE_SECONDS + 0.1
    assert client.get("/api/v1/kill-switches/").status_code == 200
    assert len(calls) == 2  # asked again once the pause is over

    monkeypatch.setattr(throttling, "_count", lambda key: 5)  # back, and over the budget
    clock.now += throttling.SKIP_AFTER_FAILURE_SECONDS + 0.1
    assert client.get("/api/v1/kill-switches/").status_code == 429
