"""The official OpenFeature Python SDK with the official OFREP provider (openfeature-sdk,
openfeature-provider-ofrep) against the live test server."""

import socket

import pytest
from openfeature import api as openfeature
from openfeature.contrib.provider.ofrep import OFREPProvider
from openfeature.evaluation_context import EvaluationContext
from openfeature.exception import ErrorCode
from openfeature.flag_evaluation import Reason

from governance.accounts.permissions import Perm
from governance.core.actor import Actor
from governance.runtime.control_services import runtime_control_set
from governance.runtime.services import kill_switch_engage, kill_switch_release

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def client_for_server(make_token):
    _, secret = make_token([Perm.KILLSWITCHES_READ], name="copilot-service")

    def make(url: str):
        provider = OFREPProvider(
            url, headers_factory=lambda: {"Authorization": f"Bearer {secret}"}, timeout=2
        )
        openfeature.set_provider_and_wait(provider, domain=url)
        return openfeature.get_client(domain=url)

    yield make
    openfeature.clear_providers()


def test_a_flip_is_seen_by_the_next_evaluation(live_server, client_for_server, switch):
    client = client_for_server(live_server.url)
    context = EvaluationContext(attributes={"system": "support-copilot"})
    details = client.get_boolean_details(switch.key, True, context)
    assert (details.value, details.reason, details.variant) == (False, Reason.STATIC, "released")
    kill_switch_engage(actor=Actor.system("tests"), switch=switch, reason="leak")
    assert client.get_boolean_value(switch.key, False, context) is True
    kill_switch_release(actor=Actor.system("tests"), switch=switch, reason="fixed")
    assert client.get_boolean_value(switch.key, True, context) is False


def test_a_prompt_revert_is_seen_by_the_next_string_evaluation(
    live_server, client_for_server, make_control, prompts
):
    control = make_control()
    client = client_for_server(live_server.url)
    assert client.get_string_value("copilot-prompt", "refunds-v6") == "refunds-v7"
    runtime_control_set(
        actor=Actor.system("tests"), control=control, value="refunds-v6", reason="r"
    )
    assert client.get_string_value("copilot-prompt", "refunds-v7") == "refunds-v6"


def test_unknown_keys_and_wrong_types_answer_the_default_with_the_error(
    live_server, client_for_server, switch
):
    client = client_for_server(live_server.url)
    missing = client.get_boolean_details("no-such-flag", True)
    assert (missing.value, missing.error_code) == (True, ErrorCode.FLAG_NOT_FOUND)
    wrong = client.get_string_details(switch.key, "fallback")
    assert (wrong.value, wrong.error_code) == ("fallback", ErrorCode.TYPE_MISMATCH)


def test_the_safe_value_when_the_server_is_gone(client_for_server, switch):
    # A port nothing listens on: what a service sees when we are down. Its default is the
    # switch's safe value (engaged = fail closed), which the provider answers with the error.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = client_for_server(f"http://127.0.0.1:{port}")
    details = client.get_boolean_details(switch.key, switch.safe_state == "engaged")
    assert details.value is True
    assert details.error_code == ErrorCode.GENERAL
    assert details.reason == Reason.ERROR
