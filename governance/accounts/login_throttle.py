"""Login throttling on top of django-axes: per IP and per username, with backoff.

Axes counts failed sign-ins (AccessAttempt rows) and locks out an IP address or a username
after ``LOGIN_FAILURE_LIMIT`` failures. Each further lockout of the same IP or username within
a day doubles the cool-off (``LOGIN_LOCKOUT_SECONDS`` first, at most a day). The lockout
history lives in the cache (Redis when configured), so it holds across web processes; without
it the cool-off stays at its base, never shorter.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.db.models import Max, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

_DAY = 24 * 3600


def _keys(request: HttpRequest) -> list[str]:
    keys = []
    ip = getattr(request, "axes_ip_address", None) or getattr(request, "client_ip", None)
    if ip:
        keys.append(f"login-lockouts:ip:{ip}")
    username = _username(request)
    if username:
        keys.append(f"login-lockouts:user:{username}")
    return keys


def _username(request: HttpRequest) -> str:
    return (request.POST.get("username", "") if request.method == "POST" else "")[:150]


def _lockouts(request: HttpRequest) -> int:
    try:
        counts = cache.get_many(_keys(request))
    except Exception:  # the cache is an accelerator; without it the base cool-off applies
        return 0
    return max((int(v) for v in counts.values()), default=0)


def login_cooloff(request: HttpRequest | None = None) -> timedelta:
    """AXES_COOLOFF_TIME: the base cool-off, doubled for each earlier lockout today."""
    base = settings.LOGIN_LOCKOUT_SECONDS
    earlier = max(_lockouts(request) - 1, 0) if request is not None else 0
    return timedelta(seconds=min(base * 2 ** min(earlier, 20), _DAY))


def login_lockout_note(request: HttpRequest) -> None:
    """Count one more lockout of this IP and username (their next cool-off doubles)."""
    for key in _keys(request):
        try:
            cache.add(key, 0, timeout=_DAY)
            cache.incr(key)
        except Exception:  # noqa: S112 - see _lockouts
            continue


def login_retry_after(request: HttpRequest) -> int:
    """Seconds until the lockout of this IP or username ends."""
    from axes.models import AccessAttempt

    ip = getattr(request, "axes_ip_address", None)
    username = _username(request)
    last = (
        AccessAttempt.objects.filter(Q(ip_address=ip) | Q(username=username or None))
        .aggregate(last=Max("attempt_time"))
        .get("last")
    )
    cooloff = login_cooloff(request)
    if last is None:
        return int(cooloff.total_seconds())
    remaining = (last + cooloff - timezone.now()).total_seconds()
    return max(1, math.ceil(remaining))


def login_lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: Any = None
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: the sign-in page again, 429 with Retry-After."""
    retry_after = login_retry_after(request)
    response = render(
        request,
        "accounts/login.html",
        {
            "form": AuthenticationForm(request, initial={"username": _username(request)}),
            "locked_out": True,
            "retry_after": retry_after,
            "retry_minutes": max(1, math.ceil(retry_after / 60)),
        },
        status=429,
    )
    response["Retry-After"] = str(retry_after)
    return response
