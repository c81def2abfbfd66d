"""The SDK (clients/python, installed as governance-sdk) against the live test server: it loads
the OFREP bulk payload, follows the event stream and answers safe values when stale."""

import time

import pytest
from governance_sdk import GovernanceProvider

from governance.accounts.permissions import Perm
from governance.core.actor import Actor
from governance.runtime.control_services import runtime_control_set
from governance.runtime.services import kill_switch_engage
from tests.runtime.sse import wait_for_streams_to_end

pytestmark = pytest.mark.django_db(transaction=True)


def wait_for(condition, timeout: float = 5.0) -> float:
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < timeout, "condition not met in time"
        time.sleep(0.01)
    return time.monotonic() - started


@pytest.fixture
def provider(live_server, make_token, settings):
    settings.KILL_SWITCH_STREAM_HEARTBEAT_SECONDS = 1
    settings.KILL_SWITCH_STREAM_POLL_SECONDS = 0.2
    settings.KILL_SWITCH_STREAM_MAX_SECONDS = 3  # forces a reconnect with Last-Event-ID
    _, secret = make_token([Perm.KILLSWITCHES_READ], name="copilot-service")
    made = []

    def make(**kwargs):
        p = GovernanceProvider(live_server.url, token=secret, system="support-copilot", **kwargs)
        made.append(p.start())
        return p

    yield make
    for p in made:
        p.shutdown()
    wait_for_streams_to_end()


def test_flips_and_control_changes_reach_the_sdk_within_a_second(
    provider, switch, make_control, prompts
):
    control = make_control()
    sdk = provider(stale_after=10)
    assert sdk.connected.wait(5)
    assert not sdk.is_engaged(switch.key)
    assert sdk.value("copilot-prompt") == "refunds-v7"
    kill_switch_engage(actor=Actor.system("tests"), switch=switch, reason="leak")
    assert wait_for(lambda: sdk.is_engaged(switch.key)) < 1.0
    runtime_control_set(
        actor=Actor.system("tests"), control=control, value="refunds-v6", reason="r"
    )
    assert wait_for(lambda: sdk.value("copilot-prompt") == "refunds-v6") < 1.0
    # The stream ends after 3 s; the SDK resumes with Last-Event-ID and misses nothing.
    time.sleep(3.5)
    restored = runtime_control_set(
        actor=Actor.system("tests"), control=control, value="refunds-v7", reason="fixed"
    )
    assert restored.version == 3
    wait_for(lambda: sdk.value("copilot-prompt") == "refunds-v7")
    assert not sdk.is_stale()


def test_the_sdk_answers_safe_values_when_the_server_goes_quiet(provider, switch):
    class Clock:
        offset = 0.0

        def __call__(self) -> float:
            return time.monotonic() + self.offset

    clock = Clock()
    sdk = provider(stale_after=30, clock=clock)
    assert not sdk.is_engaged(switch.key)
    sdk.shutdown()  # the stream stops: nothing more is heard
    clock.offset = 31  # for longer than stale_after
    assert sdk.is_engaged(switch.key)  # safe state engaged: fail closed
