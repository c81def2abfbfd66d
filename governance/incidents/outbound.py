"""Outbound webhook calls from runbook steps, signed per Standard Webhooks.

Signed content is ``msg_id.timestamp.body``; the key is the base64 secret after ``whsec_``; the
``webhook-signature`` header is ``v1,`` + base64(HMAC-SHA256). See standardwebhooks.com.
"""

import base64
import binascii
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from typing import Any

SECRET_PREFIX = "whsec_"  # noqa: S105 - the prefix of every secret, not a secret
TIMEOUT_SECONDS = 5.0


def _secret_bytes(secret: str) -> bytes:
    raw = secret.removeprefix(SECRET_PREFIX)
    if not raw:
        raise ValueError("a webhook secret is required")
    try:
        return base64.b64decode(raw + "=" * (-len(raw) % 4))
    except binascii.Error as exc:
        raise ValueError("the webhook secret is not base64") from exc


def webhook_sign(*, secret: str, msg_id: str, timestamp: int, payload: str) -> str:
    """The ``webhook-signature`` header value for one message."""
    key = _secret_bytes(secret)
    content = f"{msg_id}.{timestamp}.{payload}".encode()
    digest = hmac.new(key, content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def webhook_verify(*, secret: str, headers: dict[str, str], payload: str) -> bool:
    """Whether any ``v1`` signature in the header matches (the receiving side, for tests)."""
    expected = webhook_sign(
        secret=secret,
        msg_id=headers["webhook-id"],
        timestamp=int(headers["webhook-timestamp"]),
        payload=payload,
    )
    presented = headers.get("webhook-signature", "").split(" ")
    return any(hmac.compare_digest(expected, sig) for sig in presented if sig.startswith("v1,"))


@dataclass(frozen=True)
class Delivery:
    msg_id: str
    status: int | None
    ok: bool
    detail: str


def webhook_post(*, url: str, secret: str, event_type: str, data: dict[str, Any]) -> Delivery:
    """POST one signed event; never raises for network errors, the outcome says what happened."""
    if not url.startswith(("http://", "https://")):
        return Delivery("", None, False, "only http and https URLs are called")
    msg_id = f"msg_{uuid.uuid4().hex}"
    timestamp = int(time.time())
    body = json.dumps(
        {"type": event_type, "timestamp": timestamp, "data": data}, separators=(",", ":")
    )
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "governance-control-plane/1.0",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": webhook_sign(
            secret=secret, msg_id=msg_id, timestamp=timestamp, payload=body
        ),
    }
    request = urllib.request.Request(url, data=body.encode(), headers=headers, method="POST")  # noqa: S310 - scheme checked above
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            status = response.status
    except urllib.error.HTTPError as exc:
        return Delivery(msg_id, exc.code, False, f"HTTP {exc.code}")
    except (urllib.error.URLError, OSError) as exc:
        return Delivery(msg_id, None, False, f"not delivered: {exc}")
    return Delivery(msg_id, status, 200 <= status < 300, f"HTTP {status}")
