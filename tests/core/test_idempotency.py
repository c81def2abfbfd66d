"""Idempotency-Key: replay, mismatch (422), bad keys, and concurrent duplicates."""

import json
import re
import threading

import pytest
from django.db import connection

from governance.accounts.models import Role
from governance.accounts.permissions import Perm
from governance.audit.models import AuditEvent
from governance.core.idempotency import KEY_PATTERN
from governance.core.models import IdempotencyRecord
from governance.inventory.models import AISystem

pytestmark = pytest.mark.django_db

PAYLOAD = {"slug": "churn-model", "name": "Churn model", "owner": "owner", "risk_tier": "medium"}


@pytest.fixture
def requester(client_for, make_user):
    make_user(Role.REQUESTER, username="owner")
    return client_for(Role.REQUESTER)


def post(client, payload=PAYLOAD, key="key-1"):
    return client.post("/api/v1/systems/", payload, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_replay_returns_the_first_response_and_changes_nothing(requester):
    first = post(requester)
    assert first.status_code == 201
    events = AuditEvent.objects.count()
    second = post(requester)
    assert second.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert AISystem.objects.count() == 1
    assert AuditEvent.objects.count() == events


def test_same_key_with_a_different_body_is_422(requester):
    post(requester)
    response = post(requester, {**PAYLOAD, "name": "Something else"})
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert "different request" in response.json()["detail"]
    assert AISystem.objects.get().name == "Churn model"


def test_keys_belong_to_their_caller(requester, client_for):
    """Another caller's identical key is a new request, not a replay of someone else's."""
    assert post(requester).status_code == 201
    other = client_for(Role.ADMIN)
    response = post(other, {**PAYLOAD, "slug": "churn-model-2"})
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    assert AISystem.objects.count() == 2


def test_failed_request_keeps_no_key_so_a_corrected_retry_works(requester):
    bad = post(requester, {**PAYLOAD, "risk_tier": "extreme"})
    assert bad.status_code == 400
    assert not IdempotencyRecord.objects.exists()
    assert post(requester).status_code == 201


@pytest.mark.parametrize("key", ["   ", " lead", "trail ", "x" * 256, "tab\tkey", "caf\u00e9"])
def test_malformed_keys_are_refused(requester, key):
    response = post(requester, key=key)
    assert response.status_code == 400
    assert AISystem.objects.count() == 0


@pytest.mark.parametrize("key", ["k", "a key with spaces", "x" * 255, "~!@#$%^&*()"])
def test_keys_the_openapi_pattern_allows_are_accepted(requester, key):
    assert re.search(KEY_PATTERN, key)
    assert post(requester, key=key).status_code == 201


def test_an_empty_key_is_no_key(requester):
    assert re.search(KEY_PATTERN, "")
    assert post(requester, key="").status_code == 201
    again = post(requester, key="")
    assert again.status_code == 400  # the slug is taken: not a replay
    assert "Idempotent-Replayed" not in again
    assert not IdempotencyRecord.objects.exists()


def test_without_a_key_each_post_is_its_own_request(requester):
    requester.post("/api/v1/systems/", PAYLOAD, format="json")
    response = requester.post("/api/v1/systems/", PAYLOAD, format="json")
    assert response.status_code == 400  # the slug is taken: a second real attempt


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_create_one_system(make_token):
    """Eight simultaneous retries on PostgreSQL: one creation, eight identical answers."""
    assert connection.vendor == "postgresql"
    from governance.accounts.models import User

    User.objects.create_user(username="owner", role=Role.REQUESTER)
    _, secret = make_token([Perm.INVENTORY_MANAGE])
    barrier = threading.Barrier(8)
    results: list[tuple[int, dict]] = []
    lock = threading.Lock()

    def worker() -> None:
        from rest_framework.test import APIClient

        client = APIClient()
        barrier.wait()
        try:
            response = client.post(
                "/api/v1/systems/",
                PAYLOAD,
                format="json",
                HTTP_AUTHORIZATION=f"Bearer {secret}",
                HTTP_IDEMPOTENCY_KEY="same-key",
            )
            with lock:
                results.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert [status for status, _ in results] == [201] * 8
    assert len({json.dumps(body, sort_keys=True) for _, body in results}) == 1
    assert AISystem.objects.count() == 1
    assert AuditEvent.objects.filter(action="inventory.system.created").count() == 1
