"""AI systems over the API: list and register (idempotent), read one."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.accounts.models import User
from governance.accounts.permissions import Perm
from governance.core.actor import Actor
from governance.core.idempotency import idempotent
from governance.core.pagination import PageNumberPagination
from governance.inventory.models import AISystem, LifecycleStage, RiskTier
from governance.inventory.selectors import ai_system_list
from governance.inventory.services import ai_system_create


class AISystemOutputSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.username")

    class Meta:
        model = AISystem
        fields = [
            "slug",
            "name",
            "description",
            "owner",
            "risk_tier",
            "lifecycle_stage",
            "is_genai",
            "created_at",
            "updated_at",
        ]


IDEMPOTENCY_PARAMETER = OpenApiParameter(
    "Idempotency-Key",
    location=OpenApiParameter.HEADER,
    required=False,
    description="Send the same key to retry safely; the first response is replayed.",
)


class AISystemListCreateApi(APIView):
    required_permission = {"GET": Perm.INVENTORY_VIEW, "POST": Perm.INVENTORY_MANAGE}

    class InputSerializer(serializers.Serializer):
        slug = serializers.SlugField(max_length=80)
        name = serializers.CharField(max_length=200)
        description = serializers.CharField(required=False, allow_blank=True, default="")
        owner = serializers.SlugRelatedField(
            slug_field="username", queryset=User.objects.filter(is_active=True)
        )
        risk_tier = serializers.ChoiceField(choices=RiskTier.choices)
        lifecycle_stage = serializers.ChoiceField(
            choices=LifecycleStage.choices, default=LifecycleStage.DESIGN
        )
        is_genai = serializers.BooleanField(default=False)

    @extend_schema(responses=AISystemOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(
            ai_system_list(principal=request.user), request, view=self
        )
        return paginator.get_paginated_response(AISystemOutputSerializer(page, many=True).data)

    @extend_schema(
        request=InputSerializer,
        responses={201: AISystemOutputSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        system = ai_system_create(actor=Actor.from_request(request), **serializer.validated_data)
        return Response(AISystemOutputSerializer(system).data, status=status.HTTP_201_CREATED)


class AISystemDetailApi(APIView):
    required_permission = Perm.INVENTORY_VIEW

    @extend_schema(responses=AISystemOutputSerializer)
    def get(self, request: Request, slug: str) -> Response:
        system = get_object_or_404(ai_system_list(principal=request.user), slug=slug)
        return Response(AISystemOutputSerializer(system).data)
