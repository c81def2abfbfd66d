"""The Server-Sent Events stream on a real server: flips arrive, resume works, Redis may be down."""

import json
import queue
import time
import urllib.request

import jsonschema
import pytest

from governance.accounts.permissions import Perm
from governance.core.actor import Actor
from governance.runtime.control_services import runtime_control_set
from governance.runtime.models import KillSwitch, KillSwitchEvent
from governance.runtime.services import kill_switch_engage, kill_switch_release
from governance.runtime.streaming import publish_flip
from tests.runtime.sse import SSEReader, wait_for_streams_to_end

pytestmark = pytest.mark.django_db(transaction=True)
CLOSED_PORT = "redis://127.0.0.1:1/0"


@pytest.fixture(autouse=True)
def _short_streams(settings):
    settings.KILL_SWITCH_STREAM_MAX_SECONDS = 20
    settings.KILL_SWITCH_STREAM_HEARTBEAT_SECONDS = 1
    settings.KILL_SWITCH_STREAM_POLL_SECONDS = 0.2


@pytest.fixture
def token(make_token) -> str:
    return make_token([Perm.KILLSWITCHES_READ], name="support-copilot-service")[1]


@pytest.fixture
def stream(live_server, token):
    readers = []

    def open_(**kwargs):
        reader = SSEReader(live_server.url, token, **kwargs)
        readers.append(reader)
        return reader

    yield open_
    for reader in readers:
        reader.close()
    wait_for_streams_to_end()


def engage(switch: KillSwitch, reason: str = "leak") -> KillSwitch:
    return kill_switch_engage(actor=Actor.system("tests"), switch=switch, reason=reason)


def test_a_client_on_the_stream_sees_a_flip_within_a_second(stream, switch):
    reader = stream()
    assert reader.response.status == 200
    assert reader.response.getheader("Content-Type") == "text/event-stream"
    snapshot = reader.next(kind="snapshot")
    assert [s["key"] for s in snapshot["data"]] == [switch.key]
    assert snapshot["data"][0]["state"] == "released"
    started = time.monotonic()
    engage(switch)
    flip = reader.next(kind="flip")
    assert flip["received_at"] - started < 1.0
    assert flip["data"]["key"] == switch.key
    assert flip["data"]["state"] == "engaged"
    assert int(flip["id"]) == KillSwitchEvent.objects.get().pk


def test_a_client_resumes_with_last_event_id_and_misses_nothing(stream, switch, make_switch):
    other = make_switch("refund-tool", scope="feature", feature="refund_lookup")
    engage(switch)
    first_id = KillSwitchEvent.objects.get().pk
    kill_switch_release(actor=Actor.system("tests"), switch=switch, reason="fixed")
    engage(other, "abuse")
    reader = stream(last_event_id=first_id)
    replayed = [reader.next(kind="flip"), reader.next(kind="flip")]
    assert [(e["data"]["key"], e["data"]["state"]) for e in replayed] == [
        (switch.key, "released"),
        ("refund-tool", "engaged"),
    ]
    assert [int(e["id"]) for e in replayed] == sorted(int(e["id"]) for e in replayed)
    assert all(int(e["id"]) > first_id for e in replayed)


def test_the_stream_filters_by_system_and_key(stream, switch, make_switch):
    other = make_switch("refund-tool", scope="feature", feature="refund_lookup")
    reader = stream(query="?key=refund-tool")
    assert [s["key"] for s in reader.next(kind="snapshot")["data"]] == ["refund-tool"]
    engage(switch)
    engage(other)
    assert reader.next(kind="flip")["data"]["key"] == "refund-tool"
    with pytest.raises(queue.Empty):
        reader.next(timeout=0.6, kind="flip")


def test_with_redis_down_flips_succeed_and_still_reach_the_stream(
    stream, switch, settings, live_server, token
):
    settings.KILL_SWITCH_PUBSUB_URL = CLOSED_PORT
    assert publish_flip(event_id=1, system_slug="x") is False  # logged, never raised
    reader = stream()
    reader.next(kind="snapshot")
    engage(switch)  # the on-commit publish fails against the closed port
    assert KillSwitch.objects.get().state == "engaged"
    flip = reader.next(timeout=5, kind="flip")
    assert flip["data"]["state"] == "engaged"
    # Reads come from the database.
    request = urllib.request.Request(  # noqa: S310 - the live server's http URL
        f"{live_server.url}/api/v1/kill-switches/{switch.key}",
        headers={"Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
        assert json.loads(response.read())["state"] == "engaged"


def test_a_stream_that_lost_redis_gets_flips_once_it_is_back(stream, switch, settings):
    real = settings.KILL_SWITCH_PUBSUB_URL
    settings.KILL_SWITCH_PUBSUB_URL = CLOSED_PORT
    reader = stream()  # subscribes to nothing: Redis is "down"
    reader.next(kind="snapshot")
    settings.KILL_SWITCH_PUBSUB_URL = real  # Redis is back (or absent: embedded defaults)
    engage(switch)
    assert reader.next(timeout=5, kind="flip")["data"]["state"] == "engaged"
    kill_switch_release(actor=Actor.system("tests"), switch=switch, reason="ok")
    assert reader.next(timeout=5, kind="flip")["data"]["state"] == "released"


def test_the_stream_sends_heartbeats_a_retry_hint_and_ends(stream, switch, settings):
    settings.KILL_SWITCH_STREAM_MAX_SECONDS = 2
    reader = stream()
    assert reader.ended.wait(10)
    assert reader.comments >= 1
    assert reader.events.qsize() >= 1


def test_the_stream_needs_a_token_with_the_read_scope(live_server, make_token):
    url = f"{live_server.url}/api/v1/kill-switches/stream"
    request = urllib.request.Request(url)  # noqa: S310
    with pytest.raises(urllib.error.HTTPError) as anonymous:
        urllib.request.urlopen(request, timeout=5)  # noqa: S310
    assert anonymous.value.code == 401
    assert anonymous.value.headers["WWW-Authenticate"].startswith("Bearer")
    _, secret = make_token([Perm.INVENTORY_VIEW])
    request.add_header("Authorization", f"Bearer {secret}")
    with pytest.raises(urllib.error.HTTPError) as wrong_scope:
        urllib.request.urlopen(request, timeout=5)  # noqa: S310
    assert wrong_scope.value.code == 403
    assert json.loads(wrong_scope.value.read())["status"] == 403
    bad = urllib.request.Request(url, headers={"Authorization": "Bearer gov_nope"})  # noqa: S310
    with pytest.raises(urllib.error.HTTPError) as invalid:
        urllib.request.urlopen(bad, timeout=5)  # noqa: S310
    assert invalid.value.code == 401


@pytest.mark.integration
def test_flips_fan_out_through_redis_pubsub_not_the_poll(stream, switch, settings):
    """With Redis, a flip reaches a stream long before its database poll would."""
    assert settings.KILL_SWITCH_PUBSUB_URL.startswith("redis://")
    settings.KILL_SWITCH_STREAM_POLL_SECONDS = 30
    settings.KILL_SWITCH_STREAM_HEARTBEAT_SECONDS = 1
    reader = stream()
    reader.next(kind="snapshot")
    time.sleep(0.3)  # the stream is now waiting on Redis for up to 30 s
    started = time.monotonic()
    engage(switch)
    flip = reader.next(timeout=5, kind="flip")
    assert flip["received_at"] - started < 0.5


def test_every_event_on_the_stream_matches_the_published_openapi(
    stream, switch, live_server, prompts, make_control
):
    """schemathesis validates each parsed event against the documented per-event schema."""
    control = make_control()
    url = f"{live_server.url}/api/schema/?format=json"
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310
        schema = json.load(response)
    content = schema["paths"]["/api/v1/kill-switches/{key}"]["get"]["responses"]["200"]["content"]
    event_schema = content["text/event-stream"]["schema"]
    reader = stream()
    events = [reader.next(kind="snapshot")]
    engage(switch)
    events.append(reader.next(kind="flip"))
    runtime_control_set(
        actor=Actor.system("tests"), control=control, value="refunds-v6", reason="v7 leaks"
    )
    events.append(reader.next(kind="control"))
    assert [e["event"] for e in events] == ["snapshot", "flip", "control"]
    for event in events:
        parsed = {k: v for k, v in event.items() if k != "received_at"}
        jsonschema.validate({**parsed, "data": json.dumps(parsed["data"])}, event_schema)
