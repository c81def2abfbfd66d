"""Signature checks against the published vectors (../shared/samples/signatures)."""

import pytest

from governance.webhooks.signatures import (
    SignatureInvalid,
    github_signature_valid,
    standard_webhooks_sign,
    standard_webhooks_verify,
)
from tests.webhooks.conftest import sample

pytestmark = pytest.mark.needs_shared

GITHUB = sample("signatures/github.x-hub-signature-256.vectors.json")["vectors"][0]
STANDARD = {v["name"]: v for v in sample("signatures/standard-webhooks.v1.vectors.json")["vectors"]}
KNOWN = STANDARD["sign-function-known-answer"]


def test_github_documented_vector():
    body = GITHUB["payload"].encode()
    header = GITHUB["expected_header"]["X-Hub-Signature-256"]
    assert header == "sha256=" + GITHUB["expected_signature_hex"]
    assert github_signature_valid(GITHUB["secret"], body, header)


@pytest.mark.parametrize(
    ("secret", "body", "header"),
    [
        ("It's a Secret to Everybody", b"Hello, World?", None),  # missing
        ("It's a Secret to Everybody", b"Hello, World!", ""),
        ("It's a Secret to Everybody", b"Hello, World!!", "use the vector"),  # body changed
        ("another secret", b"Hello, World!", "use the vector"),
        ("", b"Hello, World!", "use the vector"),  # no secret configured: never valid
        ("It's a Secret to Everybody", b"Hello, World!", "sha1=757107ea0eb2509fc2"),
    ],
)
def test_github_signature_refused(secret, body, header):
    if header == "use the vector":
        header = GITHUB["expected_header"]["X-Hub-Signature-256"]
    assert not github_signature_valid(secret, body, header)


def known_headers(**changes):
    return {**KNOWN["expected_headers"], **changes}


def test_standard_webhooks_known_answer():
    signature = standard_webhooks_sign(
        KNOWN["secret"], KNOWN["msg_id"], KNOWN["timestamp"], KNOWN["payload"].encode()
    )
    assert signature == KNOWN["expected_signature"]
    standard_webhooks_verify(
        KNOWN["secret"], known_headers(), KNOWN["payload"].encode(), now=KNOWN["timestamp"] + 10
    )


def test_standard_webhooks_invalid_signature():
    bad = STANDARD["invalid-signature-python-test"]
    with pytest.raises(SignatureInvalid, match="No v1 signature"):
        standard_webhooks_verify(
            bad["secret"],
            known_headers(**{"webhook-signature": bad["presented_signature"]}),
            bad["payload"].encode(),
            now=bad["timestamp"],
        )


def test_standard_webhooks_any_v1_signature_may_match_and_others_are_ignored():
    shape = STANDARD["multi-signature-header-shape"]
    elements = shape["webhook_signature_header_elements_from_tests"]
    header = " ".join(KNOWN["expected_signature"] if e.startswith("<") else e for e in elements)
    standard_webhooks_verify(
        KNOWN["secret"],
        known_headers(**{"webhook-signature": header}),
        KNOWN["payload"].encode(),
        now=KNOWN["timestamp"],
    )
    without_ours = " ".join(e for e in elements if not e.startswith("<"))
    with pytest.raises(SignatureInvalid):
        standard_webhooks_verify(
            KNOWN["secret"],
            known_headers(**{"webhook-signature": without_ours}),
            KNOWN["payload"].encode(),
            now=KNOWN["timestamp"],
        )


def test_standard_webhooks_clock_tolerance():
    body = KNOWN["payload"].encode()
    with pytest.raises(SignatureInvalid, match="too old"):
        standard_webhooks_verify(KNOWN["secret"], known_headers(), body)  # today's clock
    with pytest.raises(SignatureInvalid, match="too old"):
        standard_webhooks_verify(
            KNOWN["secret"], known_headers(), body, now=KNOWN["timestamp"] + 301
        )
    with pytest.raises(SignatureInvalid, match="future"):
        standard_webhooks_verify(
            KNOWN["secret"], known_headers(), body, now=KNOWN["timestamp"] - 301
        )
    with pytest.raises(SignatureInvalid, match="integer"):
        standard_webhooks_verify(
            KNOWN["secret"], known_headers(**{"webhook-timestamp": "soon"}), body
        )


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_standard_webhooks_missing_header(missing):
    headers = {k: v for k, v in known_headers().items() if k != missing}
    with pytest.raises(SignatureInvalid, match=missing):
        standard_webhooks_verify(
            KNOWN["secret"], headers, KNOWN["payload"].encode(), now=KNOWN["timestamp"]
        )


def test_standard_webhooks_tampered_id_or_body():
    body = KNOWN["payload"].encode()
    with pytest.raises(SignatureInvalid):
        standard_webhooks_verify(
            KNOWN["secret"],
            known_headers(**{"webhook-id": "msg_other"}),
            body,
            now=KNOWN["timestamp"],
        )
    with pytest.raises(SignatureInvalid):
        standard_webhooks_verify(
            KNOWN["secret"], known_headers(), body + b" ", now=KNOWN["timestamp"]
        )


EMPTY_SECRETS = STANDARD["empty-secret-rejected"]["secrets_that_must_be_rejected"]


@pytest.mark.parametrize("secret", EMPTY_SECRETS)
def test_standard_webhooks_empty_secret_rejected(secret):
    with pytest.raises(SignatureInvalid):
        standard_webhooks_verify(
            secret, known_headers(), KNOWN["payload"].encode(), now=KNOWN["timestamp"]
        )
    with pytest.raises(SignatureInvalid):
        standard_webhooks_sign(secret, "msg", 1, b"{}")


@pytest.mark.parametrize("secret", STANDARD["unpadded-secret-accepted"]["secrets"])
def test_standard_webhooks_unpadded_secret_accepted(secret):
    body = b'{"test": 2432232314}'
    signature = standard_webhooks_sign(secret, "msg_unpadded", 1700000000, body)
    headers = {
        "Webhook-Id": "msg_unpadded",  # header names are case-insensitive
        "Webhook-Timestamp": "1700000000",
        "Webhook-Signature": signature,
    }
    standard_webhooks_verify(secret, headers, body, now=1700000000)
