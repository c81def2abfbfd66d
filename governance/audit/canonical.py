"""Canonical JSON and the chain hash: the one definition, shared by append, verify and export."""

import hashlib
import json
from datetime import UTC, datetime
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


def json_value(value: Any) -> Any:
    """A value as it will read back from a JSON column (dates, UUIDs, Decimals become strings)."""
    if value is None:
        return None
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


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
