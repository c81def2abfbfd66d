"""Secret fields never reach the decision log: masked by name, at any depth."""

from typing import Any

from django.conf import settings

MASK = "***"


def mask_secrets(value: Any, needles: list[str] | None = None) -> Any:
    needles = [n.lower() for n in (settings.POLICY_MASKED_FIELDS if needles is None else needles)]
    if isinstance(value, dict):
        return {
            key: MASK
            if any(n in str(key).lower() for n in needles)
            else mask_secrets(item, needles)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [mask_secrets(item, needles) for item in value]
    return value
