"""Signature checks for inbound webhooks.

GitHub signs each delivery with ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>``.
Standard Webhooks (https://www.standardwebhooks.com/) signs ``id.timestamp.body`` with a base64
secret (``whsec_`` prefix optional) and sends ``webhook-id``, ``webhook-timestamp`` and
``webhook-signature: v1,<base64> [v1,<base64> ...]``. Every comparison is constant time.
"""

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Mapping

SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)
DEFAULT_TOLERANCE_SECONDS = 300


class SignatureInvalid(Exception):
    """The message is not signed with our secret, or not recently enough."""


def github_signature_valid(secret: str, body: bytes, header: str | None) -> bool:
    """Whether ``header`` (X-Hub-Signature-256) signs ``body`` with ``secret``."""
    if not secret or not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header.removeprefix("sha256=").strip().lower())


def _secret_key(secret: str) -> bytes:
    raw = (secret or "").strip().removeprefix(SECRET_PREFIX)
    if not raw:
        raise SignatureInvalid("No Standard Webhooks secret is configured.")
    try:
        key = base64.b64decode(raw + "=" * (-len(raw) % 4))
    except (binascii.Error, ValueError):
        raise SignatureInvalid("The Standard Webhooks secret is not valid base64.") from None
    if not key:
        raise SignatureInvalid("The Standard Webhooks secret is empty.")
    return key


def _signature(key: bytes, msg_id: str, timestamp: int | str, body: bytes) -> bytes:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return hmac.new(key, signed, hashlib.sha256).digest()


def standard_webhooks_sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value for this message: ``v1,<base64>``."""
    digest = _signature(_secret_key(secret), msg_id, int(timestamp), body)
    return "v1," + base64.b64encode(digest).decode("ascii")


def _header(headers: Mapping, name: str) -> str:
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        value = next((v for k, v in headers.items() if str(k).lower() == lowered), None)
    return str(value).strip() if value is not None else ""


def standard_webhooks_verify(
    secret: str,
    headers: Mapping,
    body: bytes,
    now: float | None = None,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
) -> None:
    """Raise SignatureInvalid unless one v1 signature in ``webhook-signature`` signs this
    message and ``webhook-timestamp`` is within ``tolerance`` seconds of ``now``."""
    key = _secret_key(secret)
    msg_id = _header(headers, "webhook-id")
    stamp = _header(headers, "webhook-timestamp")
    presented = _header(headers, "webhook-signature")
    missing = [
        name
        for name, value in (
            ("webhook-id", msg_id),
            ("webhook-timestamp", stamp),
            ("webhook-signature", presented),
        )
        if not value
    ]
    if missing:
        raise SignatureInvalid(f"Missing header(s): {', '.join(missing)}.")
    try:
        timestamp = int(stamp)
    except ValueError:
        raise SignatureInvalid(
            "webhook-timestamp is not an integer (seconds since the epoch)."
        ) from None
    current = time.time() if now is None else now
    if timestamp < current - tolerance:
        raise SignatureInvalid("webhook-timestamp is too old; the message may be a replay.")
    if timestamp > current + tolerance:
        raise SignatureInvalid("webhook-timestamp is too far in the future.")
    expected = _signature(key, msg_id, timestamp, body)
    for candidate in presented.split(" "):
        version, _, value = candidate.partition(",")
        if version != "v1" or not value:
            continue  # other schemes (v1a, v2...) are not ours to check
        try:
            decoded = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            continue
        if hmac.compare_digest(expected, decoded):
            return
    raise SignatureInvalid("No v1 signature in webhook-signature matches the message.")
