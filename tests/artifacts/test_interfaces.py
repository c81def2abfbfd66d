"""The inspector's interfaces: the API upload, the command, and "Register version from
artifact", whose facts reach the model version and the policy input."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from governance.accounts.models import Role
from governance.accounts.permissions import Perm
from governance.audit.models import AuditEvent
from governance.core.actor import Actor
from governance.inventory.models import ModelVersion
from governance.policy.selectors import deployment_request_resolve
from governance.policy.services import decision_evaluate, policy_directory_load
from tests.artifacts import builders
from tests.artifacts.builders import sample

pytestmark = pytest.mark.django_db
URL = "/api/v1/artifacts/inspect"


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def test_api_inspects_an_upload(client_for):
    client = client_for(Role.REQUESTER)
    data = sample("d.safetensors").read_bytes()
    response = client.post(URL, {"file": upload("d.safetensors", data)}, format="multipart")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["format"] == "safetensors" and body["sizes"]["parameters"] == 6
    assert body["inspector_version"] == 1


def test_api_token_with_inventory_scope(api_client, make_token):
    _, secret = make_token([Perm.INVENTORY_MANAGE])
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    response = api_client.post(
        URL, {"file": upload("m.pkl", builders.pickle_with_os_system())}, format="multipart"
    )
    assert response.status_code == 200
    assert "pickle.dangerous_global" in {f["code"] for f in response.json()["findings"]}


@pytest.mark.parametrize("role", [Role.VIEWER, Role.AUDITOR, Role.APPROVER, None])
def test_api_refuses_roles_without_inventory_manage(client_for, role):
    response = client_for(role).post(
        URL, {"file": upload("m.pkl", builders.benign_pickle())}, format="multipart"
    )
    assert response.status_code in (401, 403)


def test_api_malformed_file_is_422_problem_naming_format_and_offset(client_for):
    response = client_for(Role.REQUESTER).post(
        URL, {"file": upload("m.pkl", builders.benign_pickle()[:-3])}, format="multipart"
    )
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["errors"][0]["pointer"] == "#/file"
    assert "pickle" in body["detail"] and "offset" in body["detail"]


def test_api_without_a_file_is_400(client_for):
    response = client_for(Role.REQUESTER).post(URL, {}, format="multipart")
    assert response.status_code == 400
    assert response.json()["errors"][0]["pointer"] == "#/file"


def test_command_prints_facts_and_json(capsys):
    call_command("inspect_artifact", str(sample("kserve-sklearn-svc.model.joblib")))
    text = capsys.readouterr().out
    assert "format      joblib" in text and "sklearn" in text
    call_command("inspect_artifact", str(sample("d.safetensors")), "--json")
    assert json.loads(capsys.readouterr().out)["sizes"]["parameters"] == 6


def test_command_fails_on_malformed_file(tmp_path):
    bad = tmp_path / "m.safetensors"
    bad.write_bytes(b"\x01\x02")
    with pytest.raises(CommandError, match="safetensors"):
        call_command("inspect_artifact", str(bad))


def _register_through_the_page(client, system, name, data, version="1.0"):
    url = reverse("artifacts:version-from-artifact")
    page = client.post(url, {"system": system.slug, "file": upload(name, data)})
    assert page.status_code == 200, page.content
    form = page.context["form"]
    fields = {k: v for k, v in form.initial.items() if v not in (None, "")}
    fields.update(version=version, code_commit_sha="a" * 40)
    return page, client.post(url, fields)


def test_register_from_artifact_prefills_and_stores_the_facts(client, make_user, system):
    client.force_login(make_user(Role.REQUESTER))
    data = builders.keras_archive(with_lambda=False)
    page, done = _register_through_the_page(client, system, "scorer.keras", data)
    initial = page.context["form"].initial
    assert initial["framework"] == "tensorflow" and initial["artifact_format"] == "keras"
    assert initial["framework_version"] == "3.6.0"
    assert done.status_code == 302
    version = ModelVersion.objects.get(system=system, version="1.0")
    assert version.artifact["format"] == "keras"
    assert version.artifact_sha256 == version.artifact["sha256"]
    event = AuditEvent.objects.filter(action="inventory.version.registered").latest("sequence")
    assert event.after["artifact"]["sha256"] == version.artifact_sha256


def test_posted_facts_cannot_replace_the_inspection(client, make_user, system):
    client.force_login(make_user(Role.REQUESTER))
    url = reverse("artifacts:version-from-artifact")
    forged = {
        "inspection": "f" * 64,
        "system": system.slug,
        "version": "9.9",
        "framework": "sklearn",
        "artifact_format": "onnx",
    }
    response = client.post(url, forged)
    assert response.status_code == 302  # back to the upload: no such inspection
    assert not ModelVersion.objects.filter(version="9.9").exists()


def test_viewer_cannot_open_the_page(client, make_user):
    client.force_login(make_user(Role.VIEWER))
    assert client.get(reverse("artifacts:version-from-artifact")).status_code == 403


def test_bad_upload_on_the_page_is_shown_not_raised(client, make_user, system):
    client.force_login(make_user(Role.REQUESTER))
    response = client.post(
        reverse("artifacts:version-from-artifact"),
        {"system": system.slug, "file": upload("m.safetensors", b"\x01\x02")},
    )
    assert response.status_code == 422
    assert b"safetensors" in response.content


def test_os_system_pickle_is_denied_in_production_by_the_policy(client, make_user, system):
    """The issue's "done when": a pickle with os.system in it is denied in production."""
    client.force_login(make_user(Role.REQUESTER))
    policy_directory_load(actor=Actor.system("tests"))
    data = builders.torch_style_zip(builders.pickle_with_os_system())
    _, done = _register_through_the_page(client, system, "model.pt", data, version="6.6")
    assert done.status_code == 302
    version = ModelVersion.objects.get(system=system, version="6.6")
    for environment, allowed in (("production", False), ("staging", True)):
        request = deployment_request_resolve(
            system_slug="scorer", version="6.6", environment=environment, requester="ci"
        )
        decision = decision_evaluate(actor=Actor.system("tests"), endpoint="api", request=request)
        found = {v["code"]: v for v in decision.violations}
        assert "supply_chain.dangerous_pickle_global" in found, decision.violations
        expected = "warn" if allowed else "deny"
        assert found["supply_chain.dangerous_pickle_global"]["severity"] == expected
        assert decision.input["model_version"]["artifact"]["sha256"] == version.artifact_sha256
