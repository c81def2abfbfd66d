"""The provider evaluates in-process, follows the stream, resumes, and answers safe values."""

import time

import pytest
from governance_sdk import GovernanceProvider
from openfeature import api
from openfeature.exception import ErrorCode
from openfeature.flag_evaluation import Reason


def wait_for(condition, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


class Clock:
    def __init__(self):
        self.offset = 0.0

    def __call__(self):
        return time.monotonic() + self.offset


@pytest.fixture
def provider(server):
    made = []

    def make(**kwargs):
        p = GovernanceProvider(server.url, token="secret", system="copilot", **kwargs)
        made.append(p)
        return p

    yield make
    for p in made:
        p.shutdown()
    api.clear_providers()


def switch(version, state):
    return {
        "key": "copilot-refunds",
        "system": "copilot",
        "scope": "feature",
        "state": state,
        "safe_state": "engaged",
        "version": version,
    }


def test_loads_the_bulk_payload_and_evaluates_through_openfeature(server, provider):
    api.set_provider_and_wait(provider(follow=False))
    client = api.get_client()
    details = client.get_boolean_details("copilot-refunds", True)
    assert (details.value, details.reason, details.variant) == (False, Reason.STATIC, "released")
    assert client.get_string_value("copilot-prompt", "x") == "refunds-v7"
    missing = client.get_boolean_details("nope", True)
    assert (missing.value, missing.error_code) == (True, ErrorCode.FLAG_NOT_FOUND)
    wrong = client.get_integer_details("copilot-prompt", 3)
    assert (wrong.value, wrong.error_code) == (3, ErrorCode.TYPE_MISMATCH)


def test_follows_flips_and_ignores_older_versions(server, provider):
    p = provider().start()
    assert p.connected.wait(5)
    server.send(7, "flip", switch(2, "engaged"))
    wait_for(lambda: p.is_engaged("copilot-refunds"))
    server.send(8, "flip", switch(1, "released"))  # a replay of an older version
    server.send(
        9,
        "control",
        {
            "key": "copilot-prompt",
            "system": "copilot",
            "kind": "prompt_version",
            "value": "refunds-v6",
            "safe_value": "refunds-v6",
            "version": 2,
        },
    )
    wait_for(lambda: p.value("copilot-prompt") == "refunds-v6")
    assert p.is_engaged("copilot-refunds")
    assert p.last_event_id == 9


def test_resumes_with_last_event_id_after_the_server_ends_the_stream(server, provider):
    p = provider().start()
    assert p.connected.wait(5)
    server.send(41, "flip", switch(2, "engaged"))
    wait_for(lambda: p.last_event_id == 41)
    server.events.put(None)  # the server ends the stream (as at KILL_SWITCH_STREAM_MAX_SECONDS)
    wait_for(lambda: len(server.stream_headers) == 2)
    resumed = {name.lower(): value for name, value in server.stream_headers[1].items()}
    assert resumed["last-event-id"] == "41"


def test_safe_values_once_nothing_was_heard_for_stale_after(server, provider):
    clock = Clock()
    p = provider(stale_after=5, clock=clock, follow=False)
    api.set_provider_and_wait(p)
    assert p.value("copilot-prompt") == "refunds-v7"
    assert not p.is_engaged("copilot-refunds")
    clock.offset = 6
    assert p.is_stale()
    assert p.is_engaged("copilot-refunds")  # safe state: engaged (fail closed)
    assert p.value("copilot-prompt") == "refunds-v6"
    details = api.get_client().get_string_details("copilot-prompt", "x")
    assert (details.value, details.reason) == ("refunds-v6", Reason.STALE)
    assert p.is_engaged("never-heard-of")


def test_a_server_that_is_gone_from_the_start_means_safe_defaults(provider):
    p = GovernanceProvider("http://127.0.0.1:9", token="secret", follow=False).start()
    assert p.is_engaged("copilot-refunds")  # unknown: fail closed
    assert p.value("copilot-prompt", "refunds-v6") == "refunds-v6"
