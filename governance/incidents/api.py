"""Incidents and severity levels over the API."""

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.accounts.models import User
from governance.accounts.permissions import Perm
from governance.core.actor import Actor
from governance.core.filtering import filter_queryset
from governance.core.idempotency import idempotent
from governance.core.pagination import PageNumberPagination
from governance.incidents.filters import IncidentFilter
from governance.incidents.models import Incident, SeverityLevel
from governance.incidents.selectors import (
    incident_get,
    incident_list,
    incident_timeline,
    severity_level_list,
)
from governance.incidents.services import incident_open
from governance.inventory.models import AISystem

IDEMPOTENCY_PARAMETER = OpenApiParameter(
    "Idempotency-Key",
    location=OpenApiParameter.HEADER,
    required=False,
    description="Send the same key to retry safely; the first response is replayed.",
)


# --- Incidents ------------------------------------------------------------------------------


class SeverityLevelSerializer(serializers.ModelSerializer):
    class Meta:
        model = SeverityLevel
        fields = ["code", "rank", "name", "harm", "exposure", "scale", "response"]


class SeverityLevelListApi(APIView):
    """SEV1 to SEV4 with their criteria (harm, exposure, scale)."""

    required_permission = Perm.INCIDENTS_VIEW
    pagination_class = None  # all of them, one array

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
    filterset_class = IncidentFilter

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

    @extend_schema(responses=IncidentOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        incidents = filter_queryset(
            request=request, view=self, queryset=incident_list(principal=request.user)
        )
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
