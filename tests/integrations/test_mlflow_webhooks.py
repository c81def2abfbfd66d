"""The MLflow webhook receiver: MLflow's own signature scheme (checked against MLflow's code),
refusals that change nothing, replays, and what is stored."""

import json
import subprocess
import time

import pytest
from django.test import Client

from governance.audit.models import AuditEvent
from governance.core.actor import Actor
from governance.integrations.mlflow_signature import (
    SignatureRefused,
    mlflow_sign,
    mlflow_verify,
)
from governance.integrations.models import DeliveryStatus, RegistryDelivery
from governance.integrations.services import integration_create, integration_set_active
from tests.integrations.mlflow_server import MLFLOW_PYTHON

pytestmark = pytest.mark.django_db
SECRET = "whsec-like-but-mlflow-0123456789"
URL = "/webhooks/mlflow/team"


def test_signature_matches_mlflows_own_implementation():
    """The known answer comes from mlflow.webhooks.delivery in the MLflow 3.17 virtualenv."""
    body = json.dumps({"entity": "model_version", "action": "created", "data": {"name": "é"}})
    script = (
        "import sys; from mlflow.webhooks.delivery import _generate_hmac_signature as g; "
        "print(g(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]))"
    )
    done = subprocess.run(
        [str(MLFLOW_PYTHON), "-c", script, SECRET, "d-1", "1796190000", body],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    expected = done.stdout.strip()
    assert expected.startswith("v1,")
    assert mlflow_sign(SECRET, "d-1", "1796190000", body.encode()) == expected
    mlflow_verify(
        secret=SECRET,
        delivery_id="d-1",
        timestamp="1796190000",
        signature=expected,
        body=body.encode(),
        now=1796190100,
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"secret": "another-secret-0123456789"}, "does not match"),
        ({"body": b'{"tampered": true}'}, "does not match"),
        ({"delivery_id": "d-2"}, "does not match"),
        ({"now": 1796190000 + 301}, "five minutes"),
        ({"now": 1796190000 - 301}, "five minutes"),
        ({"timestamp": "17961900x0"}, "Unix seconds"),
        ({"signature": ""}, "missing"),
        ({"secret": ""}, "no webhook secret"),
    ],
)
def test_signature_refusals(change, message):
    good = {
        "secret": SECRET,
        "delivery_id": "d-1",
        "timestamp": "1796190000",
        "body": b"{}",
        "now": 1796190000,
    }
    good["signature"] = mlflow_sign(SECRET, "d-1", "1796190000", b"{}")
    with pytest.raises(SignatureRefused, match=message):
        mlflow_verify(**{**good, **change})


CAPTURE = {}


@pytest.fixture(autouse=True)
def _commit_hooks_run(django_capture_on_commit_callbacks, eager_tasks):
    """Processing is queued on commit; run it, in this process, after each request."""
    CAPTURE["hooks"] = django_capture_on_commit_callbacks
    yield
    CAPTURE.clear()


@pytest.fixture
def integration():
    return integration_create(
        actor=Actor.system("tests"),
        slug="team",
        kind="mlflow",
        name="Team MLflow",
        endpoint="https://mlflow.example.com",
        secret=SECRET,
    )


def post(body: dict | bytes, *, delivery_id="d-1", timestamp=None, secret=SECRET, signature=None):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    timestamp = timestamp or str(int(time.time()))
    headers = {
        "HTTP_X_MLFLOW_DELIVERY_ID": delivery_id,
        "HTTP_X_MLFLOW_TIMESTAMP": timestamp,
        "HTTP_X_MLFLOW_SIGNATURE": signature or mlflow_sign(secret, delivery_id, timestamp, raw),
    }
    with CAPTURE["hooks"](execute=True):
        return Client().post(URL, raw, content_type="application/json", **headers)


UNMAPPED = {"entity": "model_version", "action": "created", "data": {"name": "x", "version": "1"}}


def test_verified_delivery_is_stored_and_processed(integration):
    response = post(UNMAPPED)
    assert response.status_code == 202
    delivery = RegistryDelivery.objects.get(delivery_id="d-1")
    assert delivery.event == "model_version.created"
    # No AI system is mapped to "x": recorded as ignored, with why; nothing registered.
    assert delivery.status == DeliveryStatus.IGNORED
    assert "no AI system is mapped" in delivery.detail
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"integrations.delivery.received", "integrations.delivery.ignored"} <= actions


def test_replayed_delivery_id_is_409(integration):
    assert post(UNMAPPED).status_code == 202
    again = post(UNMAPPED)
    assert again.status_code == 409
    assert again["Content-Type"] == "application/problem+json"
    assert RegistryDelivery.objects.count() == 1


@pytest.mark.parametrize(
    "kwargs",
    [
        {"secret": "not-the-secret-0123456789"},
        {"timestamp": str(int(time.time()) - 3600)},
        {"signature": "v1,AAAA"},
    ],
)
def test_bad_or_stale_signature_is_401_and_stores_nothing(integration, kwargs):
    response = post(UNMAPPED, **kwargs)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert not RegistryDelivery.objects.exists()


def test_unknown_and_paused_integrations_are_401(integration):
    integration_set_active(
        actor=Actor.system("tests"), integration=integration, active=False, reason="maintenance"
    )
    assert post(UNMAPPED).status_code == 401
    raw = json.dumps(UNMAPPED).encode()
    stamp = str(int(time.time()))
    response = Client().post(
        "/webhooks/mlflow/nobody",
        raw,
        content_type="application/json",
        HTTP_X_MLFLOW_DELIVERY_ID="d-9",
        HTTP_X_MLFLOW_TIMESTAMP=stamp,
        HTTP_X_MLFLOW_SIGNATURE=mlflow_sign(SECRET, "d-9", stamp, raw),
    )
    assert response.status_code == 401
    assert not RegistryDelivery.objects.exists()


def test_signed_garbage_is_400(integration):
    assert post(b"not json").status_code == 400
    assert post(b"[1, 2]").status_code == 400
    assert not RegistryDelivery.objects.exists()


def test_other_events_are_ignored(integration):
    body = {"entity": "registered_model", "action": "created", "data": {"name": "x"}}
    assert post(body).status_code == 202
    delivery = RegistryDelivery.objects.get()
    assert delivery.status == DeliveryStatus.IGNORED


def test_secret_from_the_environment(monkeypatch):
    monkeypatch.setenv("TEAM_MLFLOW_SECRET", SECRET)
    integration_create(
        actor=Actor.system("tests"),
        slug="team",
        kind="mlflow",
        name="Team",
        endpoint="https://mlflow.example.com",
        secret_env="TEAM_MLFLOW_SECRET",
    )
    assert post(UNMAPPED).status_code == 202
    monkeypatch.setenv("TEAM_MLFLOW_SECRET", "rotated-elsewhere-0123456789")
    assert post(UNMAPPED, delivery_id="d-2").status_code == 401
