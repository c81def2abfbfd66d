"""Request-rate limits for machine tokens (DRF throttle), shared across processes.

Each token has a budget per minute for policy checks and one for reads (GET, HEAD); people
with a session are not limited here (sign-in has its own throttle). Counters are fixed
one-minute windows in the cache: on Redis one pipelined INCR + EXPIRE per request, so every web
process counts against the same budget. If the cache fails, the request is allowed (the
limit protects capacity; it is not an authorization) and the failure is logged; the process
then leaves the cache alone for SKIP_AFTER_FAILURE_SECONDS, so that a hung Redis costs one
request its timeout rather than every request.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from rest_framework.permissions import SAFE_METHODS
from rest_framework.throttling import BaseThrottle

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 60
POLICY_CHECK, ADMISSION, READ = "policy_check", "admission", "read"
SKIP_AFTER_FAILURE_SECONDS = 5.0
_skip_until = 0.0  # per process: until then requests are allowed without asking the cache


def _count(key: str) -> int:
    """Add one to the window's counter and return it."""
    cache = caches["default"]
    if isinstance(cache, RedisCache):
        full = cache.make_and_validate_key(key)
        client = cache._cache.get_client(full, write=True)
        pipe = client.pipeline(transaction=False)
        pipe.incr(full)
        pipe.expire(full, WINDOW_SECONDS + 1, nx=True)
        return int(pipe.execute()[0])
    if cache.add(key, 1, timeout=WINDOW_SECONDS + 1):
        return 1
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between add and incr: a fresh window
        cache.add(key, 1, timeout=WINDOW_SECONDS + 1)
        return 1


def token_rate_bucket(method: str, view: Any) -> str | None:
    """Which budget a request spends: views name theirs (the policy check), reads share one."""
    bucket = getattr(view, "token_rate_bucket", None)
    if bucket is not None:
        return bucket
    return READ if method in SAFE_METHODS else None


class TokenRateThrottle(BaseThrottle):
    """429 (problem+json, Retry-After) once a token spent its budget for the current minute."""

    def __init__(self) -> None:
        self._wait = 0.0

    def allow_request(self, request: Any, view: Any) -> bool:
        token = getattr(request.user, "token", None)
        if token is None:
            return True
        bucket = token_rate_bucket(request.method, view)
        limit = settings.TOKEN_RATE_LIMITS.get(bucket, 0) if bucket else 0
        if limit <= 0:
            return True
        global _skip_until
        if time.monotonic() < _skip_until:
            return True
        now = time.time()
        window = int(now // WINDOW_SECONDS)
        try:
            count = _count(f"token-rate:{bucket}:{token.public_id}:{window}")
        except Exception:
            _skip_until = time.monotonic() + SKIP_AFTER_FAILURE_SECONDS
            logger.warning(
                "token rate limit unavailable (cache error); requests allowed for %.0f s",
                SKIP_AFTER_FAILURE_SECONDS,
            )
            return True
        if count <= limit:
            return True
        self._wait = WINDOW_SECONDS - (now % WINDOW_SECONDS)
        return False

    def counts(self, method: str, view: Any) -> bool:
        """Whether this method spends a budget (the OpenAPI documents 429 only there)."""
        return token_rate_bucket(method, view) is not None

    def wait(self) -> float:
        return max(1, math.ceil(self._wait))
