"""Canonical JSON and the chain hash: the one definition, shared by append, verify and export."""

import hashlib
import json
import math
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

# The fields that the hash covers, in the export too. ``prev_hash`` is hashed as the prefix.
HASHED_FIELDS = (
    "sequence",
    "occurred_at",
    "actor_type",
    "actor_id",
    "actor_name",
    "ip",
    "user_agent",
    "request_id",
    "action",
    "target_type",
    "target_id",
    "target_repr",
    "before",
    "after",
    "reason",
)


def _as_stored(value: Any) -> Any:
    """Numbers as PostgreSQL's jsonb gives them back: it keeps numbers as exact decimals and
    writes them without exponents, so ``1e+16`` reads back as the integer 10000000000000000,
    and it has no negative zero. Everything else is unchanged."""
    if isinstance(value, dict):
        return {k: _as_stored(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_stored(v) for v in value]
    if isinstance(value, float):
        if value == 0:
            return 0.0
        if math.isfinite(value) and abs(value) >= 1e16:  # exponent in repr(), always integral
            return int(Decimal(repr(value)))
    return value


def json_value(value: Any) -> Any:
    """A value as it will read back from a JSON column (dates, UUIDs, Decimals become strings;
    numbers as jsonb keeps them), so the hash over it verifies after a round trip."""
    if value is None:
        return None
    return _as_stored(json.loads(json.dumps(value, cls=DjangoJSONEncoder)))


def timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_json(fields: dict[str, Any]) -> str:
    """Sorted keys, no whitespace, UTF-8: the same bytes whatever wrote or read the event."""
    document = {name: fields[name] for name in HASHED_FIELDS}
    if isinstance(document["occurred_at"], datetime):
        document["occurred_at"] = timestamp(document["occurred_at"])
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def chain_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    return hashlib.sha256((prev_hash + canonical_json(fields)).encode()).hexdigest()
