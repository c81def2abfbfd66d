"""POST /webhooks/github/deployment-protection with GitHub's sample event, answered through a
local stand-in for GitHub's API (tests/webhooks/conftest.py)."""

import copy
import hashlib
import hmac
import json
import logging
import socket
import time

import pytest
from django.test import Client
from django.urls import reverse

from governance.audit.models import AuditEvent
from governance.policy.models import Decision
from governance.webhooks.github import GitHubUnavailable, same_origin
from governance.webhooks.models import InboundDelivery
from governance.webhooks.services import github_delivery_process
from governance.webhooks.tasks import github_deployment_review_task
from tests.webhooks.conftest import (
    APP_ID,
    INSTALLATION_ID,
    INSTALLATION_TOKEN,
    WEBHOOK_SECRET,
    sample,
)

URL = "/webhooks/github/deployment-protection"
SAMPLE = sample("github/deployment_protection_rule.requested.octokit-webhooks-net.payload.json")
REVIEW_EXAMPLE = sample(
    "github/deployment_protection_rule.review-request-body.rest-docs-example.json"
)


def event(fake, *, system="credit-scoring", version="1.4.0", environment="production", **top):
    """GitHub's sample event, naming our system in the deployment payload, calling back to the
    stand-in, from an installed App."""
    payload = copy.deepcopy(SAMPLE)
    payload["environment"] = environment
    payload["deployment_callback_url"] = fake.callback_url()
    payload["deployment"]["payload"] = {"ai_system": system, "model_version": version}
    payload["installation"] = {
        "id": INSTALLATION_ID,
        "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ==",
    }
    payload.update(top)
    return payload


def sign(body: bytes, secret: str = WEBHOOK_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


counter = iter(range(1, 100_000))


def post(payload, *, kind="deployment_protection_rule", delivery=None, signature="sign"):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {
        "HTTP_X_GITHUB_EVENT": kind,
        "HTTP_X_GITHUB_DELIVERY": delivery or f"72d3162e-cc78-11e3-81ab-{next(counter):012d}",
        "HTTP_USER_AGENT": "GitHub-Hookshot/044aadd",
    }
    if signature == "sign":
        headers["HTTP_X_HUB_SIGNATURE_256"] = sign(body)
    elif signature is not None:
        headers["HTTP_X_HUB_SIGNATURE_256"] = signature
    return Client().post(URL, data=body, content_type="application/json", **headers)


@pytest.fixture
def deliver(django_capture_on_commit_callbacks, eager_celery, fake_github, governed):
    """Post an event and run the queued review (eagerly) as the commit hook would."""

    def run(payload, **kwargs):
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            response = post(payload, **kwargs)
        assert response.status_code == 202, response.content
        assert len(callbacks) == 1
        return InboundDelivery.objects.get(delivery_id=response.json()["delivery"])

    return run


def test_url_name():
    assert reverse("webhooks:github-deployment-protection") == URL


@pytest.mark.django_db
def test_allowed_deployment_is_approved_as_the_app(deliver, fake_github):
    delivery = deliver(event(fake_github))
    assert delivery.status == "approved"
    assert delivery.callback_status == 204
    assert delivery.processed_at is not None
    decision = delivery.decision
    assert (decision.endpoint, decision.allow, decision.caller) == (
        "github",
        True,
        "token:webhook:github",
    )
    assert decision.input["request"]["requester"] == "Codertocat"  # deployment.creator.login
    assert decision.input["request"]["change"] == {
        "repository": "Codertocat/Hello-World",
        "sha": SAMPLE["deployment"]["sha"],
        "ref": "master",
        "deployment_id": SAMPLE["deployment"]["id"],
        "delivery": delivery.delivery_id,
    }
    [token_request] = fake_github.token_requests
    assert token_request["installation"] == str(INSTALLATION_ID)
    claims = token_request["claims"]
    assert claims["iss"] == APP_ID and claims["exp"] - claims["iat"] == 600
    assert abs(claims["iat"] + 60 - time.time()) < 30
    [review] = fake_github.reviews
    assert (
        review["path"] == "/repos/Codertocat/Hello-World/actions/runs/1/deployment_protection_rule"
    )
    assert set(review["body"]) == set(REVIEW_EXAMPLE)
    assert review["body"]["environment_name"] == "production"
    assert review["body"]["state"] == "approved"
    assert review["body"]["comment"].startswith(f"Governance decision {decision.decision_id}")
    assert review["headers"]["authorization"] == f"Bearer {INSTALLATION_TOKEN}"
    assert review["headers"]["accept"] == "application/vnd.github+json"
    assert review["headers"]["x-github-api-version"] == "2022-11-28"
    audit = AuditEvent.objects.get(action="webhooks.github.approved")
    assert audit.actor_name == "webhook:github"


@pytest.mark.django_db
def test_denied_deployment_is_rejected_with_the_violation(deliver, fake_github):
    delivery = deliver(event(fake_github, system="fraud-detector"))
    assert delivery.status == "rejected"
    assert delivery.decision.allow is False
    [review] = fake_github.reviews
    assert review["body"]["state"] == "rejected"
    comment = review["body"]["comment"]
    assert str(delivery.decision.decision_id) in comment
    assert "approvals.insufficient" in comment and "needs 1 approval" in comment
    assert len(comment) <= 1024


@pytest.mark.django_db
def test_top_level_sha_ref_and_a_json_string_payload(deliver, fake_github):
    payload = event(fake_github, sha="0" * 40, ref="refs/heads/release")
    payload["deployment"]["payload"] = json.dumps(
        {"ai_system": "credit-scoring", "model_version": "1.4.0"}
    )
    payload["deployment"]["creator"] = None
    delivery = deliver(payload)
    assert delivery.status == "approved"
    request = delivery.decision.input["request"]
    assert (request["change"]["sha"], request["change"]["ref"]) == ("0" * 40, "refs/heads/release")
    assert request["requester"] == SAMPLE["sender"]["login"]


@pytest.mark.django_db
def test_deployment_null_is_rejected_with_what_to_add(deliver, fake_github):
    delivery = deliver(event(fake_github, deployment=None))
    assert delivery.status == "rejected"
    assert delivery.decision is None
    [review] = fake_github.reviews
    assert review["body"]["state"] == "rejected"
    assert "ai_system" in review["body"]["comment"] and "model_version" in review["body"]["comment"]
    assert not Decision.objects.exists()


@pytest.mark.django_db
def test_payload_without_our_keys_is_rejected(deliver, fake_github):
    payload = event(fake_github)
    payload["deployment"]["payload"] = {}  # as in GitHub's sample
    delivery = deliver(payload)
    assert delivery.status == "rejected"
    assert "lacks ai_system and model_version" in fake_github.reviews[0]["body"]["comment"]


@pytest.mark.django_db
def test_unknown_environment_is_rejected(deliver, fake_github):
    delivery = deliver(event(fake_github, environment=SAMPLE["environment"]))  # "my-environment"
    assert delivery.status == "rejected"
    assert "Unknown environment" in fake_github.reviews[0]["body"]["comment"]
    assert fake_github.reviews[0]["body"]["environment_name"] == "my-environment"


@pytest.mark.django_db
def test_without_installation_block_the_delivery_fails_clearly(deliver, fake_github):
    payload = event(fake_github)
    del payload["installation"]
    delivery = deliver(payload)
    assert delivery.status == "failed"
    assert "no installation block" in delivery.detail
    assert delivery.decision is not None  # decided and logged all the same
    assert fake_github.reviews == []


@pytest.mark.django_db
def test_without_app_credentials_the_delivery_fails_clearly(deliver, fake_github, settings):
    settings.GITHUB_APP_ID = ""
    delivery = deliver(event(fake_github))
    assert delivery.status == "failed"
    assert "GITHUB_APP_ID" in delivery.detail
    assert fake_github.reviews == [] and fake_github.token_requests == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    "callback",
    [
        "http://169.254.169.254/latest/meta-data/",
        "https://api.github.com/repos/o/r/actions/runs/1/deployment_protection_rule",
        "{base_other_port}/repos/o/r/actions/runs/1/deployment_protection_rule",
    ],
)
def test_callback_elsewhere_than_github_api_is_refused(deliver, fake_github, callback):
    port = fake_github.server_address[1] + 1
    payload = event(fake_github)
    payload["deployment_callback_url"] = callback.format(base_other_port=f"http://127.0.0.1:{port}")
    delivery = deliver(payload)
    assert delivery.status == "failed"
    assert "Refusing deployment_callback_url" in delivery.detail
    assert fake_github.token_requests == [] and fake_github.reviews == []


def test_same_origin():
    assert same_origin("https://api.github.com/repos/x", "https://api.github.com")
    assert same_origin("https://API.github.com:443/x", "https://api.github.com/")
    assert not same_origin("http://api.github.com/x", "https://api.github.com")
    assert not same_origin("https://api.github.com.evil.test/x", "https://api.github.com")
    assert not same_origin("https://api.github.com:8443/x", "https://api.github.com")
    assert not same_origin("not a url", "https://api.github.com")


@pytest.mark.django_db
def test_github_refusing_the_review_fails_the_delivery(deliver, fake_github):
    fake_github.review_status = 422
    delivery = deliver(event(fake_github))
    assert (delivery.status, delivery.callback_status) == ("failed", 422)
    assert "HTTP 422" in delivery.detail


@pytest.mark.django_db
def test_github_unavailable_is_retried_with_the_same_decision(
    django_capture_on_commit_callbacks, fake_github, governed
):
    with django_capture_on_commit_callbacks(execute=False):
        response = post(event(fake_github))
    delivery = InboundDelivery.objects.get(delivery_id=response.json()["delivery"])
    fake_github.review_status = 503
    with pytest.raises(GitHubUnavailable):
        github_delivery_process(delivery_pk=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == "received" and delivery.decision is not None
    fake_github.review_status = 204
    assert github_delivery_process(delivery_pk=delivery.pk).status == "approved"
    assert Decision.objects.count() == 1
    assert len(fake_github.reviews) == 2
    # Done is done: running it again posts nothing.
    github_delivery_process(delivery_pk=delivery.pk)
    assert len(fake_github.reviews) == 2


@pytest.mark.django_db
def test_network_error_then_giving_up_marks_the_delivery_failed(
    django_capture_on_commit_callbacks, fake_github, governed, settings
):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}"
    settings.GITHUB_API_URL = closed
    payload = event(fake_github)
    payload["deployment_callback_url"] = (
        f"{closed}/repos/o/r/actions/runs/1/deployment_protection_rule"
    )
    with django_capture_on_commit_callbacks(execute=False):
        response = post(payload)
    delivery = InboundDelivery.objects.get(delivery_id=response.json()["delivery"])
    with pytest.raises(GitHubUnavailable) as raised:
        github_delivery_process(delivery_pk=delivery.pk)
    assert github_deployment_review_task.autoretry_for == (GitHubUnavailable,)
    github_deployment_review_task.on_failure(raised.value, "task-id", (delivery.pk,), {}, None)
    delivery.refresh_from_db()
    assert delivery.status == "failed"
    assert "Gave up after retries" in delivery.detail


# --- The HTTP contract --------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("signature", [None, "", "sha256=" + "0" * 64, "sha1=abc", "garbage"])
def test_missing_or_bad_signature_is_401_and_logged(fake_github, signature, caplog):
    with caplog.at_level(logging.WARNING, logger="governance.webhooks.views"):
        response = post(event(fake_github), signature=signature)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 401
    assert "github webhook refused" in caplog.text
    assert not InboundDelivery.objects.exists()


@pytest.mark.django_db
def test_signature_with_another_secret_is_401(fake_github):
    body = json.dumps(event(fake_github)).encode()
    response = post(body, signature=sign(body, "not the secret"))
    assert response.status_code == 401


@pytest.mark.django_db
def test_unconfigured_secret_refuses_everything(fake_github, settings):
    settings.GITHUB_WEBHOOK_SECRET = ""
    body = json.dumps(event(fake_github)).encode()
    assert post(body, signature=sign(body, "")).status_code == 401


@pytest.mark.django_db
def test_replay_is_409_and_changes_nothing(deliver, fake_github):
    payload = event(fake_github)
    first = deliver(payload, delivery="72d3162e-cc78-11e3-81ab-4c9367dc0958")
    assert first.status == "approved"
    before = (InboundDelivery.objects.count(), Decision.objects.count(), AuditEvent.objects.count())
    response = post(payload, delivery="72d3162e-cc78-11e3-81ab-4c9367dc0958")
    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    assert "already received" in response.json()["detail"]
    after = (InboundDelivery.objects.count(), Decision.objects.count(), AuditEvent.objects.count())
    assert after == before
    assert len(fake_github.reviews) == 1


@pytest.mark.django_db
@pytest.mark.parametrize("body", [b"{not json", b"\xff\xfe", b"[1, 2]"])
def test_invalid_json_is_400(fake_github, body):
    response = post(body)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert not InboundDelivery.objects.exists()


@pytest.mark.django_db
def test_missing_delivery_header_or_callback_is_400(fake_github):
    payload = event(fake_github)
    body = json.dumps(payload).encode()
    response = Client().post(
        URL,
        data=body,
        content_type="application/json",
        HTTP_X_GITHUB_EVENT="deployment_protection_rule",
        HTTP_X_HUB_SIGNATURE_256=sign(body),
    )
    assert response.status_code == 400
    del payload["deployment_callback_url"]
    assert post(payload).status_code == 400
    assert not InboundDelivery.objects.exists()


@pytest.mark.django_db
def test_oversize_body_is_413(fake_github, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 4096
    body = json.dumps(event(fake_github)).encode()
    assert len(body) > 4096
    response = post(body)
    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"
    assert not InboundDelivery.objects.exists()


@pytest.mark.django_db
def test_ping_is_200_and_other_events_are_acknowledged_and_ignored(fake_github):
    ping = post({"zen": "Keep it logically awesome.", "hook_id": 1}, kind="ping")
    assert (ping.status_code, ping.json()) == (200, {"ok": True})
    push = post({"ref": "refs/heads/main"}, kind="push")
    assert push.status_code == 202 and push.json()["ignored"] is True
    other_action = post({**event(fake_github), "action": "completed"})
    assert other_action.status_code == 202 and other_action.json()["ignored"] is True
    assert not InboundDelivery.objects.exists()


@pytest.mark.django_db
def test_only_post(fake_github):
    response = Client().get(URL)
    assert response.status_code == 405
    assert response["Content-Type"] == "application/problem+json"


# --- A real worker --------------------------------------------------------------------------


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_worker_reviews_the_delivery_and_answers_github(
    celery_worker_process, governed, fake_github
):
    """The delivery is queued on commit, a separate worker process decides it and calls the
    stand-in GitHub (its GitHub App settings come from os.environ, see conftest.py)."""
    response = post(event(fake_github, system="fraud-detector"))
    assert response.status_code == 202
    delivery_id = response.json()["delivery"]
    deadline = time.monotonic() + 45
    while time.monotonic() < deadline:
        delivery = InboundDelivery.objects.get(delivery_id=delivery_id)
        if delivery.status != "received":
            break
        time.sleep(0.2)
    assert delivery.status == "rejected", delivery.detail
    assert delivery.callback_status == 204
    [review] = fake_github.reviews
    assert review["body"]["state"] == "rejected"
    assert str(delivery.decision.decision_id) in review["body"]["comment"]
