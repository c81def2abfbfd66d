"""Runtime controls over the API: AI services read them, responders set them with a reason."""

from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.accounts.permissions import Perm
from governance.audit.refusals import refused
from governance.audit.services import Target
from governance.core.actor import Actor
from governance.core.errors import DomainError
from governance.core.idempotency import idempotent
from governance.core.pagination import PageNumberPagination
from governance.incidents.models import Incident
from governance.inventory.models import AISystem, Environment
from governance.runtime.api import (
    IDEMPOTENCY_PARAMETER,
    SLUG_PATTERN,
    _refusal,
    conditional_response,
    scope_params,
)
from governance.runtime.control_services import (
    runtime_control_create,
    runtime_control_representation,
    runtime_control_set,
)
from governance.runtime.models import ControlKind, ValueType
from governance.runtime.selectors import (
    runtime_control_get_for_set,
    runtime_control_list,
    runtime_control_read,
)


class RuntimeControlSerializer(serializers.Serializer):
    key = serializers.SlugField()
    system = serializers.SlugField()
    kind = serializers.ChoiceField(choices=ControlKind.choices)
    type = serializers.ChoiceField(choices=ValueType.choices)
    environment = serializers.CharField(allow_null=True)
    feature = serializers.CharField(allow_null=True)
    value = serializers.JSONField()
    safe_value = serializers.JSONField(
        help_text="What a service uses when it cannot reach the server"
    )
    version = serializers.IntegerField()
    reason = serializers.CharField()
    changed_by = serializers.CharField()
    changed_at = serializers.DateTimeField(allow_null=True)
    incident = serializers.CharField(allow_null=True)


class RuntimeControlListApi(APIView):
    """Runtime controls (``?system=``, ``?key=`` repeated); POST creates one."""

    required_permission = {"GET": Perm.KILLSWITCHES_READ, "POST": Perm.KILLSWITCHES_MANAGE}

    class ControlCreateInput(serializers.Serializer):
        key = serializers.SlugField(max_length=80)
        system = serializers.SlugRelatedField(
            slug_field="slug", queryset=AISystem.objects.filter(archived_at__isnull=True)
        )
        kind = serializers.ChoiceField(choices=ControlKind.choices)
        type = serializers.ChoiceField(choices=ValueType.choices, required=False, default="")
        value = serializers.JSONField()
        safe_value = serializers.JSONField()
        environment = serializers.ChoiceField(
            choices=Environment.choices, required=False, default=""
        )
        feature = serializers.CharField(max_length=100, required=False, default="")
        choices = serializers.ListField(
            child=serializers.CharField(max_length=200), required=False, default=list
        )
        description = serializers.CharField(required=False, allow_blank=True, default="")

    @extend_schema(
        responses=RuntimeControlSerializer(many=True),
        parameters=[
            OpenApiParameter("system", description="an AI system's slug", pattern=SLUG_PATTERN),
            OpenApiParameter("key", many=True, description="control keys", pattern=SLUG_PATTERN),
        ],
    )
    def get(self, request: Request) -> Response:
        controls = runtime_control_list(
            principal=request.user,
            **scope_params(request.query_params),
        )
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(controls, request, view=self)
        return paginator.get_paginated_response([c.representation for c in page])

    @extend_schema(
        request=ControlCreateInput,
        responses={201: RuntimeControlSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        serializer = self.ControlCreateInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data["value_type"] = data.pop("type")
        control = runtime_control_create(actor=Actor.from_request(request), **data)
        return Response(runtime_control_representation(control), status=status.HTTP_201_CREATED)


class RuntimeControlDetailApi(APIView):
    """One control. Send ``If-None-Match`` with the last ETag: 304 while nothing changed."""

    required_permission = Perm.KILLSWITCHES_READ

    @extend_schema(
        responses={200: RuntimeControlSerializer, 304: OpenApiResponse(description="Not modified")},
        parameters=[OpenApiParameter("If-None-Match", location=OpenApiParameter.HEADER)],
    )
    def get(self, request: Request, key: str) -> Response:
        body, etag = runtime_control_read(principal=request.user, key=key)
        return conditional_response(request, body, etag)


class SetInput(serializers.Serializer):
    value = serializers.JSONField()
    reason = serializers.CharField(max_length=2000, allow_blank=True, required=False, default="")
    incident = serializers.RegexField(
        r"^INC-\d+$", required=False, allow_null=True, help_text="e.g. INC-12"
    )


class RuntimeControlSetApi(APIView):
    """Give the control a new value now, with a reason; optionally for an incident."""

    required_permission = Perm.KILLSWITCHES_FLIP

    @extend_schema(
        request=SetInput, responses=RuntimeControlSerializer, parameters=[IDEMPOTENCY_PARAMETER]
    )
    @idempotent
    def post(self, request: Request, key: str) -> Response:
        actor = Actor.from_request(request)
        serializer = SetInput(data=request.data)
        if not serializer.is_valid():
            return _refusal(request, exceptions.ValidationError(serializer.errors))
        data: dict[str, Any] = serializer.validated_data
        try:
            control = runtime_control_get_for_set(principal=request.user, key=key)
        except Http404 as exc:
            refused(
                actor=actor,
                action="runtime.control.set_refused",
                target=Target(type="runtime.control", id=key[:255], repr=key[:255]),
                reason=data["reason"],
                exc=DomainError(f"No runtime control {key!r}."),
            )
            return _refusal(request, exc)
        try:
            incident = None
            if data.get("incident"):
                number = int(data["incident"].removeprefix("INC-"))
                incident = Incident.objects.filter(number=number).first()
                if incident is None:
                    raise ValidationError({"incident": [f"No incident {data['incident']}."]})
            control = runtime_control_set(
                actor=actor,
                control=control,
                value=data["value"],
                reason=data["reason"],
                incident=incident,
            )
        except (DomainError, ValidationError) as exc:
            return _refusal(request, exc)
        return Response(runtime_control_representation(control))
