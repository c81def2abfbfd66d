"""RFC 3161 time-stamps for checkpoints, from a configured time-stamping authority (TSA).

The request and the response are built and checked by ``rfc3161-client``; the call goes
through the one guarded outbound client. The whole TimeStampResp (DER, what ``openssl ts
-reply`` writes as a .tsr) is stored: the standalone verifier and ``openssl ts -verify`` both
check it against the TSA's CA certificate.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import rfc3161_client
from cryptography import x509
from django.conf import settings

from governance.core.outbound import OutboundError, outbound_request

TSA_TIMEOUT_SECONDS = 10.0


class TimestampError(RuntimeError):
    """The authority could not be reached, refused, or answered with a token that fails."""


@dataclass(frozen=True)
class Timestamp:
    token: bytes
    gen_time: datetime


def _ca_certificates() -> list[x509.Certificate]:
    path = settings.AUDIT_TSA_CA_FILE
    if not path:
        return []
    try:
        return x509.load_pem_x509_certificates(Path(path).read_bytes())
    except (OSError, ValueError) as exc:
        raise TimestampError(f"AUDIT_TSA_CA_FILE {path}: {exc}") from None


def timestamp_request(data: bytes, *, url: str) -> Timestamp:
    """Ask the TSA to time-stamp SHA-256(data); verify the answer before keeping it."""
    request = (
        rfc3161_client.TimestampRequestBuilder(data=data)
        .nonce(nonce=True)
        .cert_request(cert_request=True)
        .build()
    )
    try:
        response = outbound_request(
            "POST",
            url,
            headers={"Content-Type": "application/timestamp-query"},
            body=request.as_bytes(),
            timeout=TSA_TIMEOUT_SECONDS,
        )
    except OutboundError as exc:
        raise TimestampError(f"time-stamping authority unreachable: {exc}") from None
    if response.status != 200:
        raise TimestampError(f"time-stamping authority answered HTTP {response.status}")
    try:
        decoded = rfc3161_client.decode_timestamp_response(response.body)
    except ValueError as exc:
        raise TimestampError(f"not a time-stamp response: {exc}") from None
    if decoded.status != rfc3161_client.PKIStatus.GRANTED:
        raise TimestampError(f"time-stamp refused (PKI status {decoded.status})")
    if decoded.tst_info.nonce != request.nonce:
        raise TimestampError("time-stamp answers another request (nonce differs)")
    verify_token(decoded, data)
    return Timestamp(response.body, decoded.tst_info.gen_time)


def verify_token(response: "rfc3161_client.TimeStampResponse", data: bytes) -> None:
    """The token covers ``data`` and, with a CA configured, chains to it."""
    roots = _ca_certificates()
    if not roots:
        if response.tst_info.message_imprint.message != hashlib.sha256(data).digest():
            raise TimestampError("time-stamp covers other data")
        return
    builder = rfc3161_client.VerifierBuilder()
    for root in roots:
        builder = builder.add_root_certificate(root)
    try:
        builder.build().verify_message(response, data)
    except rfc3161_client.VerificationError as exc:
        raise TimestampError(f"time-stamp does not verify: {exc}") from None


def timestamp_check(token: bytes, data: bytes) -> datetime:
    """Verify a stored TimeStampResp over ``data`` (against AUDIT_TSA_CA_FILE when set);
    returns the time it states."""
    try:
        decoded = rfc3161_client.decode_timestamp_response(token)
    except ValueError as exc:
        raise TimestampError(f"not a time-stamp response: {exc}") from None
    if decoded.status != rfc3161_client.PKIStatus.GRANTED:
        raise TimestampError(f"time-stamp refused (PKI status {decoded.status})")
    verify_token(decoded, data)
    return decoded.tst_info.gen_time
