"""The one guarded outbound HTTP client: internal targets refused (at save and at send time),
the checked address pinned, redirects never followed, errors that do not map ports."""

import socket
import threading

import pytest
from django.core.exceptions import ValidationError

from governance.core.actor import Actor
from governance.core.outbound import (
    GENERIC_FAILURE,
    OutboundError,
    OutboundRefused,
    outbound_request,
    outbound_validate_url,
)
from governance.webhooks.models import OutboundDelivery
from governance.webhooks.outbound import outbound_delivery_attempt, webhook_subscription_create
from tests.http_peer import Recorder

LOOPBACK = ["127.0.0.0/8", "::1/128", "localhost"]

INTERNAL = [
    "http://127.0.0.1:5432/",
    "http://127.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://0.0.0.0/",
    "http://localhost:6379/",
    "http://10.0.0.8/",
    "http://192.168.1.1/",
    "http://172.16.0.1/",
    "http://100.100.100.200/",
    "http://[fd00:ec2::254]/",
    "http://224.0.0.1/",
]


@pytest.fixture
def production_default(settings: pytest.FixtureRequest) -> None:
    settings.OUTBOUND_ALLOWED_NETWORKS = []


@pytest.mark.parametrize("url", INTERNAL)
def test_internal_targets_are_refused_by_default(production_default: None, url: str) -> None:
    with pytest.raises(OutboundRefused, match="internal address"):
        outbound_validate_url(url)
    with pytest.raises(OutboundRefused):
        outbound_request("GET", url)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://user:pw@example.com/hook", "credentials"),
        ("https://token@example.com/hook", "credentials"),
        ("ftp://example.com/file", "only http"),
        ("file:///etc/passwd", "only http"),
        ("gopher://127.0.0.1:6379/_INFO", "only http"),
        ("http:///nohost", "no host"),
        ("http://example.com:99999/", "malformed"),
        ("", "http"),
    ],
)
def test_malformed_and_credentialed_urls_are_refused(url: str, reason: str) -> None:
    with pytest.raises(OutboundRefused, match=reason):
        outbound_validate_url(url)


def test_a_name_that_does_not_resolve_is_saved_but_never_called() -> None:
    assert outbound_validate_url("https://hooks.invalid/x") == "https://hooks.invalid/x"
    with pytest.raises(OutboundRefused, match="does not resolve"):
        outbound_request("POST", "https://hooks.invalid/x", body=b"{}")


def test_metadata_stays_refused_under_a_broad_allowlist(settings: pytest.FixtureRequest) -> None:
    settings.OUTBOUND_ALLOWED_NETWORKS = ["0.0.0.0/0", "169.254.0.0/16"]
    outbound_validate_url("http://169.254.10.10/")  # the network is listed on purpose
    with pytest.raises(OutboundRefused):
        outbound_validate_url("http://169.254.169.254/")
    settings.OUTBOUND_ALLOWED_NETWORKS = ["169.254.169.254"]
    assert outbound_validate_url("http://169.254.169.254/") == "http://169.254.169.254/"


def test_an_allowlisted_target_is_called(settings: pytest.FixtureRequest, receiver: str) -> None:
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    response = outbound_request("POST", f"{receiver}/hook", json={"a": 1})
    assert (response.status, response.ok, response.json()) == (200, True, {"ok": True})
    assert Recorder.hits == [("POST", "/hook", receiver.removeprefix("http://"))]


def test_the_checked_address_is_pinned(
    settings: pytest.FixtureRequest, receiver: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The name is resolved once, checked, and the connection goes to that address with the
    original Host header: a second DNS answer (rebinding) is never asked for."""
    port = int(receiver.rsplit(":", 1)[1])
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    answers = iter(["127.0.0.1", "93.184.215.14"])
    calls: list[str] = []
    real = socket.getaddrinfo

    def fake(host: str, *args: object, **kwargs: object) -> list[tuple]:
        if host != "registry.internal.test":
            return real(host, *args, **kwargs)
        calls.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    response = outbound_request("GET", f"http://registry.internal.test:{port}/models?x=1")
    assert response.status == 200
    assert calls == ["registry.internal.test"]
    assert Recorder.hits == [("GET", "/models?x=1", f"registry.internal.test:{port}")]


def test_redirects_are_returned_not_followed(
    settings: pytest.FixtureRequest, receiver: str
) -> None:
    settings.OUTBOUND_ALLOWED_NETWORKS = LOOPBACK
    response = outbound_request("POST", f"{receiver}/redirect", body=b"signed")
    assert response.status == 307
    assert [hit[1] for hit in Recorder.hits] == ["/redirect"]


def test_closed_and_silent_ports_fail_with_the_same_words(settings: pytest.FixtureRequest) -> None:
    settings.OUTBOUND_ALLOWED_NETWORKS = LOOPBACK
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()
    hangup = socket.socket()
    hangup.bind(("127.0.0.1", 0))
    hangup.listen(1)

    def accept_and_drop() -> None:
        connection, _ = hangup.accept()
        connection.close()

    threading.Thread(target=accept_and_drop, daemon=True).start()
    messages = []
    for port in (closed_port, hangup.getsockname()[1]):
        with pytest.raises(OutboundError) as caught:
            outbound_request("GET", f"http://127.0.0.1:{port}/", timeout=2)
        messages.append(str(caught.value))
    hangup.close()
    assert messages == [GENERIC_FAILURE, GENERIC_FAILURE]


def test_an_answer_over_the_cap_is_an_error(settings: pytest.FixtureRequest, receiver: str) -> None:
    settings.OUTBOUND_ALLOWED_NETWORKS = LOOPBACK
    with pytest.raises(OutboundError, match="larger than 4 bytes"):
        outbound_request("GET", f"{receiver}/", max_response_bytes=4)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:5432/", "http://169.254.169.254/", "http://[::1]/"]
)
def test_subscriptions_to_internal_urls_are_refused_at_save(
    production_default: None, system_actor: Actor, url: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        webhook_subscription_create(
            actor=system_actor, name="ops", url=url, events=["release.approved"]
        )
    assert "internal address" in str(caught.value.message_dict["url"])


@pytest.mark.django_db
def test_a_delivery_is_checked_again_at_send_time(
    settings: pytest.FixtureRequest, system_actor: Actor, receiver: str
) -> None:
    """Saved while the target was allowed; the allowlist changed since: nothing is sent."""
    from governance.webhooks.models import WebhookSubscription

    settings.OUTBOUND_ALLOWED_NETWORKS = LOOPBACK
    subscription = webhook_subscription_create(
        actor=system_actor, name="ops", url=f"{receiver}/hook", events=["release.approved"]
    )
    delivery = OutboundDelivery.objects.create(
        subscription=subscription,
        event="release.approved",
        message_id="msg_check_again",
        payload={"type": "release.approved", "data": {}},
    )
    settings.OUTBOUND_ALLOWED_NETWORKS = []
    outcome = outbound_delivery_attempt(delivery_pk=delivery.pk, force=True)
    assert not outcome.delivered
    assert Recorder.hits == []
    delivery.refresh_from_db()
    assert "internal address" in delivery.last_error
    assert WebhookSubscription.objects.count() == 1
