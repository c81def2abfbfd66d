"""Outbound webhook calls from runbook steps, signed per Standard Webhooks (the one signer in
governance.webhooks.signatures)."""

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

from governance.core.outbound import OutboundError, outbound_request
from governance.webhooks.signatures import standard_webhooks_sign

TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True)
class Delivery:
    msg_id: str
    status: int | None
    ok: bool
    detail: str


def webhook_post(*, url: str, secret: str, event_type: str, data: dict[str, Any]) -> Delivery:
    """POST one signed event through the guarded client; never raises for network errors or
    refused targets, the outcome says what happened."""
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
    try:
        response = outbound_request(
            "POST", url, headers=headers, body=body.encode(), timeout=TIMEOUT_SECONDS
        )
    except OutboundError as exc:
        return Delivery(msg_id, None, False, f"not delivered: {exc}")
    return Delivery(msg_id, response.status, response.ok, f"HTTP {response.status}")
