"""examples/killswitch_client.py against a live server: it follows flips and falls back to the
safe state when stale."""

import importlib.util
import time
from pathlib import Path

import pytest

from governance.accounts.permissions import Perm
from governance.core.actor import Actor
from governance.incidents.services import kill_switch_engage, kill_switch_release
from tests.incidents.sse import wait_for_streams_to_end

pytestmark = pytest.mark.django_db(transaction=True)
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "killswitch_client.py"


def load_client_class():
    spec = importlib.util.spec_from_file_location("killswitch_client", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.KillSwitchClient


def wait_for(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


class FakeClock:
    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.offset


def test_the_client_follows_flips_and_falls_back_to_safe_states(
    live_server, make_token, make_switch, settings
):
    settings.KILL_SWITCH_STREAM_HEARTBEAT_SECONDS = 1
    settings.KILL_SWITCH_STREAM_MAX_SECONDS = 3  # forces a reconnect with Last-Event-ID
    settings.KILL_SWITCH_STREAM_POLL_SECONDS = 0.2
    fail_closed = make_switch("copilot-all")
    fail_open = make_switch(
        "copilot-retriever", scope="feature", feature="retriever", safe_state="released"
    )
    _, secret = make_token([Perm.KILLSWITCHES_READ])
    clock = FakeClock()
    client = load_client_class()(
        live_server.url, token=secret, system="support-copilot", stale_after=5, clock=clock
    ).start()
    try:
        wait_for(lambda: "copilot-all" in client.switches)
        assert client.state("copilot-all") == "released"
        assert client.state("never-heard-of") == "engaged"  # unknown: fail closed
        kill_switch_engage(actor=Actor.system("tests"), switch=fail_closed, reason="leak")
        wait_for(lambda: client.is_engaged("copilot-all"))
        time.sleep(3.5)  # the server ends the stream; the client resumes from its last id
        kill_switch_release(actor=Actor.system("tests"), switch=fail_closed, reason="fixed")
        kill_switch_engage(actor=Actor.system("tests"), switch=fail_open, reason="poisoned")
        wait_for(lambda: client.is_engaged("copilot-retriever"))
        wait_for(lambda: not client.is_engaged("copilot-all"))
        # Server unreachable for longer than stale_after: each switch's safe state.
        client.stop()
        clock.offset = 60
        assert client.state("copilot-all") == "engaged"
        assert client.state("copilot-retriever") == "released"
    finally:
        client.stop()
        wait_for_streams_to_end()
