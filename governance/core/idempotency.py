"""Idempotency-Key for state-changing API POSTs (DESIGN.md rule 5).

A replay with the same key and body returns the first response with ``Idempotent-Replayed:
true``; the same key with a different body is 422; a concurrent duplicate waits for the first
request to commit (the unique index holds it) and then replays its response. The key row is
written in the same transaction as the change, so a failed request leaves no key behind and can
be retried.
"""

import functools
import hashlib
import json
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.response import Response

from governance.core.errors import Conflict, DomainError, IdempotencyKeyReused
from governance.core.models import IdempotencyRecord
from governance.core.problems import PROBLEM_CONTENT_TYPE

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
# Visible ASCII, spaces only inside: what an HTTP header carries intact. Empty is allowed and
# means no key (a client whose key variable is unset sends "Idempotency-Key:" with nothing).
# The OpenAPI document publishes the same pattern (governance.core.openapi).
KEY_PATTERN = rf"^(?:[!-~](?:[ -~]{{0,{MAX_KEY_LENGTH - 2}}}[!-~])?)?$"
_KEY = re.compile(KEY_PATTERN)


def _owner(request: Request) -> str:
    token = getattr(request.user, "token", None)
    if token is not None:
        return f"token:{token.public_id}"
    return f"user:{request.user.pk}"


def _fingerprint(request: Request) -> str:
    body = json.dumps(request.data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{request.method}\n{request.path}\n{body}".encode()).hexdigest()


def _replay(record: IdempotencyRecord) -> Response:
    # Only answers the view returned are stored: its errors are problems (a refusal answered
    # without raising, so its audit event commits), and a replay says so again.
    return Response(
        record.response_body,
        status=record.status_code,
        headers={"Idempotent-Replayed": "true"},
        content_type=PROBLEM_CONTENT_TYPE if record.status_code >= 400 else None,
    )


def idempotent(handler: Callable[..., Response]) -> Callable[..., Response]:
    """Decorate an APIView's ``post``: honour the Idempotency-Key header when one is sent."""

    @functools.wraps(handler)
    def wrapper(view: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = request.headers.get(HEADER)
        if not key:
            return handler(view, request, *args, **kwargs)
        if not _KEY.fullmatch(key):
            raise DomainError(
                f"{HEADER} must be 1 to {MAX_KEY_LENGTH} visible ASCII characters "
                "(spaces only inside).",
                errors={HEADER: ["Invalid key."]},
            )
        owner, fingerprint = _owner(request), _fingerprint(request)
        with transaction.atomic():
            try:
                with transaction.atomic():
                    record = IdempotencyRecord.objects.create(
                        owner=owner,
                        key=key,
                        method=request.method,
                        path=request.path[:512],
                        fingerprint=fingerprint,
                    )
            except IntegrityError:
                record = IdempotencyRecord.objects.get(owner=owner, key=key)
                if record.fingerprint != fingerprint:
                    raise IdempotencyKeyReused(
                        f"{HEADER} {key!r} was first used with a different request; "
                        "send a new key for a new request."
                    ) from None
                if record.status_code is None:  # only reachable if a writer died mid-request
                    raise Conflict(
                        f"A request with {HEADER} {key!r} is still in progress."
                    ) from None
                return _replay(record)
            response = handler(view, request, *args, **kwargs)
            if response.status_code >= 500:
                transaction.set_rollback(True)
                return response
            record.status_code = response.status_code
            record.response_body = response.data
            record.save(update_fields=["status_code", "response_body"])
            return response

    wrapper.accepts_idempotency_key = True  # type: ignore[attr-defined]  # read by the schema
    return wrapper


def accepts_idempotency_key(handler: Any) -> bool:
    """Whether an API handler is decorated with ``@idempotent`` (the OpenAPI documents it)."""
    return bool(getattr(handler, "accepts_idempotency_key", False))


def idempotency_records_purge() -> int:
    """Forget keys older than IDEMPOTENCY_KEY_TTL_HOURS; returns how many were removed."""
    cutoff = timezone.now() - timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
