"""Outbound webhook calls from runbook steps, signed per Standard Webhooks (the one signer in
governance.webhooks.signatures)."""

import json
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from typing import Any

from governance.webhooks.signatures import standard_webhooks_sign

TIMEOUT_SECONDS = 5.0


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
        "webhook-signature": standard_webhooks_sign(secret, msg_id, timestamp, body.encode()),
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
