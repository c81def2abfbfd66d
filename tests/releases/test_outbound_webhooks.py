"""Outbound webhooks: Standard Webhooks signatures (known answer), retries with exponential
backoff against a local server that fails and then succeeds, manual redelivery."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from governance.core.actor import Actor
from governance.webhooks.models import OutboundDelivery, OutboundStatus, WebhookSubscription
from governance.webhooks.outbound import (
    backoff_seconds,
    outbound_delivery_attempt,
    outbound_delivery_redeliver,
    outbound_event_emit,
    signed_request_parts,
    webhook_subscription_create,
)
from governance.webhooks.signatures import standard_webhooks_sign, standard_webhooks_verify
from tests.conftest import SHARED_DIR

pytestmark = pytest.mark.django_db(transaction=True)
VECTORS = SHARED_DIR / "samples" / "signatures"


@pytest.fixture(autouse=True)
def _send_inline(tasks_in_process):
    """Queued sends (through the outbox) run in this process, with or without a broker."""


@pytest.mark.needs_shared
def test_the_signer_reproduces_the_standard_webhooks_known_answer():
    vectors = json.loads((VECTORS / "standard-webhooks.v1.vectors.json").read_text())["vectors"]
    known = next(v for v in vectors if v["name"] == "sign-function-known-answer")
    signature = standard_webhooks_sign(
        known["secret"], known["msg_id"], known["timestamp"], known["payload"].encode()
    )
    assert signature == known["expected_signature"]


class Flaky:
    """A receiver that answers 503 ``failures`` times, then 200, recording what it got."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.received: list[tuple[dict, bytes]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.received.append((dict(self.headers), body))
                code = 503 if len(outer.received) <= outer.failures else 200
                self.send_response(code)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def flaky():
    server = Flaky(failures=2)
    yield server
    server.close()


def test_a_failing_receiver_is_retried_with_backoff_until_it_succeeds(flaky, settings):
    settings.OUTBOUND_WEBHOOK_BACKOFF_SECONDS = 10
    subscription = webhook_subscription_create(
        actor=Actor.system("tests"), name="ops", url=flaky.url, events=["release.approved"]
    )
    assert subscription.secret.startswith("whsec_")
    from django.db import transaction

    with transaction.atomic():  # queued on commit: the first attempt runs eagerly after it
        (delivery,) = outbound_event_emit(event="release.approved", data={"release": {"id": "x"}})
    delivery.refresh_from_db()
    assert delivery.attempts == 1 and delivery.last_status_code == 503
    assert delivery.status == OutboundStatus.PENDING
    first_wait = (delivery.next_retry_at - delivery.last_attempt_at).total_seconds()
    assert first_wait == pytest.approx(10, abs=1)

    not_due = outbound_delivery_attempt(delivery_pk=delivery.pk)
    assert not_due.status_code is None  # a retry queued before it is due sends nothing

    second = outbound_delivery_attempt(delivery_pk=delivery.pk, force=True)
    assert second.retry_in == backoff_seconds(2) == 20
    third = outbound_delivery_attempt(delivery_pk=delivery.pk, force=True)
    assert third.delivered and third.status_code == 200
    delivery.refresh_from_db()
    assert delivery.status == OutboundStatus.DELIVERED and delivery.attempts == 3
    assert delivery.delivered_at is not None and delivery.next_retry_at is None

    headers, body = flaky.received[-1]
    assert json.loads(body)["type"] == "release.approved"
    assert headers["webhook-id"] == delivery.message_id
    standard_webhooks_verify(subscription.secret, headers, body)  # raises if not ours
    assert len({h["webhook-id"] for h, _ in flaky.received}) == 1  # same id on every retry


def test_gives_up_after_the_maximum_and_redelivers_on_demand(flaky, settings):
    settings.OUTBOUND_WEBHOOK_MAX_ATTEMPTS = 2
    flaky.failures = 3
    webhook_subscription_create(
        actor=Actor.system("tests"), name="ops", url=flaky.url, events=["release.deployed"]
    )
    from django.db import transaction

    with transaction.atomic():
        (delivery,) = outbound_event_emit(event="release.deployed", data={})
    outbound_delivery_attempt(delivery_pk=delivery.pk, force=True)
    delivery.refresh_from_db()
    assert delivery.status == OutboundStatus.FAILED and delivery.attempts == 2
    outbound_delivery_redeliver(actor=Actor.system("tests"), delivery=delivery)
    delivery.refresh_from_db()
    assert delivery.attempts == 1 and delivery.last_status_code == 503  # 3rd failure
    outbound_delivery_attempt(delivery_pk=delivery.pk, force=True)
    delivery.refresh_from_db()
    assert delivery.status == OutboundStatus.DELIVERED


def test_only_subscribed_active_endpoints_get_events():
    WebhookSubscription.objects.create(
        name="a", url="http://127.0.0.1:9/", secret="whsec_AAAA", events=["release.rejected"]
    )
    assert outbound_event_emit(event="release.submitted", data={}) == []
    assert OutboundDelivery.objects.count() == 0


def test_signed_parts_carry_the_standard_headers():
    subscription = WebhookSubscription.objects.create(
        name="a",
        url="http://127.0.0.1:9/",
        secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        events=["release.submitted"],
        active=False,
    )
    delivery = OutboundDelivery(
        message_id="msg_1", subscription=subscription, event="release.submitted", payload={"a": 1}
    )
    body, headers = signed_request_parts(delivery, now=1614265330)
    assert body == b'{"a":1}'
    assert headers["webhook-timestamp"] == "1614265330"
    assert headers["webhook-signature"] == standard_webhooks_sign(
        subscription.secret, "msg_1", 1614265330, body
    )
