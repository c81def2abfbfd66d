"""The OpenFeature Remote Evaluation Protocol (OFREP, open-feature/protocol service/openapi.yaml)
over kill switches and runtime controls, so services read them through OpenFeature.

Flags are the kill switches (boolean: ``true`` while engaged) and the runtime controls (their
typed value), keyed as in the rest of the API. Evaluation is static (``reason: STATIC``): the
context only narrows a bulk evaluation to one ``system`` and ``environment``. The bulk answer
has an ETag (304 on ``If-None-Match``) and names our Server-Sent Events stream in
``eventStreams`` so providers re-fetch on change. A caller over OFREP_RATE_LIMIT_PER_MINUTE gets
429 with ``Retry-After``. Errors carry OFREP's error codes.
"""

import hashlib
import json
import time
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.urls import reverse
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.exceptions import ParseError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.accounts.permissions import Perm
from governance.core.openapi import ProblemSerializer
from governance.runtime.api import _matches
from governance.runtime.selectors import ofrep_flags

REASON = "STATIC"


def _metadata_value(value: Any) -> Any:
    """OFREP metadata values are booleans, strings or numbers."""
    if isinstance(value, bool | int | float | str):
        return value
    return json.dumps(value, sort_keys=True)


def evaluation(item: dict[str, Any]) -> dict[str, Any]:
    """One flag's OFREP evaluation from a switch's or a control's representation."""
    if "state" in item:  # a kill switch
        value, variant = item["state"] == "engaged", item["state"]
        kind, safe = "kill_switch", item["safe_state"] == "engaged"
    else:
        value, kind, safe = item["value"], item["kind"], item["safe_value"]
        if isinstance(value, bool):
            variant = "on" if value else "off"
        elif isinstance(value, str):
            variant = value
        elif isinstance(value, int | float):
            variant = str(value)
        else:
            variant = "object"
    metadata = {
        "system": item["system"],
        "kind": kind,
        "version": item["version"],
        "safeValue": _metadata_value(safe),
    }
    if item.get("environment"):
        metadata["environment"] = item["environment"]
    if item.get("feature"):
        metadata["feature"] = item["feature"]
    return {
        "key": item["key"],
        "value": value,
        "reason": REASON,
        "variant": variant,
        "metadata": metadata,
    }


def _over_limit(request: Request) -> int:
    """Seconds until the caller may evaluate again, or 0. A fixed one-minute window per token
    (or user) in the cache: Redis when configured, so every web worker counts together."""
    limit = settings.OFREP_RATE_LIMIT_PER_MINUTE
    if limit <= 0:
        return 0
    token = getattr(request.user, "token", None)
    who = f"t{token.public_id}" if token is not None else f"u{request.user.pk}"
    window = int(time.time() // 60)
    key = f"ofrep:rate:{who}:{window}"
    try:
        cache.add(key, 0, timeout=70)
        count = cache.incr(key)
    except Exception:  # a cache outage must not stop evaluations
        return 0
    return 60 - int(time.time() % 60) if count > limit else 0


def _too_many(retry_after: int, key: str | None = None) -> Response:
    body: dict[str, Any] = {
        "errorCode": "GENERAL",
        "errorDetails": f"Rate limit reached; retry in {retry_after} s.",
    }
    if key is not None:
        body["key"] = key
    return Response(body, status=429, headers={"Retry-After": str(retry_after)})


def _context(request: Request) -> dict[str, Any]:
    """The evaluation context; raises ValueError with the OFREP error code when it is bad."""
    try:
        data = request.data
    except ParseError as exc:
        raise ValueError("PARSE_ERROR", str(exc.detail)) from exc
    # No body at all parses as {} (an empty context); a JSON "" does not, and is refused.
    if not isinstance(data, dict):  # JSON null, "", a list, a number...
        raise ValueError("PARSE_ERROR", "The body must be a JSON object.")
    context = data.get("context", {})
    if context is None:
        return {}
    if not isinstance(context, dict):
        raise ValueError("INVALID_CONTEXT", "context must be an object.")
    for name in ("system", "environment"):
        if name in context and not isinstance(context[name], str):
            raise ValueError("INVALID_CONTEXT", f"context.{name} must be a string.")
    return context


EVALUATION = inline_serializer(
    "OfrepEvaluation",
    {
        "key": serializers.CharField(),
        "value": serializers.JSONField(),
        "reason": serializers.CharField(),
        "variant": serializers.CharField(),
        "metadata": serializers.DictField(),
    },
)
FAILURE = inline_serializer(
    "OfrepFailure",
    {
        "key": serializers.CharField(required=False),
        "errorCode": serializers.CharField(),
        "errorDetails": serializers.CharField(),
    },
)
# A body the JSON parser refuses (before the view) is our problem; a bad context is OFREP's.
BAD_REQUEST = {
    (400, "application/json"): FAILURE,
    (400, "application/problem+json"): ProblemSerializer,
}
# OFREP providers may send no body or no context: both are an empty context.
REQUEST = inline_serializer(
    "OfrepEvaluationRequest", {"context": serializers.DictField(required=False, allow_null=True)}
)


class OfrepEvaluateFlagApi(APIView):
    """OFREP single flag evaluation: one kill switch or runtime control by key."""

    required_permission = Perm.KILLSWITCHES_READ

    @extend_schema(
        tags=["ofrep"],
        operation_id="ofrep_evaluate_flag",
        request=REQUEST,
        responses={200: EVALUATION, **BAD_REQUEST, 404: FAILURE, 429: FAILURE},
    )
    def post(self, request: Request, key: str) -> Response:
        wait = _over_limit(request)
        if wait:
            return _too_many(wait, key)
        try:
            _context(request)
        except ValueError as exc:
            code, details = exc.args
            return Response({"key": key, "errorCode": code, "errorDetails": details}, status=400)
        items = ofrep_flags(principal=request.user, keys=[key])
        if not items:
            return Response(
                {"key": key, "errorCode": "FLAG_NOT_FOUND", "errorDetails": f"No flag {key!r}."},
                status=status.HTTP_404_NOT_FOUND,
            )
        return Response({**evaluation(items[0][1]), "cacheable": False})


class OfrepEvaluateFlagsApi(APIView):
    """OFREP bulk evaluation: every flag in scope (context ``system``, ``environment``), with an
    ETag (304 on ``If-None-Match``) and the event stream that announces changes."""

    required_permission = Perm.KILLSWITCHES_READ

    @extend_schema(
        tags=["ofrep"],
        operation_id="ofrep_evaluate_flags",
        request=REQUEST,
        parameters=[OpenApiParameter("If-None-Match", location=OpenApiParameter.HEADER)],
        responses={
            200: inline_serializer(
                "OfrepBulkEvaluation",
                {
                    "flags": EVALUATION.__class__(many=True),
                    "eventStreams": serializers.ListField(child=serializers.DictField()),
                },
            ),
            304: OpenApiResponse(description="Not modified"),
            **BAD_REQUEST,
            429: FAILURE,
        },
    )
    def post(self, request: Request) -> Response:
        wait = _over_limit(request)
        if wait:
            return _too_many(wait)
        try:
            context = _context(request)
        except ValueError as exc:
            code, details = exc.args
            return Response({"errorCode": code, "errorDetails": details}, status=400)
        system, environment = context.get("system") or None, context.get("environment") or None
        items = ofrep_flags(principal=request.user, system=system, environment=environment)
        digest = hashlib.sha256(
            json.dumps([system, environment, [e for e, _ in items]]).encode()
        ).hexdigest()[:32]
        etag = f'"{digest}"'
        headers = {"ETag": etag, "Cache-Control": "no-cache"}
        if _matches(request.headers.get("If-None-Match", ""), etag):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers=headers)
        query = urlencode({"system": system} if system else {})
        stream = request.build_absolute_uri(reverse("api:kill-switch-stream"))
        body = {
            "flags": [evaluation(item) for _, item in items],
            "eventStreams": [
                {
                    "type": "sse",
                    "url": f"{stream}?{query}" if query else stream,
                    "inactivityDelaySec": settings.KILL_SWITCH_STREAM_HEARTBEAT_SECONDS * 2,
                }
            ],
        }
        return Response(body, headers=headers)


class OfrepConfigurationApi(APIView):
    """OFREP provider configuration: what we support and how often a poller may ask."""

    required_permission = Perm.KILLSWITCHES_READ

    @extend_schema(
        tags=["ofrep"],
        operation_id="ofrep_configuration",
        responses={
            200: inline_serializer(
                "OfrepConfiguration",
                {"name": serializers.CharField(), "capabilities": serializers.JSONField()},
            )
        },
    )
    def get(self, request: Request) -> Response:
        return Response(
            {
                "name": "governance",
                "capabilities": {
                    "cacheInvalidation": {
                        "polling": {"enabled": True, "minPollingIntervalMs": 1000}
                    },
                    "flagEvaluation": {
                        "supportedTypes": ["boolean", "string", "int", "float", "object"]
                    },
                },
            }
        )
