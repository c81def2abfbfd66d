"""Kill switches over the API: the read path and the stream are for AI services."""

import re
import threading
from collections.abc import Callable, Iterator
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.handlers.asgi import ASGIRequest
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.views import View
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.accounts.authentication import ApiTokenAuthentication
from governance.accounts.permissions import Perm, has_perm
from governance.core.actor import Actor
from governance.core.errors import DomainError
from governance.core.idempotency import idempotent
from governance.core.pagination import PageNumberPagination
from governance.core.problems import problem_exception_handler, problem_response
from governance.incidents.models import Incident
from governance.runtime.async_streams import kill_switch_stream_async
from governance.runtime.models import SwitchScope, SwitchState
from governance.runtime.selectors import (
    kill_switch_get_for_flip,
    kill_switch_list,
    kill_switch_read,
)
from governance.runtime.services import (
    kill_switch_engage,
    kill_switch_refused_unknown,
    kill_switch_release,
    kill_switch_representation,
)
from governance.runtime.stream_limits import stream_slot_acquire
from governance.runtime.streaming import kill_switch_stream

IDEMPOTENCY_PARAMETER = OpenApiParameter(
    "Idempotency-Key",
    location=OpenApiParameter.HEADER,
    required=False,
    description="Send the same key to retry safely; the first response is replayed.",
)


def _refusal(request: Request, exc: Exception) -> Response:
    """Answer a refused change with problem+json without raising, so the audit event of the
    refusal commits even inside an Idempotency-Key transaction (and a retry replays it)."""
    response = problem_exception_handler(exc, {"request": request})
    assert response is not None
    return response


# --- Kill switches --------------------------------------------------------------------------


class KillSwitchSerializer(serializers.Serializer):
    key = serializers.SlugField()
    system = serializers.SlugField()
    scope = serializers.ChoiceField(choices=SwitchScope.choices)
    environment = serializers.CharField(allow_null=True)
    feature = serializers.CharField(allow_null=True)
    state = serializers.ChoiceField(choices=SwitchState.choices)
    safe_state = serializers.ChoiceField(
        choices=SwitchState.choices,
        help_text="What a client assumes when it cannot reach the server and its state is stale",
    )
    version = serializers.IntegerField()
    reason = serializers.CharField()
    changed_by = serializers.CharField()
    changed_at = serializers.DateTimeField(allow_null=True)
    incident = serializers.CharField(allow_null=True)
    release_pending = serializers.BooleanField()


SLUG_PATTERN = r"^[-a-zA-Z0-9_]*$"  # empty: no filter (system) or no such key
_SLUG = re.compile(SLUG_PATTERN)


def scope_params(query: Any) -> dict[str, Any]:
    """``?system=`` and repeated ``?key=``: slugs, so anything else is a 400 naming the
    parameter (a NUL or a stray byte never reaches the database)."""
    system, keys = query.get("system") or None, query.getlist("key")
    for name, values in (("system", [system] if system else []), ("key", keys)):
        bad = next((v for v in values if not _SLUG.fullmatch(v) or len(v) > 80), None)
        if bad is not None:
            raise exceptions.ValidationError({name: [f"{bad[:40]!r} is not a slug."]})
    return {"system": system, "keys": keys or None}


def _matches(if_none_match: str, etag: str) -> bool:
    if if_none_match.strip() == "*":
        return True
    candidates = [c.strip().removeprefix("W/") for c in if_none_match.split(",")]
    return etag in candidates


def conditional_response(request: Request, body: Any, etag: str) -> Response:
    """The body with its ETag, or 304 when the client already holds this version."""
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if _matches(request.headers.get("If-None-Match", ""), etag):
        return Response(status=status.HTTP_304_NOT_MODIFIED, headers=headers)
    return Response(body, headers=headers)


class KillSwitchListApi(APIView):
    """Every kill switch (``?system=slug`` for one system's, ``?key=`` repeated for some)."""

    required_permission = Perm.KILLSWITCHES_READ

    @extend_schema(
        responses=KillSwitchSerializer(many=True),
        parameters=[
            OpenApiParameter("system", description="an AI system's slug", pattern=SLUG_PATTERN),
            OpenApiParameter("key", many=True, description="switch keys", pattern=SLUG_PATTERN),
        ],
    )
    def get(self, request: Request) -> Response:
        switches = kill_switch_list(
            principal=request.user,
            **scope_params(request.query_params),
        )
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(switches, request, view=self)
        return paginator.get_paginated_response([s.representation for s in page])


# One Server-Sent Event as parsed from the stream (the per-event schema of OpenAPI 3.2's
# itemSchema; 3.0/3.1 readers such as schemathesis take `schema` as that). `retry:` and
# heartbeat comments carry no data and are not events.
STREAM_EVENT_SCHEMA = {
    "type": "object",
    "required": ["event", "id", "data"],
    "properties": {
        "event": {"type": "string", "enum": ["snapshot", "flip", "control"]},
        "id": {"type": "string", "pattern": "^[0-9]+$"},
        "data": {  # OpenAPI 3.0 has no contentMediaType: the JSON is said in words
            "type": "string",
            "description": "JSON. snapshot: the list of switches; flip/control: the changed one",
        },
        "retry": {"type": "integer"},
    },
}


class KillSwitchDetailApi(APIView):
    """One switch. Send ``If-None-Match`` with the last ETag: 304 while nothing changed."""

    required_permission = Perm.KILLSWITCHES_READ

    @extend_schema(
        responses={
            (200, "application/json"): KillSwitchSerializer,
            # The key "stream" is reserved: GET /api/v1/kill-switches/stream is the event stream.
            (200, "text/event-stream"): OpenApiResponse(
                response=STREAM_EVENT_SCHEMA,
                description=(
                    "The key `stream` is reserved: Server-Sent Events of every kill switch "
                    "flip and every runtime control change"
                ),
            ),
            304: OpenApiResponse(description="Not modified"),
        },
        parameters=[OpenApiParameter("If-None-Match", location=OpenApiParameter.HEADER)],
    )
    def get(self, request: Request, key: str) -> Response:
        body, etag = kill_switch_read(principal=request.user, key=key)
        return conditional_response(request, body, etag)


class FlipInput(serializers.Serializer):
    # A missing reason passes here so that the service can refuse it and audit the refusal.
    reason = serializers.CharField(max_length=2000, allow_blank=True, required=False, default="")
    incident = serializers.RegexField(
        r"^INC-[0-9]{1,18}$", required=False, allow_null=True, help_text="e.g. INC-12"
    )


class FlipRequest(FlipInput):
    """What the OpenAPI documents: a flip needs a reason (without one it is a refused 400)."""

    reason = serializers.CharField(max_length=2000)


class _FlipApi(APIView):
    required_permission = Perm.KILLSWITCHES_FLIP
    refused_action = ""

    def flip(self, request: Request, key: str) -> Response:
        actor = Actor.from_request(request)
        serializer = FlipInput(data=request.data)
        if not serializer.is_valid():
            return _refusal(request, exceptions.ValidationError(serializer.errors))
        try:
            switch = kill_switch_get_for_flip(principal=request.user, key=key)
        except Http404 as exc:  # an unknown key is refused, and audited
            kill_switch_refused_unknown(
                actor=actor,
                action=self.refused_action,
                key=key,
                reason=serializer.validated_data["reason"],
            )
            return _refusal(request, exc)
        try:
            return self.change(request, actor, switch, serializer.validated_data)
        except (DomainError, ValidationError) as exc:
            return _refusal(request, exc)

    def change(self, request: Request, actor: Actor, switch: Any, data: dict) -> Response:
        raise NotImplementedError


class KillSwitchEngageApi(_FlipApi):
    """Engage now, with a reason (no approval: minutes matter); optionally for an incident."""

    refused_action = "incidents.killswitch.engage_refused"

    @extend_schema(
        request=FlipRequest, responses=KillSwitchSerializer, parameters=[IDEMPOTENCY_PARAMETER]
    )
    @idempotent
    def post(self, request: Request, key: str) -> Response:
        return self.flip(request, key)

    def change(self, request: Request, actor: Actor, switch: Any, data: dict) -> Response:
        incident = None
        if data.get("incident"):
            number = int(data["incident"].removeprefix("INC-"))
            incident = Incident.objects.filter(number=number).first()
            if incident is None:
                raise ValidationError({"incident": [f"No incident {data['incident']}."]})
        switch = kill_switch_engage(
            actor=actor, switch=switch, reason=data["reason"], incident=incident
        )
        return Response(kill_switch_representation(switch))


class KillSwitchReleaseApi(_FlipApi):
    """Release, with a reason. Tied to a SEV1/SEV2 incident: the first call answers 202 (release
    requested, still engaged) and a different person's call releases."""

    refused_action = "incidents.killswitch.release_refused"

    @extend_schema(
        request=FlipRequest,
        responses={200: KillSwitchSerializer, 202: KillSwitchSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @idempotent
    def post(self, request: Request, key: str) -> Response:
        return self.flip(request, key)

    def change(self, request: Request, actor: Actor, switch: Any, data: dict) -> Response:
        switch = kill_switch_release(actor=actor, switch=switch, reason=data["reason"])
        body = kill_switch_representation(switch)
        pending = switch.is_engaged and switch.release_pending
        return Response(body, status=status.HTTP_202_ACCEPTED if pending else status.HTTP_200_OK)


_opening = threading.BoundedSemaphore(settings.KILL_SWITCH_STREAM_OPENING_CONCURRENCY)


class KillSwitchStreamView(View):
    """Server-Sent Events: a plain Django view (a long response, outside DRF), authenticated by
    the same Bearer token or session and the same permission as the read API."""

    required_permission = Perm.KILLSWITCHES_READ

    def get(self, request: HttpRequest) -> HttpResponse:
        if not isinstance(request, ASGIRequest):  # WSGI (make run, the test server)
            return self._open(request, asgi=False)
        # Under ASGI each request has a thread (and so a database connection) of its own: a
        # thousand clients reconnecting at once take turns here, a few at a time, rather than
        # open a thousand connections. The stream itself reads through a shared pool, so this
        # request's connection goes back at once.
        with _opening:
            try:
                return self._open(request, asgi=True)
            finally:
                connection.close()

    def _open(self, request: HttpRequest, *, asgi: bool) -> HttpResponse:
        principal: Any = request.user
        try:
            found = ApiTokenAuthentication().authenticate(request)
        except exceptions.AuthenticationFailed as exc:
            return _unauthenticated(request, str(exc.detail))
        if found is not None:
            principal = found[0]
        if not getattr(principal, "is_authenticated", False):
            return _unauthenticated(request, "Send Authorization: Bearer <token>.")
        if not has_perm(principal, self.required_permission):
            return problem_response(
                status=403,
                title="Permission denied",
                detail="Your role or token scope does not allow this.",
                instance=request.path,
                request_id=getattr(request, "request_id", ""),
            )
        try:
            params = scope_params(request.GET)
        except exceptions.ValidationError as exc:
            return problem_response(
                status=400,
                title="Invalid request",
                detail=" ".join(str(m) for ms in exc.detail.values() for m in ms),
                instance=request.path,
                request_id=getattr(request, "request_id", ""),
            )
        release = stream_slot_acquire(principal)
        if release is None:
            response = problem_response(
                status=429,
                title="Too many open streams",
                detail="This token or user already holds the most event streams allowed; "
                "close one, or share one stream per process.",
                instance=request.path,
                request_id=getattr(request, "request_id", ""),
            )
            response["Retry-After"] = str(settings.KILL_SWITCH_STREAM_RETRY_MS // 1000 or 1)
            return response
        raw = request.headers.get("Last-Event-ID") or request.GET.get("last_event_id") or ""
        raw = raw.strip()
        # ASCII digits only ("²".isdigit() is true and int() refuses it), within a bigint.
        last_event_id = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 18 else None
        scope = {
            "principal": principal,
            "last_event_id": last_event_id,
            **params,
        }
        if asgi:  # a coroutine per stream, fed by the hub
            body: Any = kill_switch_stream_async(**scope, on_close=release)
        else:  # WSGI (make run, the test server): a thread per stream, as before
            body = _released_after(kill_switch_stream(**scope), release)
        response = StreamingHttpResponse(body, content_type="text/event-stream")
        response["Cache-Control"] = "no-cache"
        response["X-Accel-Buffering"] = "no"  # proxies must not buffer the stream
        return response


def _released_after(stream: Iterator[str], release: Callable[[], None]) -> Iterator[str]:
    try:
        yield from stream
    finally:
        release()


def _unauthenticated(request: HttpRequest, detail: str) -> HttpResponse:
    response = problem_response(
        status=401,
        title="Authentication required",
        detail=detail,
        instance=request.path,
        request_id=getattr(request, "request_id", ""),
    )
    response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response
