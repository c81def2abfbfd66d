"""Hugging Face Hub webhooks against a local stand-in serving a real model card and a
safetensors file written by the safetensors package: a push to a mapped repository registers
repo@commit with the card's facts and the headers' parameter count, reading only headers."""

import json

import pytest
from django.test import Client

from governance.accounts.models import Role
from governance.audit.models import AuditEvent
from governance.core.actor import Actor
from governance.integrations.models import DeliveryStatus, RegistryDelivery
from governance.integrations.services import integration_create, model_mapping_add
from governance.inventory.models import ModelVersion
from governance.inventory.services import ai_system_create
from tests.artifacts import builders
from tests.artifacts.builders import sample
from tests.integrations.hub_standin import HubStandIn

pytestmark = pytest.mark.django_db
SECRET = "hub-webhook-secret-0123456789"
REPO, SHA = "acme/bean-classifier", "3f5e2a9c1b7d4e6f8a0b2c4d6e8f0a1b3c5d7e9f"


def push_payload(sha=SHA, scope="repo.content", action="update", repo_type="model"):
    """The shape the Hub documents for repository webhooks."""
    return {
        "event": {"action": action, "scope": scope},
        "repo": {
            "type": repo_type,
            "name": REPO,
            "id": "6560e1c5a2f0e1b2c3d4e5f6",
            "private": False,
            "headSha": sha,
            "url": {"web": f"https://huggingface.co/{REPO}", "api": f"/api/models/{REPO}"},
        },
        "updatedRefs": [{"ref": "refs/heads/main", "oldSha": "0" * 40, "newSha": sha}],
        "webhook": {"id": "65a1b2c3d4e5f6a7b8c9d0e1", "version": 3},
    }


@pytest.fixture
def hub():
    weights = builders.safetensors_file({"format": "pt"})
    stand_in = HubStandIn(
        REPO,
        SHA,
        {
            "README.md": sample("hf-card.invalid-model-index.README.md").read_bytes(),
            "model.safetensors": weights,
            "pytorch_model.bin": builders.torch_style_zip(builders.benign_pickle()),
        },
    )
    yield stand_in
    stand_in.stop()


@pytest.fixture
def integration(hub, make_user):
    actor = Actor.system("tests")
    system = ai_system_create(
        actor=actor, slug="beans", name="Beans", owner=make_user(Role.REQUESTER), risk_tier="low"
    )
    integration = integration_create(
        actor=actor, slug="hub", kind="huggingface", name="Hub", endpoint=hub.url, secret=SECRET
    )
    model_mapping_add(actor=actor, integration=integration, registry_model=REPO, system=system)
    return integration


def send(payload, django_capture_on_commit_callbacks, secret=SECRET):
    with django_capture_on_commit_callbacks(execute=True):
        return Client().post(
            "/webhooks/huggingface/hub",
            json.dumps(payload),
            content_type="application/json",
            HTTP_X_WEBHOOK_SECRET=secret,
        )


def test_push_registers_repo_at_commit(
    integration, hub, eager_tasks, django_capture_on_commit_callbacks
):
    response = send(push_payload(), django_capture_on_commit_callbacks)
    assert response.status_code == 202, response.content
    delivery = RegistryDelivery.objects.get()
    assert delivery.status == DeliveryStatus.PROCESSED, delivery.detail
    version = ModelVersion.objects.get(system__slug="beans", version=SHA)
    assert version.artifact_uri == f"hf://{REPO}@{SHA}"
    assert version.artifact_format == "safetensors"
    assert version.framework == "pytorch"  # the safetensors metadata says format=pt
    assert version.artifact["license"] == "mit"
    assert [d.slug for d in version.datasets.all()] == ["beans"]
    assert version.artifact["sizes"]["parameters"] == 43
    codes = {f["code"] for f in version.artifact["findings"]}
    assert {"model_card.invalid_model_index", "artifact.pickle_weights_not_inspected"} <= codes
    # Only headers were read: two Range requests on the weights, after the CDN redirect.
    ranges = [r for path, r in hub.requests if path == "/cdn/model.safetensors"]
    assert ranges[0] == "bytes=0-7" and ranges[1].startswith("bytes=8-")
    assert not any(p.endswith("pytorch_model.bin") for p, _ in hub.requests)
    assert AuditEvent.objects.filter(action="inventory.version.registered").exists()


def test_same_push_again_is_409(integration, eager_tasks, django_capture_on_commit_callbacks):
    assert send(push_payload(), django_capture_on_commit_callbacks).status_code == 202
    assert send(push_payload(), django_capture_on_commit_callbacks).status_code == 409
    assert RegistryDelivery.objects.count() == 1


@pytest.mark.parametrize("secret", ["wrong-secret-0123456789", ""])
def test_wrong_secret_is_401_and_stores_nothing(
    integration, eager_tasks, django_capture_on_commit_callbacks, secret
):
    response = send(push_payload(), django_capture_on_commit_callbacks, secret=secret)
    assert response.status_code == 401
    assert not RegistryDelivery.objects.exists()
    assert not ModelVersion.objects.exists()


@pytest.mark.parametrize(
    "payload",
    [
        push_payload(scope="discussion"),
        push_payload(repo_type="dataset"),
        push_payload(action="delete"),
    ],
)
def test_other_events_are_ignored(
    integration, eager_tasks, django_capture_on_commit_callbacks, payload
):
    assert send(payload, django_capture_on_commit_callbacks).status_code == 202
    assert RegistryDelivery.objects.get().status == DeliveryStatus.IGNORED
    assert not ModelVersion.objects.exists()


def test_unreachable_hub_is_a_failed_delivery(
    integration, hub, eager_tasks, django_capture_on_commit_callbacks
):
    hub.stop()
    assert send(push_payload(), django_capture_on_commit_callbacks).status_code == 202
    delivery = RegistryDelivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED
    assert "did not answer" in delivery.detail
