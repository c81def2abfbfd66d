"""OFREP over kill switches and runtime controls: the protocol's shapes, ETag/304, errors, 429."""

import pytest
from rest_framework.test import APIClient

from governance.accounts.permissions import Perm
from governance.core.actor import Actor
from governance.runtime.control_services import runtime_control_set
from governance.runtime.services import kill_switch_engage

pytestmark = pytest.mark.django_db


@pytest.fixture
def reader(make_token) -> APIClient:
    _, secret = make_token([Perm.KILLSWITCHES_READ], name="copilot-service")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def evaluate(client: APIClient, key: str, context: dict | None = None):
    return client.post(f"/ofrep/v1/evaluate/flags/{key}", {"context": context or {}}, format="json")


def test_single_evaluation_of_a_switch_and_a_control(reader, switch, make_control, prompts):
    make_control()
    body = evaluate(reader, switch.key).json()
    assert body == {
        "key": switch.key,
        "value": False,
        "reason": "STATIC",
        "variant": "released",
        "metadata": {
            "system": "support-copilot",
            "kind": "kill_switch",
            "version": 1,
            "safeValue": True,
        },
        "cacheable": False,
    }
    control = evaluate(reader, "copilot-prompt").json()
    assert (control["value"], control["variant"], control["metadata"]["safeValue"]) == (
        "refunds-v7",
        "refunds-v7",
        "refunds-v6",
    )
    kill_switch_engage(actor=Actor.system("tests"), switch=switch, reason="leak")
    assert evaluate(reader, switch.key).json()["value"] is True


def test_unknown_flags_bad_context_and_bad_json_use_ofrep_error_codes(reader, switch):
    missing = evaluate(reader, "nope")
    assert missing.status_code == 404
    assert missing.json()["errorCode"] == "FLAG_NOT_FOUND" and missing.json()["key"] == "nope"
    bad = reader.post(f"/ofrep/v1/evaluate/flags/{switch.key}", {"context": ["x"]}, format="json")
    assert (bad.status_code, bad.json()["errorCode"]) == (400, "INVALID_CONTEXT")
    broken = reader.post("/ofrep/v1/evaluate/flags", "{not json", content_type="application/json")
    assert (broken.status_code, broken.json()["errorCode"]) == (400, "PARSE_ERROR")
    typed = reader.post("/ofrep/v1/evaluate/flags", {"context": {"system": 3}}, format="json")
    assert typed.json()["errorCode"] == "INVALID_CONTEXT"
    # A JSON null or "" is no object (make fuzz); no body at all is an empty context.
    null = reader.post("/ofrep/v1/evaluate/flags", "null", content_type="application/json")
    assert (null.status_code, null.json()["errorCode"]) == (400, "PARSE_ERROR")
    for url in ("/ofrep/v1/evaluate/flags", f"/ofrep/v1/evaluate/flags/{switch.key}"):
        text = reader.post(url, '""', content_type="application/json")  # a JSON string
        assert (text.status_code, text.json()["errorCode"]) == (400, "PARSE_ERROR")
    assert reader.post("/ofrep/v1/evaluate/flags").status_code == 200


def test_bulk_has_an_etag_answers_304_and_changes_with_a_control(
    reader, make_switch, make_control, prompts
):
    make_switch("copilot-all")
    make_switch("copilot-prod", scope="environment", environment="production")
    control = make_control()
    url = "/ofrep/v1/evaluate/flags"
    first = reader.post(url, {"context": {"system": "support-copilot"}}, format="json")
    assert first.status_code == 200
    assert [f["key"] for f in first.json()["flags"]] == [
        "copilot-all",
        "copilot-prod",
        "copilot-prompt",
    ]
    stream = first.json()["eventStreams"][0]
    assert stream["type"] == "sse"
    assert stream["url"].endswith("/api/v1/kill-switches/stream?system=support-copilot")
    staging = reader.post(url, {"context": {"environment": "staging"}}, format="json")
    assert [f["key"] for f in staging.json()["flags"]] == ["copilot-all", "copilot-prompt"]
    etag = first["ETag"]
    same = reader.post(
        url, {"context": {"system": "support-copilot"}}, format="json", HTTP_IF_NONE_MATCH=etag
    )
    assert same.status_code == 304
    runtime_control_set(
        actor=Actor.system("tests"), control=control, value="refunds-v6", reason="revert"
    )
    changed = reader.post(
        url, {"context": {"system": "support-copilot"}}, format="json", HTTP_IF_NONE_MATCH=etag
    )
    assert changed.status_code == 200 and changed["ETag"] != etag


def test_a_caller_over_its_limit_gets_429_with_retry_after(reader, switch, settings):
    settings.OFREP_RATE_LIMIT_PER_MINUTE = 3
    codes = [evaluate(reader, switch.key).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    limited = evaluate(reader, switch.key)
    assert 0 < int(limited["Retry-After"]) <= 60
    assert reader.post("/ofrep/v1/evaluate/flags", {}, format="json").status_code == 429


def test_ofrep_needs_a_token_with_the_read_scope(make_token, switch, api_client):
    assert evaluate(api_client, switch.key).status_code == 401
    _, secret = make_token([Perm.POLICY_CHECK])
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert evaluate(other, switch.key).status_code == 403
    assert other.get("/ofrep/v1/configuration").status_code == 403


def test_configuration_names_what_we_support(reader):
    body = reader.get("/ofrep/v1/configuration").json()
    assert body["name"] == "governance"
    assert "boolean" in body["capabilities"]["flagEvaluation"]["supportedTypes"]
