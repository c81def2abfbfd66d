"""The kill switch read path and flips over the API."""

import pytest
from rest_framework.test import APIClient

from governance.accounts.models import Role
from governance.accounts.permissions import Perm
from governance.audit.models import AuditEvent
from governance.runtime.models import KillSwitch, KillSwitchEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def reader(make_token) -> APIClient:
    _, secret = make_token([Perm.KILLSWITCHES_READ], name="support-copilot-service")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


@pytest.fixture
def flipper(make_token) -> APIClient:
    _, secret = make_token([Perm.KILLSWITCHES_FLIP], name="pager-bot")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def test_list_filters_by_system(reader, make_switch, admin_user):
    make_switch("a-switch")
    make_switch("b-tool", scope="feature", feature="refund_lookup")
    response = reader.get("/api/v1/kill-switches/?system=support-copilot")
    assert response.status_code == 200
    keys = [s["key"] for s in response.json()["results"]]
    assert keys == ["a-switch", "b-tool"]
    assert response.json()["results"][1]["feature"] == "refund_lookup"
    assert reader.get("/api/v1/kill-switches/?system=other").json()["count"] == 0
    assert reader.get("/api/v1/kill-switches/?key=b-tool").json()["count"] == 1
    # Keys and systems are slugs: a NUL or a stray byte is a 400 naming it (make fuzz).
    for path in (
        "/api/v1/kill-switches/",
        "/api/v1/runtime-controls/",
        "/api/v1/kill-switches/stream",
    ):
        for query in ("?key=a%00b", "?key=b-tool&key=%C3%A9", "?system=x%00"):
            refused = reader.get(path + query)
            assert refused.status_code == 400, (path, query)
            assert refused["Content-Type"] == "application/problem+json"


def test_detail_has_a_strong_etag_and_answers_304_until_a_flip(reader, switch, flipper):
    first = reader.get(f"/api/v1/kill-switches/{switch.key}")
    assert first.status_code == 200
    etag = first["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    body = first.json()
    assert body["state"] == "released"
    assert body["safe_state"] == "engaged"
    again = reader.get(f"/api/v1/kill-switches/{switch.key}", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again["ETag"] == etag
    assert not again.content
    flipper.post(f"/api/v1/kill-switches/{switch.key}/engage", {"reason": "leak"}, format="json")
    changed = reader.get(f"/api/v1/kill-switches/{switch.key}", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag
    assert changed.json()["state"] == "engaged"


def test_unknown_key_is_404_and_a_flip_of_it_is_audited(reader, flipper):
    assert reader.get("/api/v1/kill-switches/nope").status_code == 404
    response = flipper.post("/api/v1/kill-switches/nope/engage", {"reason": "x"}, format="json")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    refused = AuditEvent.objects.get(action="incidents.killswitch.engage_refused")
    assert refused.target_id == "nope"
    assert refused.actor_type == "token"


@pytest.mark.parametrize("idempotency_key", [None, "flip-1"])
def test_flip_without_reason_is_400_audited_and_changes_nothing(flipper, switch, idempotency_key):
    headers = {"HTTP_IDEMPOTENCY_KEY": idempotency_key} if idempotency_key else {}
    response = flipper.post(
        f"/api/v1/kill-switches/{switch.key}/engage", {}, format="json", **headers
    )
    assert response.status_code == 400
    problem = response.json()
    assert problem["errors"][0]["pointer"] == "#/reason"
    assert KillSwitch.objects.get().state == "released"
    assert not KillSwitchEvent.objects.exists()
    # The refusal is recorded even inside the Idempotency-Key transaction.
    assert AuditEvent.objects.filter(action="incidents.killswitch.engage_refused").count() == 1
    if idempotency_key:  # a retry replays the refusal, still as a problem (make fuzz)
        again = flipper.post(
            f"/api/v1/kill-switches/{switch.key}/engage", {}, format="json", **headers
        )
        assert again.status_code == 400 and again["Idempotent-Replayed"] == "true"
        assert again["Content-Type"] == "application/problem+json"
        assert again.json() == problem


def test_engage_honours_idempotency_key(flipper, switch):
    path = f"/api/v1/kill-switches/{switch.key}/engage"
    first = flipper.post(path, {"reason": "leak"}, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert first.status_code == 200
    replay = flipper.post(path, {"reason": "leak"}, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert replay.status_code == 200
    assert replay["Idempotent-Replayed"] == "true"
    assert replay.json() == first.json()
    assert KillSwitchEvent.objects.count() == 1
    other = flipper.post(path, {"reason": "other"}, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert other.status_code == 422


def test_release_tied_to_sev2_answers_202_then_a_second_person_releases(
    client_for, switch, incident
):
    commander = client_for(Role.INCIDENT_COMMANDER)
    approver = client_for(Role.APPROVER)
    engaged = commander.post(
        f"/api/v1/kill-switches/{switch.key}/engage",
        {"reason": "leak", "incident": incident.ref},
        format="json",
    )
    assert engaged.json()["incident"] == incident.ref
    path = f"/api/v1/kill-switches/{switch.key}/release"
    requested = commander.post(path, {"reason": "patched"}, format="json")
    assert requested.status_code == 202
    assert requested.json()["state"] == "engaged"
    assert requested.json()["release_pending"] is True
    same = commander.post(path, {"reason": "confirm"}, format="json")
    assert same.status_code == 409
    assert same.json()["type"] == "urn:governance:problem:second-person-required"
    confirmed = approver.post(path, {"reason": "verified"}, format="json")
    assert confirmed.status_code == 200
    assert confirmed.json()["state"] == "released"


def test_read_only_tokens_and_viewers_cannot_flip(reader, client_for, switch):
    path = f"/api/v1/kill-switches/{switch.key}/engage"
    assert reader.post(path, {"reason": "x"}, format="json").status_code == 403
    assert client_for(Role.VIEWER).post(path, {"reason": "x"}, format="json").status_code == 403
    assert client_for(Role.AUDITOR).post(path, {"reason": "x"}, format="json").status_code == 403
    assert KillSwitch.objects.get().state == "released"


def test_openapi_schema_lists_the_kill_switch_contract(api_client):
    schema = api_client.get("/api/schema/?format=json").json()
    paths = schema["paths"]
    assert "/api/v1/kill-switches/" in paths
    assert "/api/v1/kill-switches/{key}" in paths
    assert "/api/v1/kill-switches/{key}/engage" in paths
    assert "/api/v1/kill-switches/{key}/release" in paths
