"""JSON bodies are held to their documented types, and unknown referenced objects are 404."""

import pytest

from governance.accounts.models import Role
from governance.audit.models import AuditEvent
from governance.inventory.models import AISystem

pytestmark = pytest.mark.django_db

SYSTEM = {"slug": "churn", "name": "Churn", "owner": "owner", "risk_tier": "medium"}


@pytest.fixture
def requester(client_for, make_user):
    make_user(Role.REQUESTER, username="owner")
    return client_for(Role.REQUESTER)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", 7),  # a number for a string
        ("name", 7.5),
        ("is_genai", "true"),  # a string for a boolean
        ("is_genai", 1),  # a number for a boolean
        ("tags", [1, 2]),  # numbers inside a list of strings
    ],
)
def test_a_json_value_of_the_wrong_type_is_a_400_naming_the_field(requester, field, value):
    events = AuditEvent.objects.count()
    response = requester.post("/api/v1/systems/", {**SYSTEM, field: value}, format="json")
    assert response.status_code == 400, response.json()
    assert response.json()["errors"][0]["pointer"].startswith(f"#/{field}")
    assert not AISystem.objects.exists()
    assert AuditEvent.objects.count() == events


def test_values_of_the_documented_types_are_accepted(requester):
    response = requester.post(
        "/api/v1/systems/", {**SYSTEM, "is_genai": True, "tags": ["a"]}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert AISystem.objects.get(slug="churn").is_genai is True


def test_form_and_query_strings_keep_their_parsing(requester):
    """Only JSON is typed: a query string carries every value as text (dry_run=true)."""
    response = requester.post(
        "/api/v1/systems/import?dry_run=true", data=b"slug\n", content_type="text/csv"
    )
    assert response.status_code == 400  # the CSV's columns, not the query's type
    assert response.json()["errors"][0]["row"] == 1


def test_a_body_naming_an_unknown_object_is_a_404_with_the_field(requester):
    response = requester.post("/api/v1/systems/", {**SYSTEM, "owner": "nobody"}, format="json")
    assert response.status_code == 404
    body = response.json()
    assert body["title"] == "Not found"
    assert [e["pointer"] for e in body["errors"]] == ["#/owner"]
    assert not AISystem.objects.exists()


def test_an_unknown_object_beside_another_invalid_field_is_still_a_400(requester):
    response = requester.post(
        "/api/v1/systems/", {**SYSTEM, "owner": "nobody", "risk_tier": "extreme"}, format="json"
    )
    assert response.status_code == 400
    assert {e["pointer"] for e in response.json()["errors"]} == {"#/owner", "#/risk_tier"}


@pytest.mark.parametrize("datasets", [{}, {"a": 1}, "crm"])
def test_a_many_relation_takes_only_a_json_array(requester, datasets):
    """DRF iterates what a many=True relation is given: an object would be its keys (fuzz)."""
    assert requester.post("/api/v1/systems/", SYSTEM, format="json").status_code == 201
    url = "/api/v1/systems/churn/versions"
    version = {"version": "1", "framework": "pytorch", "artifact_format": "onnx"}
    created = requester.post(url, version, format="json")
    assert created.status_code == 201, created.json()
    events = AuditEvent.objects.count()
    response = requester.patch(f"{url}/1", {"reason": "x", "datasets": datasets}, format="json")
    assert response.status_code == 400, response.json()
    assert response.json()["errors"][0]["pointer"] == "#/datasets"
    assert AuditEvent.objects.count() == events
