"""POST /api/v1/systems/{slug}/versions-from-artifact (what govctl register calls): the server
inspects the upload and registers the version with the facts it read, in one audited change;
every refusal (409, 422, 400, 404, 403) leaves the inventory and the audit trail as they were."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from governance.accounts.models import Role
from governance.accounts.permissions import Perm
from governance.audit.models import AuditEvent
from governance.inventory.models import ModelVersion
from tests.artifacts import builders
from tests.artifacts.builders import sample

pytestmark = pytest.mark.django_db


def url(slug: str = "scorer") -> str:
    return f"/api/v1/systems/{slug}/versions-from-artifact"


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def unchanged() -> tuple[int, int]:
    return ModelVersion.objects.count(), AuditEvent.objects.count()


def test_a_model_file_registers_the_version_with_the_inspected_facts(client_for, system):
    data = builders.keras_archive(with_lambda=False)
    response = client_for(Role.REQUESTER).post(
        url(),
        {
            "file": upload("scorer.keras", data),
            "version": "2.0",
            "artifact_uri": "s3://models/scorer/2.0",
            "code_commit_sha": "a" * 40,
        },
        format="multipart",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["version"]["framework"] == "tensorflow"
    assert body["version"]["artifact_format"] == "keras"
    assert body["version"]["framework_version"] == "3.6.0"
    assert body["inspection"]["format"] == "keras"
    version = ModelVersion.objects.get(system=system, version="2.0")
    assert version.artifact_sha256 == body["inspection"]["sha256"] == version.artifact["sha256"]
    assert version.artifact_uri == "s3://models/scorer/2.0"
    event = AuditEvent.objects.filter(action="inventory.version.registered").latest("sequence")
    assert event.after["version"] == "2.0"
    assert event.after["artifact"]["sha256"] == version.artifact_sha256


def test_an_mlmodel_and_its_card_register_with_metrics_and_known_datasets(client_for, system):
    card = b"---\nlicense: mit\ndatasets: [beans, unknown-set]\n---\n# Scorer\n"
    response = client_for(Role.ADMIN).post(
        url(),
        {
            "file": [
                upload("MLmodel", sample("langchain-mlflow-2.12.MLmodel").read_bytes()),
                upload("README.md", card),
            ],
            "version": "2.1",
        },
        format="multipart",
    )
    assert response.status_code == 201, response.content
    version = ModelVersion.objects.get(system=system, version="2.1")
    assert version.artifact_format == "mlflow"
    assert [d.slug for d in version.datasets.all()] == ["beans"]  # unknown slugs are dropped
    assert {f["path"] for f in version.artifact["files"]} == {"MLmodel", "README.md"}


def test_an_existing_version_is_409_and_nothing_changes(client_for, system):
    client = client_for(Role.REQUESTER)
    data = sample("d.safetensors").read_bytes()
    first = client.post(
        url(), {"file": upload("d.safetensors", data), "version": "3.0"}, format="multipart"
    )
    assert first.status_code == 201
    before = unchanged()
    again = client.post(
        url(), {"file": upload("d.safetensors", data), "version": "3.0"}, format="multipart"
    )
    assert again.status_code == 409
    assert again["Content-Type"].startswith("application/problem+json")
    assert {
        "pointer": "#/version",
        "detail": "This system already has a version with that name.",
    } in again.json()["errors"]
    assert unchanged() == before


def test_an_unreadable_file_is_422_and_nothing_changes(client_for, system):
    before = unchanged()
    response = client_for(Role.REQUESTER).post(
        url(),
        {"file": upload("m.pkl", builders.benign_pickle()[:-3]), "version": "4.0"},
        format="multipart",
    )
    assert response.status_code == 422
    assert [e["pointer"] for e in response.json()["errors"]] == ["#/file"]
    assert unchanged() == before


def test_a_model_card_alone_is_no_model_artifact(client_for, system):
    before = unchanged()
    response = client_for(Role.REQUESTER).post(
        url(),
        {"file": upload("README.md", b"# just words\n"), "version": "4.1"},
        format="multipart",
    )
    assert response.status_code == 422
    assert unchanged() == before


@pytest.mark.parametrize(
    "fields",
    [
        {"version": "5.0"},  # no file
        {"file": "not-a-file", "version": "5.0"},
        {"file": "FILE"},  # no version
        {"file": "FILE", "version": "5.0", "code_commit_sha": "not-hex"},
        {"file": "FILE", "version": "v" * 65},
    ],
)
def test_bad_input_is_400_and_nothing_changes(client_for, system, fields):
    data = sample("d.safetensors").read_bytes()
    fields = {k: upload("d.safetensors", data) if v == "FILE" else v for k, v in fields.items()}
    before = unchanged()
    response = client_for(Role.REQUESTER).post(url(), fields, format="multipart")
    assert response.status_code == 400, response.content
    assert unchanged() == before


def test_a_json_body_is_415(client_for, system):
    response = client_for(Role.REQUESTER).post(
        url(), json.dumps({"version": "6.0"}), content_type="application/json"
    )
    assert response.status_code == 415


def test_an_unknown_system_is_404(client_for, system):
    data = sample("d.safetensors").read_bytes()
    response = client_for(Role.REQUESTER).post(
        url("nope"), {"file": upload("d.safetensors", data), "version": "1"}, format="multipart"
    )
    assert response.status_code == 404


@pytest.mark.parametrize("role", [Role.VIEWER, Role.AUDITOR, Role.APPROVER, None])
def test_roles_without_inventory_manage_are_refused_and_nothing_changes(client_for, system, role):
    before = unchanged()
    data = sample("d.safetensors").read_bytes()
    response = client_for(role).post(
        url(), {"file": upload("d.safetensors", data), "version": "7.0"}, format="multipart"
    )
    assert response.status_code in (401, 403)
    assert unchanged() == before


def test_a_token_needs_the_inventory_manage_scope(api_client, make_token, system):
    data = sample("d.safetensors").read_bytes()
    _, reader = make_token([Perm.INVENTORY_VIEW])
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {reader}")
    denied = api_client.post(
        url(), {"file": upload("d.safetensors", data), "version": "8.0"}, format="multipart"
    )
    assert denied.status_code == 403
    _, manager = make_token([Perm.INVENTORY_VIEW, Perm.INVENTORY_MANAGE], name="ci")
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {manager}")
    allowed = api_client.post(
        url(), {"file": upload("d.safetensors", data), "version": "8.0"}, format="multipart"
    )
    assert allowed.status_code == 201
    assert ModelVersion.objects.get(system=system, version="8.0").registered_by
