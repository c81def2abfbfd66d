"""Incidents and kill switches over the API; the kill switch read path is for AI services."""

from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.views import View
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.accounts.authentication import ApiTokenAuthentication
from governance.accounts.models import User
from governance.accounts.permissions import Perm, has_perm
from governance.core.actor import Actor
from governance.core.errors import DomainError
from governance.core.idempotency import idempotent
from governance.core.pagination import PageNumberPagination
from governance.core.problems import problem_exception_handler, problem_response
from governance.incidents.models import Incident, SeverityLevel, SwitchScope, SwitchState
from governance.incidents.selectors import (
    incident_get,
    incident_list,
    incident_timeline,
    kill_switch_get_for_flip,
    kill_switch_list,
    kill_switch_read,
    severity_level_list,
)
from governance.incidents.services import (
    incident_open,
    kill_switch_engage,
    kill_switch_refused_unknown,
    kill_switch_release,
    kill_switch_representation,
)
from governance.incidents.streaming import kill_switch_stream
from governance.inventory.models import AISystem

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


def _matches(if_none_match: str, etag: str) -> bool:
    if if_none_match.strip() == "*":
        return True
    candidates = [c.strip().removeprefix("W/") for c in if_none_match.split(",")]
    return etag in candidates


class KillSwitchListApi(APIView):
    """Every kill switch (``?system=slug`` for one system's, ``?key=`` repeated for some)."""

    required_permission = Perm.KILLSWITCHES_READ

    @extend_schema(
        responses=KillSwitchSerializer(many=True),
        parameters=[
            OpenApiParameter("system", description="an AI system's slug"),
            OpenApiParameter("key", many=True, description="switch keys"),
        ],
    )
    def get(self, request: Request) -> Response:
        switches = kill_switch_list(
            principal=request.user,
            system=request.query_params.get("system") or None,
            keys=request.query_params.getlist("key") or None,
        )
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(switches, request, view=self)
        return paginator.get_paginated_response([s.representation for s in page])


class KillSwitchDetailApi(APIView):
    """One switch. Send ``If-None-Match`` with the last ETag: 304 while nothing changed."""

    required_permission = Perm.KILLSWITCHES_READ

    @extend_schema(
        responses={200: KillSwitchSerializer, 304: OpenApiResponse(description="Not modified")},
        parameters=[OpenApiParameter("If-None-Match", location=OpenApiParameter.HEADER)],
    )
    def get(self, request: Request, key: str) -> Response:
        body, etag = kill_switch_read(principal=request.user, key=key)
        headers = {"ETag": etag, "Cache-Control": "no-cache"}
        if _matches(request.headers.get("If-None-Match", ""), etag):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers=headers)
        return Response(body, headers=headers)


class FlipInput(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, allow_blank=True, required=False, default="")
    incident = serializers.RegexField(
        r"^INC-\d+$", required=False, allow_null=True, help_text="e.g. INC-12"
    )


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
        request=FlipInput, responses=KillSwitchSerializer, parameters=[IDEMPOTENCY_PARAMETER]
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
        request=FlipInput,
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


class KillSwitchStreamView(View):
    """Server-Sent Events: a plain Django view (a long response, outside DRF), authenticated by
    the same Bearer token or session and the same permission as the read API."""

    required_permission = Perm.KILLSWITCHES_READ

    def get(self, request: HttpRequest) -> HttpResponse:
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
        raw = request.headers.get("Last-Event-ID") or request.GET.get("last_event_id") or ""
        last_event_id = int(raw) if raw.strip().isdigit() else None
        response = StreamingHttpResponse(
            kill_switch_stream(
                principal=principal,
                last_event_id=last_event_id,
                system=request.GET.get("system") or None,
                keys=request.GET.getlist("key") or None,
            ),
            content_type="text/event-stream",
        )
        response["Cache-Control"] = "no-cache"
        response["X-Accel-Buffering"] = "no"  # proxies must not buffer the stream
        return response


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


# --- Incidents ------------------------------------------------------------------------------


class SeverityLevelSerializer(serializers.ModelSerializer):
    class Meta:
        model = SeverityLevel
        fields = ["code", "rank", "name", "harm", "exposure", "scale", "response"]


class SeverityLevelListApi(APIView):
    """SEV1 to SEV4 with their criteria (harm, exposure, scale)."""

    required_permission = Perm.INCIDENTS_VIEW

    @extend_schema(responses=SeverityLevelSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(SeverityLevelSerializer(severity_level_list(), many=True).data)


class TimelineEntrySerializer(serializers.Serializer):
    kind = serializers.CharField()
    message = serializers.CharField()
    actor = serializers.CharField(source="actor_name")
    occurred_at = serializers.DateTimeField()
    data = serializers.JSONField()


class IncidentOutputSerializer(serializers.Serializer):
    ref = serializers.CharField()
    title = serializers.CharField()
    summary = serializers.CharField()
    severity = serializers.CharField(source="severity.code")
    status = serializers.CharField()
    systems = serializers.SerializerMethodField()
    commander = serializers.CharField(source="commander.username")
    opened_by = serializers.CharField()
    opened_at = serializers.DateTimeField()
    mitigated_at = serializers.DateTimeField(allow_null=True)
    resolved_at = serializers.DateTimeField(allow_null=True)
    time_to_mitigate_seconds = serializers.SerializerMethodField()

    def get_systems(self, incident: Incident) -> list[str]:
        return [s.slug for s in incident.systems.all()]

    def get_time_to_mitigate_seconds(self, incident: Incident) -> float | None:
        ttm = incident.time_to_mitigate
        return ttm.total_seconds() if ttm is not None else None


class IncidentDetailSerializer(IncidentOutputSerializer):
    postmortem = serializers.SerializerMethodField()
    timeline = serializers.SerializerMethodField()

    def get_postmortem(self, incident: Incident) -> dict[str, str]:
        return {
            "cause": incident.postmortem_cause,
            "impact": incident.postmortem_impact,
            "actions": incident.postmortem_actions,
        }

    def get_timeline(self, incident: Incident) -> list[dict[str, Any]]:
        entries = incident_timeline(incident=incident)
        return TimelineEntrySerializer(entries, many=True).data


class IncidentListCreateApi(APIView):
    """Incidents, most severe first (``?status=`` filters); POST opens one."""

    required_permission = {"GET": Perm.INCIDENTS_VIEW, "POST": Perm.INCIDENTS_MANAGE}

    class IncidentOpenInput(serializers.Serializer):
        title = serializers.CharField(max_length=200)
        summary = serializers.CharField(required=False, allow_blank=True, default="")
        severity = serializers.SlugRelatedField(
            slug_field="code", queryset=SeverityLevel.objects.all()
        )
        systems = serializers.SlugRelatedField(
            slug_field="slug",
            queryset=AISystem.objects.filter(archived_at__isnull=True),
            many=True,
            allow_empty=False,
        )
        commander = serializers.SlugRelatedField(
            slug_field="username", queryset=User.objects.filter(is_active=True)
        )

    @extend_schema(
        responses=IncidentOutputSerializer(many=True),
        parameters=[OpenApiParameter("status")],
    )
    def get(self, request: Request) -> Response:
        incidents = incident_list(principal=request.user)
        if request.query_params.get("status"):
            incidents = incidents.filter(status=request.query_params["status"])
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(incidents, request, view=self)
        return paginator.get_paginated_response(IncidentOutputSerializer(page, many=True).data)

    @extend_schema(
        request=IncidentOpenInput,
        responses={201: IncidentDetailSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        serializer = self.IncidentOpenInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        incident = incident_open(actor=Actor.from_request(request), **serializer.validated_data)
        return Response(IncidentDetailSerializer(incident).data, status=status.HTTP_201_CREATED)


class IncidentDetailApi(APIView):
    """One incident with its timeline (newest first) and postmortem."""

    required_permission = Perm.INCIDENTS_VIEW

    @extend_schema(responses=IncidentDetailSerializer)
    def get(self, request: Request, number: int) -> Response:
        incident = incident_get(principal=request.user, number=number)
        return Response(IncidentDetailSerializer(incident).data)
