"""Standard Webhooks signatures as a DRF authentication scheme (for POST /api/v1/policy/check)."""

import json
import time

import pytest
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from governance.accounts.authentication import ApiTokenAuthentication
from governance.accounts.permissions import Perm, has_perm
from governance.core.actor import Actor
from governance.webhooks.authentication import StandardWebhooksAuthentication, WebhookToken
from governance.webhooks.models import InboundDelivery
from governance.webhooks.signatures import standard_webhooks_sign
from tests.webhooks.conftest import sample

pytestmark = [pytest.mark.django_db, pytest.mark.needs_shared]

KNOWN = sample("signatures/standard-webhooks.v1.vectors.json")["vectors"][0]
SECRET = KNOWN["secret"]


class CheckView(APIView):
    authentication_classes = [StandardWebhooksAuthentication, ApiTokenAuthentication]
    required_permission = Perm.POLICY_CHECK

    def post(self, request):
        actor = Actor.from_request(request)
        return Response(
            {
                "actor": actor.label,
                "actor_id": actor.id,
                "check": has_perm(request.user, Perm.POLICY_CHECK),
                "manage": has_perm(request.user, Perm.POLICY_MANAGE),
                "data": request.data,
            }
        )


def call(body: bytes, **headers):
    request = APIRequestFactory().post(
        "/api/v1/policy/check", data=body, content_type="application/json", **headers
    )
    return CheckView.as_view()(request).render()


def signed(body: bytes, msg_id: str = "msg_1", timestamp: int | None = None, secret=SECRET):
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {
        "HTTP_WEBHOOK_ID": msg_id,
        "HTTP_WEBHOOK_TIMESTAMP": str(timestamp),
        "HTTP_WEBHOOK_SIGNATURE": standard_webhooks_sign(secret, msg_id, timestamp, body),
    }


@pytest.fixture(autouse=True)
def _secret(settings):
    settings.POLICY_CHECK_WEBHOOK_SECRET = SECRET


BODY = json.dumps({"system": "credit-scoring", "model_version": "1.4.0"}).encode()


def test_signed_request_acts_as_the_webhook_principal_with_policy_check_only():
    response = call(BODY, **signed(BODY))
    assert response.status_code == 200, response.data
    assert response.data["actor"] == "token:standard-webhooks"
    assert response.data["actor_id"] == str(WebhookToken.public_id)
    assert (response.data["check"], response.data["manage"]) == (True, False)
    assert response.data["data"]["system"] == "credit-scoring"  # the body is still parsed
    delivery = InboundDelivery.objects.get(source="standard-webhooks")
    assert delivery.delivery_id == "msg_1"


def test_replayed_webhook_id_is_409_problem_and_records_nothing_new():
    assert call(BODY, **signed(BODY)).status_code == 200
    response = call(BODY, **signed(BODY))
    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    assert "already received" in response.data["detail"]
    assert InboundDelivery.objects.filter(source="standard-webhooks").count() == 1


@pytest.mark.parametrize(
    "headers",
    [
        lambda: signed(BODY, secret="whsec_" + "A" * 32),  # another secret
        lambda: signed(BODY, timestamp=int(time.time()) - 3600),  # too old
        lambda: {**signed(BODY), "HTTP_WEBHOOK_ID": "msg_other"},  # id not the one signed
        lambda: {k: v for k, v in signed(BODY).items() if k != "HTTP_WEBHOOK_TIMESTAMP"},
        lambda: {
            **signed(BODY),
            "HTTP_WEBHOOK_SIGNATURE": sample("signatures/standard-webhooks.v1.vectors.json")[
                "vectors"
            ][1]["presented_signature"],
        },
    ],
)
def test_bad_signature_is_401_problem(headers):
    response = call(BODY, **headers())
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response["WWW-Authenticate"] == 'Webhook-Signature realm="api"'
    assert "signature" in response.data["detail"].lower() or "header" in response.data["detail"]
    assert not InboundDelivery.objects.exists()


def test_tampered_body_is_401():
    response = call(BODY + b" ", **signed(BODY))
    assert response.status_code == 401


def test_no_secret_configured_refuses_signed_requests(settings):
    settings.POLICY_CHECK_WEBHOOK_SECRET = ""
    response = call(BODY, **signed(BODY))
    assert response.status_code == 401
    assert "secret" in response.data["detail"]


def test_without_webhook_signature_other_schemes_decide(make_token):
    assert call(BODY).status_code == 401  # nobody
    _, secret = make_token([Perm.POLICY_CHECK])
    response = call(BODY, HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 200
    assert response.data["actor"].startswith("token:machine-")


def test_signed_policy_check_through_the_real_api(governed):
    from django.test import Client
    from django.urls import reverse

    body = json.dumps(
        {
            "system": "credit-scoring",
            "model_version": "1.4.0",
            "environment": "production",
            "requester": "ci",
        }
    ).encode()
    url = reverse("api:policy-check")
    headers = signed(body, msg_id="msg_policy_check")
    response = Client().post(url, data=body, content_type="application/json", **headers)
    assert response.status_code == 200, response.content
    assert response.json()["allow"] is True
    replay = Client().post(url, data=body, content_type="application/json", **headers)
    assert replay.status_code == 409
    assert replay["Content-Type"] == "application/problem+json"
