"""The event stream under a real ASGI server (uvicorn, as gunicorn's uvicorn workers run it): a
stream is a coroutine fed by one hub per process; caps per token and per user answer 429; a
client that goes away frees its slot; a database outage ends streams cleanly, logged once."""

import logging
import queue
import socket
import threading
import time

import pytest
import uvicorn
from django.core.asgi import get_asgi_application
from django.db import OperationalError

from governance.accounts.permissions import Perm
from governance.core.actor import Actor
from governance.runtime import async_streams
from governance.runtime.services import kill_switch_engage, kill_switch_release
from tests.runtime.sse import SSEReader

pytestmark = pytest.mark.django_db(transaction=True)


def free_port() -> int:
    # PORTS 8150-8159 are this branch's; take the first free one.
    for port in range(8150, 8160):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise RuntimeError("no free port in 8150-8159")


@pytest.fixture
def asgi_url(settings):
    settings.KILL_SWITCH_STREAM_HEARTBEAT_SECONDS = 1
    settings.KILL_SWITCH_STREAM_POLL_SECONDS = 0.2
    settings.KILL_SWITCH_STREAM_MAX_SECONDS = 20
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            get_asgi_application(), host="127.0.0.1", port=port, lifespan="off", log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def token(make_token) -> str:
    return make_token([Perm.KILLSWITCHES_READ], name="copilot-service")[1]


def wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def test_a_flip_reaches_an_asgi_stream_within_a_second(asgi_url, token, switch):
    reader = SSEReader(asgi_url, token)
    try:
        assert reader.response.status == 200
        snapshot = reader.next(kind="snapshot")
        assert [s["key"] for s in snapshot["data"]] == [switch.key]
        started = time.monotonic()
        kill_switch_engage(actor=Actor.system("tests"), switch=switch, reason="leak")
        flip = reader.next(kind="flip")
        assert time.monotonic() - started < 1.0
        assert flip["data"]["state"] == "engaged"
        assert reader.next(timeout=3)  # a heartbeat comment or the next event keeps coming
    finally:
        reader.close()


def test_a_flip_committed_while_the_hub_starts_is_not_skipped(asgi_url, token, switch, monkeypatch):
    """The hub's first read of the latest id can finish after a stream has sent its snapshot
    and a flip has committed: the stream's floor must win, or that flip is never sent."""
    latest = async_streams._latest_id

    def late_latest() -> int:
        wait_for(lambda: async_streams.hub.last_id is not None)  # the stream's floor is set
        kill_switch_engage(actor=Actor.system("tests"), switch=switch, reason="while starting")
        return latest()

    monkeypatch.setattr(async_streams, "_latest_id", late_latest)
    reader = SSEReader(asgi_url, token)
    try:
        reader.next(kind="snapshot")
        assert reader.next(kind="flip")["data"]["state"] == "engaged"
    finally:
        reader.close()


def test_streams_are_capped_per_token_and_a_closed_one_frees_its_slot(
    asgi_url, token, switch, settings
):
    settings.KILL_SWITCH_STREAMS_PER_TOKEN = 2
    first, second = SSEReader(asgi_url, token), SSEReader(asgi_url, token)
    try:
        assert first.response.status == second.response.status == 200
        third = SSEReader(asgi_url, token)
        assert third.response.status == 429
        assert third.response.getheader("Retry-After") == "1"
        assert third.response.getheader("Content-Type") == "application/problem+json"
        third.close()
        first.close()  # a client that goes away: the server notices and gives the slot back
        wait_for(lambda: len(async_streams.hub.streams) == 1)
        fourth = SSEReader(asgi_url, token)
        assert fourth.response.status == 200
        fourth.close()
    finally:
        first.close()
        second.close()
    wait_for(lambda: not async_streams.hub.streams)


def test_streams_are_capped_per_user(asgi_url, make_user, settings, client):
    settings.KILL_SWITCH_STREAMS_PER_USER = 1
    user = make_user("incident_commander", username="ines")
    client.force_login(user)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    import http.client

    connections = []
    statuses = []
    for _ in range(2):
        conn = http.client.HTTPConnection("127.0.0.1", int(asgi_url.rsplit(":", 1)[1]), timeout=5)
        conn.request("GET", "/api/v1/kill-switches/stream", headers={"Cookie": cookie})
        statuses.append(conn.getresponse().status)
        connections.append(conn)
    for conn in connections:
        conn.close()
    assert statuses == [200, 429]


def test_a_database_outage_ends_every_stream_cleanly_with_one_log_line(
    asgi_url, token, switch, monkeypatch, caplog
):
    # Connection: close, so the end of the response is the end of the socket (no chunk parsing).
    readers = [SSEReader(asgi_url, token, headers={"Connection": "close"}) for _ in range(3)]
    try:
        for reader in readers:
            reader.next(kind="snapshot")

        def database_gone(after_id: int):
            raise OperationalError("server closed the connection unexpectedly")

        with caplog.at_level(logging.WARNING, logger="governance.runtime.async_streams"):
            monkeypatch.setattr(async_streams, "_events_after", database_gone)
            for reader in readers:
                assert reader.ended.wait(5), "the stream did not end"
        lines = [r for r in caplog.records if r.name == "governance.runtime.async_streams"]
        assert len(lines) == 1
        assert "database unavailable" in lines[0].getMessage()
        assert lines[0].exc_info is None  # no traceback
    finally:
        for reader in readers:
            reader.close()


def test_a_flip_is_rendered_once_per_process_and_reaches_only_the_streams_in_scope(
    asgi_url, token, switch, make_switch, monkeypatch
):
    other = make_switch(key="support-copilot-refund-tool")
    rendered = []
    real = async_streams.sse_event
    monkeypatch.setattr(
        async_streams, "sse_event", lambda event: rendered.append(event.pk) or real(event)
    )
    mine = [SSEReader(asgi_url, token, query=f"?key={switch.key}") for _ in range(3)]
    theirs = SSEReader(asgi_url, token, query=f"?key={other.key}")
    try:
        for reader in [*mine, theirs]:
            reader.next(kind="snapshot")
        wait_for(lambda: all(s.last_id >= 0 for s in async_streams.hub.streams))
        kill_switch_engage(actor=Actor.system("tests"), switch=switch, reason="leak")
        flips = [reader.next(kind="flip") for reader in mine]
        assert {f["data"]["key"] for f in flips} == {switch.key}
        assert len({f["id"] for f in flips}) == 1
        assert rendered == [int(flips[0]["id"])]  # once, not once per stream
        kill_switch_engage(actor=Actor.system("tests"), switch=other, reason="leak too")
        theirs_flip = theirs.next(kind="flip")  # the first flip never reached this stream
        assert theirs_flip["data"]["key"] == other.key
        for reader in mine:
            with pytest.raises(queue.Empty):
                reader.next(kind="flip", timeout=0.5)
    finally:
        for reader in [*mine, theirs]:
            reader.close()


def test_a_stream_resuming_with_last_event_id_gets_each_missed_flip_once_in_order(
    asgi_url, token, switch
):
    live = SSEReader(asgi_url, token)  # keeps the hub running while the other one is away
    try:
        first_id = int(live.next(kind="snapshot")["id"])
        actor = Actor.system("tests")
        engaged = kill_switch_engage(actor=actor, switch=switch, reason="one")
        live.next(kind="flip")
        resumed = SSEReader(asgi_url, token, last_event_id=first_id)
        try:
            caught_up = resumed.next(kind="flip")
            assert caught_up["data"]["version"] == engaged.version
            released = kill_switch_release(actor=actor, switch=engaged, reason="two")
            after = resumed.next(kind="flip")
            assert after["data"]["version"] == released.version
            assert int(after["id"]) > int(caught_up["id"])
            with pytest.raises(queue.Empty):
                resumed.next(kind="flip", timeout=0.5)  # nothing twice
        finally:
            resumed.close()
    finally:
        live.close()


def test_heartbeats_come_from_the_hub_clock(asgi_url, token, switch):
    reader = SSEReader(asgi_url, token)
    try:
        reader.next(kind="snapshot")
        wait_for(lambda: reader.comments >= 2, timeout=5)  # heartbeat is 1 s here
    finally:
        reader.close()
