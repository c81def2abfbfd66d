"""Every API error is RFC 9457 problem+json; bad input changes nothing."""

import pytest

from governance.accounts.models import Role
from governance.audit.models import AuditEvent
from governance.inventory.models import AISystem

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


@pytest.fixture
def requester(client_for):
    return client_for(Role.REQUESTER)


def assert_problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == status and body["title"]
    assert body["request_id"] == response["X-Request-ID"]
    return body


def test_malformed_json_is_400_and_changes_nothing(requester):
    before = AuditEvent.objects.count()
    response = requester.post("/api/v1/systems/", data='{"slug": ', content_type="application/json")
    body = assert_problem(response, 400)
    assert "JSON parse error" in body["detail"]
    assert AISystem.objects.count() == 0
    assert AuditEvent.objects.count() == before


def test_field_errors_name_each_field(requester, make_user):
    make_user(Role.REQUESTER, username="owner")
    response = requester.post(
        "/api/v1/systems/",
        {"slug": "Not A Slug", "name": "", "owner": "nobody", "risk_tier": "extreme"},
        format="json",
    )
    body = assert_problem(response, 400)
    pointers = {error["pointer"] for error in body["errors"]}
    assert pointers == {"#/slug", "#/name", "#/owner", "#/risk_tier"}
    assert AISystem.objects.count() == 0


def test_model_validation_from_the_service_is_a_field_error(requester, make_user):
    make_user(Role.REQUESTER, username="owner")
    payload = {"slug": "dup", "name": "One", "owner": "owner", "risk_tier": "low"}
    assert requester.post("/api/v1/systems/", payload, format="json").status_code == 201
    body = assert_problem(requester.post("/api/v1/systems/", payload, format="json"), 400)
    assert body["errors"][0]["pointer"] == "#/slug"
    assert AISystem.objects.count() == 1


def test_401_and_403_are_distinct(client_for):
    anonymous = assert_problem(client_for(None).get("/api/v1/audit/events"), 401)
    assert anonymous["title"] == "Authentication required"
    forbidden = assert_problem(client_for(Role.VIEWER).get("/api/v1/audit/events"), 403)
    assert forbidden["title"] == "Permission denied"


def test_unknown_object_is_404(requester):
    assert_problem(requester.get("/api/v1/systems/no-such-system"), 404)


def test_unknown_api_path_is_404_problem(requester):
    assert_problem(requester.get("/api/v1/nothing-here"), 404)


def test_wrong_method_is_405(requester):
    assert_problem(requester.delete("/api/v1/systems/"), 405)


def test_wrong_media_type_is_415(requester):
    response = requester.post("/api/v1/systems/", data="slug=x", content_type="text/plain")
    assert_problem(response, 415)


def test_oversize_body_is_413_before_any_work(requester, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = requester.post("/api/v1/systems/", {"description": "x" * 2000}, format="json")
    body = assert_problem(response, 413)
    assert "limit is 1000 bytes" in body["detail"]
    assert AISystem.objects.count() == 0


def test_request_id_is_kept_when_well_formed(requester):
    response = requester.get("/api/v1/systems/", HTTP_X_REQUEST_ID="trace-abc.123")
    assert response["X-Request-ID"] == "trace-abc.123"
    response = requester.get("/api/v1/systems/", HTTP_X_REQUEST_ID="bad id\n")
    assert response["X-Request-ID"] != "bad id\n" and len(response["X-Request-ID"]) == 32
