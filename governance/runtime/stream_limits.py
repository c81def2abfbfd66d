"""How many event streams one API token, or one person, may hold open at once.

Counted in the cache (Redis when configured, so every web worker counts together), with a TTL a
little past the longest stream so a worker that died holding slots gives them back.
"""

import contextlib
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache


def _who(principal: Any) -> tuple[str, int]:
    token = getattr(principal, "token", None)
    if token is not None:
        return f"t{token.public_id}", settings.KILL_SWITCH_STREAMS_PER_TOKEN
    # date_joined too: a user id may be reused (a flushed database), a token's public id not.
    joined = getattr(principal, "date_joined", None)
    stamp = f"-{joined.timestamp():.6f}" if joined else ""
    return f"u{principal.pk}{stamp}", settings.KILL_SWITCH_STREAMS_PER_USER


def stream_slot_acquire(principal: Any) -> Callable[[], None] | None:
    """A release callable when the principal may open one more stream, else None."""
    who, limit = _who(principal)
    key = f"streams:open:{who}"
    ttl = settings.KILL_SWITCH_STREAM_MAX_SECONDS + 60
    try:
        cache.add(key, 0, timeout=ttl)
        count = cache.incr(key)
        cache.touch(key, ttl)
    except Exception:  # a cache outage must not stop AI services from reading switches
        return lambda: None
    if limit and count > limit:
        _decr(key)
        return None
    released = []

    def release() -> None:
        if not released:
            released.append(True)
            _decr(key)

    return release


def _decr(key: str) -> None:
    with contextlib.suppress(Exception):  # gone or expired: nothing to give back
        cache.decr(key)
