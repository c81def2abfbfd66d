"""POST /api/v1/policy/check and the decision log and version APIs."""

import json

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from governance.accounts.permissions import Perm
from governance.audit.models import AuditEvent
from governance.policy.models import Decision, PolicyVersion

pytestmark = pytest.mark.django_db
URL = "/api/v1/policy/check"


@pytest.fixture
def pipeline(make_token) -> APIClient:
    _, secret = make_token([Perm.POLICY_CHECK], name="github-actions")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def body(**overrides):
    return {
        "system": "churn",
        "model_version": "2.0",
        "environment": "staging",
        "requester": "owner",
        "change": {"ticket": "CHG-7"},
        **overrides,
    }


def test_pipeline_gets_an_explained_logged_decision(world, pipeline):
    response = pipeline.post(
        URL, body(model_version="2.1-pkl", environment="production"), format="json"
    )
    assert response.status_code == 200
    answer = response.json()
    assert answer["allow"] is False
    assert answer["policy_version"] == world.policy.number
    assert answer["policy_hash"] == world.policy.content_hash
    codes = {v["code"] for v in answer["violations"]}
    assert "supply_chain.artifact_format_not_allowed" in codes
    assert all({"code", "message", "controls", "severity"} <= set(v) for v in answer["violations"])
    decision = Decision.objects.get(decision_id=answer["decision_id"])
    assert decision.caller == "token:github-actions"
    assert decision.endpoint == "api"


def test_allowed_request(world, pipeline):
    response = pipeline.post(URL, body(), format="json")
    assert response.status_code == 200
    assert response.json()["allow"] is True


@pytest.mark.parametrize(
    ("payload", "status", "pointer"),
    [
        (body(system="nope"), 404, "#/system"),
        (body(model_version="9.9"), 404, "#/model_version"),
        (body(environment="moon"), 404, "#/environment"),
        (body(current_version="0.1"), 404, "#/current_version"),
        ({"system": "churn"}, 400, "#/model_version"),
    ],
)
def test_bad_input_gets_a_clear_error_and_changes_nothing(
    world, pipeline, payload, status, pointer
):
    events = AuditEvent.objects.count()
    response = pipeline.post(URL, payload, format="json")
    assert response.status_code == status
    assert response["Content-Type"] == "application/problem+json"
    assert pointer in {e["pointer"] for e in response.json()["errors"]}
    assert Decision.objects.count() == 0
    assert AuditEvent.objects.count() == events


def test_invalid_json_is_400_and_changes_nothing(world, pipeline):
    response = pipeline.post(URL, data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert Decision.objects.count() == 0


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1024)
def test_oversize_body_is_413(world, pipeline):
    response = pipeline.post(
        URL, json.dumps(body(change={"x": "y" * 2000})), content_type="application/json"
    )
    assert response.status_code == 413
    assert Decision.objects.count() == 0


def test_bad_token_is_401_and_a_token_without_the_scope_is_403(world, make_token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer gov_not-a-real-token")
    assert client.post(URL, body(), format="json").status_code == 401
    _, secret = make_token([Perm.INVENTORY_VIEW])
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert client.post(URL, body(), format="json").status_code == 403
    assert Decision.objects.count() == 0


@pytest.mark.parametrize("role", ["viewer", "auditor", "incident_commander"])
def test_roles_without_policy_check_are_refused(world, client_for, role):
    assert client_for(role).post(URL, body(), format="json").status_code == 403


def test_decision_log_filters_and_detail(world, pipeline, client_for):
    pipeline.post(URL, body(), format="json")
    pipeline.post(URL, body(model_version="2.1-pkl", environment="production"), format="json")
    auditor = client_for("auditor")
    denied = auditor.get("/api/v1/policy/decisions?allow=false").json()
    assert denied["count"] == 1
    assert denied["results"][0]["model_version"] == "2.1-pkl"
    detail = auditor.get(f"/api/v1/policy/decisions/{denied['results'][0]['decision_id']}").json()
    assert detail["input"]["request"]["environment"] == "production"
    assert client_for("viewer").get("/api/v1/policy/decisions").status_code == 403


def test_admin_creates_and_activates_a_version_over_the_api(world, client_for):
    admin = client_for("admin")
    data = {
        **world.policy.data,
        "evaluation": {**world.policy.data["evaluation"], "regression_tolerance": 0.03},
    }
    created = admin.post(
        "/api/v1/policy/versions",
        {"modules": world.policy.modules, "data": data, "note": "wider tolerance"},
        format="json",
    )
    assert created.status_code == 201, created.json()
    number = created.json()["number"]
    assert created.json()["tests_passed"] is True
    refused = admin.post(f"/api/v1/policy/versions/{number}/activate", {}, format="json")
    assert refused.status_code == 400
    done = admin.post(
        f"/api/v1/policy/versions/{number}/activate", {"reason": "approved by MRB"}, format="json"
    )
    assert done.status_code == 200
    assert PolicyVersion.objects.get(number=number).status == "active"
    assert (
        client_for("requester")
        .post(f"/api/v1/policy/versions/{number}/activate", {"reason": "x"}, format="json")
        .status_code
        == 403
    )
