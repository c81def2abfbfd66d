"""The one JSON parser: deeply nested or pathological JSON is a 400 problem+json on every
endpoint that parses JSON, never a RecursionError 500."""

import hashlib
import hmac
import json

import pytest
from rest_framework.test import APIClient

from governance.accounts.models import Role
from governance.accounts.permissions import Perm
from governance.audit.models import AuditEvent
from governance.core.jsonbody import JsonInvalid, json_depth_exceeds, parse_json

pytestmark = pytest.mark.django_db
PROBLEM = "application/problem+json"
DEEP_ARRAYS = b"[" * 5000 + b"]" * 5000
DEEP_OBJECTS = b'{"a":' * 5000 + b"1" + b"}" * 5000


@pytest.mark.parametrize("raw", [DEEP_ARRAYS, DEEP_OBJECTS, b"[" * 200_000])
def test_deep_documents_are_refused_before_decoding(raw):
    with pytest.raises(JsonInvalid, match="nested more than 100 levels"):
        parse_json(raw)


def test_the_limit_is_exact_and_strings_do_not_count():
    assert parse_json(b"[" * 100 + b"]" * 100) is not None
    with pytest.raises(JsonInvalid):
        parse_json(b"[" * 101 + b"]" * 101)
    brackets_in_text = json.dumps({"text": "[{" * 5000}).encode()
    assert parse_json(brackets_in_text) == {"text": "[{" * 5000}
    escaped = json.dumps(['\\"[[[' * 500]).encode()
    assert not json_depth_exceeds(escaped, 3)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"[NaN]", "NaN is not valid JSON"),
        (b"[Infinity]", "Infinity is not valid JSON"),
        (b"\xff\xfe", "not UTF-8"),
        (b'{"a": ', "Not valid JSON"),
    ],
)
def test_other_pathologies_have_a_reason(raw, reason):
    with pytest.raises(JsonInvalid, match=reason):
        parse_json(raw)


def test_a_byte_order_mark_is_accepted():
    assert parse_json(b'\xef\xbb\xbf{"a": 1}') == {"a": 1}


@pytest.fixture
def admin_client(make_user):
    client = APIClient()
    client.force_login(make_user(Role.ADMIN))
    return client


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/systems/",
        "/api/v1/policy/check",
        "/api/v1/webhooks/subscriptions",
        "/webhooks/k8s/admission",
        "/webhooks/k8s/admission/governed",
    ],
)
@pytest.mark.parametrize("raw", [DEEP_ARRAYS, DEEP_OBJECTS])
def test_every_json_endpoint_answers_400_problem(admin_client, path, raw):
    before = AuditEvent.objects.count()
    response = admin_client.post(path, data=raw, content_type="application/json")
    assert response.status_code == 400, (path, response.status_code)
    assert response["Content-Type"] == PROBLEM
    assert "nested more than 100 levels" in response.json()["detail"]
    assert AuditEvent.objects.count() == before


def test_token_callers_get_the_same_answer(make_token):
    _, secret = make_token([Perm.POLICY_CHECK])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    response = client.post("/webhooks/k8s/admission", DEEP_ARRAYS, content_type="application/json")
    assert (response.status_code, response["Content-Type"]) == (400, PROBLEM)


def test_the_github_webhook_answers_400_problem(settings):
    settings.GITHUB_WEBHOOK_SECRET = "s3cret"
    signature = "sha256=" + hmac.new(b"s3cret", DEEP_OBJECTS, hashlib.sha256).hexdigest()
    response = APIClient().post(
        "/webhooks/github/deployment-protection",
        data=DEEP_OBJECTS,
        content_type="application/json",
        HTTP_X_GITHUB_EVENT="deployment_protection_rule",
        HTTP_X_GITHUB_DELIVERY="deep-1",
        HTTP_X_HUB_SIGNATURE_256=signature,
    )
    assert (response.status_code, response["Content-Type"]) == (400, PROBLEM)
    assert "nested more than 100 levels" in response.json()["detail"]


def test_the_policy_data_form_says_why(admin_client):
    from governance.policy.forms import PolicyDataForm

    form = PolicyDataForm({"data": DEEP_OBJECTS.decode(), "note": "deep"})
    assert not form.is_valid()
    assert "nested more than 100 levels" in form.errors["data"][0]


def test_a_nul_in_any_string_is_refused_and_an_escaped_backslash_is_not():
    """PostgreSQL stores no NUL in text or jsonb; make fuzz found 500s at INSERT."""
    for raw in ('{"user": "a\\u0000b"}', '{"a\\u0000": 1}', '[["x", {"y": "\\u0000"}]]'):
        with pytest.raises(JsonInvalid, match="NUL"):
            parse_json(raw)
    assert parse_json('{"path": "C:\\\\u0000"}') == {"path": "C:\\u0000"}


def test_a_nul_in_a_body_is_a_400_and_changes_nothing(client_for):
    admin = client_for(Role.ADMIN)
    events = AuditEvent.objects.count()
    response = admin.post(
        "/api/v1/releases/approvers", '{"user": "a\\u0000"}', content_type="application/json"
    )
    assert response.status_code == 400 and "NUL" in response.json()["detail"]
    assert AuditEvent.objects.count() == events
