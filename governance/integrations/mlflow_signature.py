"""MLflow 3 webhook signatures, as mlflow/webhooks/delivery.py computes them: HMAC-SHA256 keyed
by the secret's UTF-8 bytes over ``"{delivery_id}.{timestamp}.{payload}"`` (the raw body),
base64, sent as ``X-MLflow-Signature: v1,<base64>`` with ``X-MLflow-Delivery-Id`` and
``X-MLflow-Timestamp`` (Unix seconds). MLflow leaves the tolerance to the receiver; we accept
five minutes either way, as its documented receiver does."""

import base64
import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-MLflow-Signature"
TIMESTAMP_HEADER = "X-MLflow-Timestamp"
DELIVERY_ID_HEADER = "X-MLflow-Delivery-Id"
VERSION = "v1"
TOLERANCE_SECONDS = 300


class SignatureRefused(Exception):
    """A missing, malformed, stale or wrong signature; the message says which."""


def mlflow_sign(secret: str, delivery_id: str, timestamp: str, body: bytes) -> str:
    signed = f"{delivery_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).digest()
    return f"{VERSION},{base64.b64encode(digest).decode()}"


def mlflow_verify(
    *,
    secret: str,
    delivery_id: str,
    timestamp: str,
    signature: str,
    body: bytes,
    now: float | None = None,
) -> None:
    if not secret:
        raise SignatureRefused("no webhook secret is configured for this integration")
    if not delivery_id or not timestamp or not signature:
        raise SignatureRefused("missing X-MLflow-Delivery-Id, X-MLflow-Timestamp or signature")
    if not timestamp.isdigit():
        raise SignatureRefused("X-MLflow-Timestamp is not Unix seconds")
    current = time.time() if now is None else now
    if abs(current - int(timestamp)) > TOLERANCE_SECONDS:
        raise SignatureRefused("X-MLflow-Timestamp is more than five minutes away")
    expected = mlflow_sign(secret, delivery_id, timestamp, body)
    # Several signatures may be sent space-separated (rotation); any valid one will do.
    for candidate in signature.split(" "):
        if hmac.compare_digest(candidate.encode(), expected.encode()):
            return
    raise SignatureRefused("X-MLflow-Signature does not match")
