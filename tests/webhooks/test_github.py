"""POST /webhooks/github/deployment-protection with GitHub's sample event, answered through a
local stand-in for GitHub's API (tests/webhooks/conftest.py)."""

import copy
import hashlib
import hmac
import json
import logging
import socket
import time
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from governance.audit.models import AuditEvent
from governance.policy.models import Decision
from governance.webhooks.github import same_origin
from governance.webhooks.models import InboundDelivery
from governance.webhooks.services import github_delivery_process
from governance.webhooks.tasks import github_deliveries_due_task, github_deployment_review_task
from tests.webhooks.conftest import (
    APP_ID,
    INSTALLATION_ID,
    INSTALLATION_TOKEN,
    WEBHOOK_SECRET,
    sample,
)

URL = "/webhooks/github/deployment-protection"
pytestmark = pytest.mark.needs_shared

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
    comment = fake_github.reviews[0]["body"]["comment"]
    assert "GitHub environment 'my-environment' is not mapped" in comment
    assert "/settings/environments/" in comment
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
    outcome = github_delivery_process(delivery_pk=delivery.pk)
    delivery.refresh_from_db()
    assert outcome.retry_in == 10  # GITHUB_RETRY_BACKOFF_SECONDS, doubling from there
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert delivery.decision is not None
    assert "answered 503" in delivery.last_error
    assert delivery.next_retry_at is not None
    assert github_delivery_process(delivery_pk=delivery.pk).retry_in == 20
    fake_github.review_status = 204
    assert github_delivery_process(delivery_pk=delivery.pk).delivery.status == "approved"
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.last_error, delivery.next_retry_at) == (3, "", None)
    assert Decision.objects.count() == 1
    assert len(fake_github.reviews) == 3
    # Done is done: running it again posts nothing.
    github_delivery_process(delivery_pk=delivery.pk)
    assert len(fake_github.reviews) == 3
    actions = list(
        AuditEvent.objects.filter(target_id=delivery.delivery_id)
        .order_by("sequence")
        .values_list("action", flat=True)
    )
    assert actions == [
        "webhooks.github.pending",
        "webhooks.github.pending",
        "webhooks.github.approved",
    ]


@pytest.mark.django_db
def test_network_error_until_the_last_attempt_marks_the_delivery_failed(
    django_capture_on_commit_callbacks, fake_github, governed, settings
):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}"
    settings.GITHUB_API_URL = closed
    settings.GITHUB_REVIEW_MAX_ATTEMPTS = 3
    payload = event(fake_github)
    payload["deployment_callback_url"] = (
        f"{closed}/repos/o/r/actions/runs/1/deployment_protection_rule"
    )
    with django_capture_on_commit_callbacks(execute=False):
        response = post(payload)
    delivery = InboundDelivery.objects.get(delivery_id=response.json()["delivery"])
    assert [github_delivery_process(delivery_pk=delivery.pk).retry_in for _ in range(3)] == [
        10,
        20,
        None,
    ]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("failed", 3)
    assert "Gave up after 3 attempts" in delivery.last_error
    assert delivery.next_retry_at is None


@pytest.mark.django_db
def test_embedded_mode_answers_202_and_leaves_the_delivery_pending(deliver, fake_github):
    fake_github.review_status = 502
    delivery = deliver(event(fake_github))  # the task ran eagerly, inside the request
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert delivery.next_retry_at is not None
    # The beat task picks it up when it is due.
    InboundDelivery.objects.filter(pk=delivery.pk).update(next_retry_at=timezone.now())
    fake_github.review_status = 204
    assert github_deliveries_due_task() == {"attempted": 1}
    delivery.refresh_from_db()
    assert delivery.status == "approved"
    assert github_deliveries_due_task() == {"attempted": 0}


@pytest.mark.django_db
def test_a_delivery_whose_task_was_lost_is_picked_up_by_the_beat_task(
    django_capture_on_commit_callbacks, fake_github, governed
):
    with django_capture_on_commit_callbacks(execute=False):  # the queued task never runs
        response = post(event(fake_github))
    delivery = InboundDelivery.objects.get(delivery_id=response.json()["delivery"])
    assert github_deliveries_due_task() == {"attempted": 0}  # not yet: it may be in flight
    InboundDelivery.objects.filter(pk=delivery.pk).update(
        received_at=timezone.now() - timedelta(minutes=6)
    )
    assert github_deliveries_due_task() == {"attempted": 1}
    delivery.refresh_from_db()
    assert delivery.status == "approved"


@pytest.mark.django_db
def test_task_failure_fails_the_delivery_with_the_reason(deliver, fake_github):
    fake_github.review_status = 502
    delivery = deliver(event(fake_github))
    github_deployment_review_task.on_failure(
        RuntimeError("boom"), "task-id", (delivery.pk,), {}, None
    )
    delivery.refresh_from_db()
    assert delivery.status == "failed"
    assert "The review task failed: boom" in delivery.last_error


# --- Redelivery ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_redelivery_of_an_answered_delivery_is_acknowledged_without_a_second_review(
    deliver, fake_github
):
    payload = event(fake_github)
    first = deliver(payload, delivery="72d3162e-cc78-11e3-81ab-4c9367dc0958")
    assert first.status == "approved"
    decisions = Decision.objects.count()
    response = post(payload, delivery="72d3162e-cc78-11e3-81ab-4c9367dc0958")
    assert response.status_code == 202
    assert response.json() == {"delivery": first.delivery_id, "status": "approved"}
    first.refresh_from_db()
    assert first.redeliveries == 1
    assert InboundDelivery.objects.count() == 1 and Decision.objects.count() == decisions
    assert len(fake_github.reviews) == 1
    event_ = AuditEvent.objects.filter(action="webhooks.github.redelivered").get()
    assert "already answered" in event_.reason


@pytest.mark.django_db
def test_redelivery_after_a_failure_is_processed_again(deliver, fake_github):
    payload = event(fake_github)
    fake_github.review_status = 422
    failed = deliver(payload, delivery="redeliver-after-failure")
    assert failed.status == "failed"
    fake_github.review_status = 204
    again = deliver(payload, delivery="redeliver-after-failure")
    assert (again.pk, again.status, again.attempts, again.redeliveries) == (
        failed.pk,
        "approved",
        2,
        1,
    )
    assert Decision.objects.count() == 1  # the first decision is reused
    assert [r["body"]["state"] for r in fake_github.reviews] == ["approved", "approved"]


@pytest.mark.django_db
def test_replay_with_another_body_is_409_and_changes_nothing(deliver, fake_github):
    payload = event(fake_github)
    first = deliver(payload, delivery="72d3162e-cc78-11e3-81ab-4c9367dc0958")
    assert first.status == "approved"
    before = (InboundDelivery.objects.count(), Decision.objects.count(), AuditEvent.objects.count())
    response = post(
        event(fake_github, environment="staging"), delivery="72d3162e-cc78-11e3-81ab-4c9367dc0958"
    )
    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    assert "different body" in response.json()["detail"]
    after = (InboundDelivery.objects.count(), Decision.objects.count(), AuditEvent.objects.count())
    assert after == before
    assert len(fake_github.reviews) == 1


@pytest.mark.django_db
def test_deliveries_page_shows_state_attempts_and_error_and_retries(
    deliver, fake_github, make_user, client, django_capture_on_commit_callbacks
):
    from governance.accounts.models import Role

    fake_github.review_status = 503
    pending = deliver(event(fake_github))
    admin = make_user(Role.ADMIN)
    client.force_login(admin)
    page = client.get("/settings/github/deliveries/")
    assert page.status_code == 200
    html = page.content.decode()
    assert pending.delivery_id in html and "Pending retry" in html and "answered 503" in html
    assert f"/settings/github/deliveries/{pending.delivery_id}/retry" in html
    fake_github.review_status = 204
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/settings/github/deliveries/{pending.delivery_id}/retry")
    assert response.status_code == 302
    pending.refresh_from_db()
    assert (pending.status, pending.attempts) == ("approved", 2)
    assert AuditEvent.objects.filter(
        action="webhooks.github.retry_requested", actor_name=admin.username
    ).exists()
    again = client.post(f"/settings/github/deliveries/{pending.delivery_id}/retry", follow=True)
    assert "already answered" in again.content.decode()
    requester = make_user(Role.REQUESTER)
    client.force_login(requester)
    assert client.get("/settings/github/deliveries/").status_code == 403


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
    for kind in ("deployment", "deployment_status", "deployment_review"):
        response = post({**event(fake_github), "action": "created"}, kind=kind)
        assert response.status_code == 202 and response.json()["ignored"] is True, kind
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
