"""Frameworks, the EU AI Act classification of a system, and the crosswalk over the API."""

from typing import Any

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.accounts.permissions import Perm
from governance.controls.aiact import (
    ANNEX_III_AREAS,
    PROHIBITED_PRACTICES,
    TRANSPARENCY_SITUATIONS,
    Answers,
)
from governance.controls.classifications import (
    ai_act_classify,
    applicable_obligations,
    crosswalk_set,
)
from governance.controls.models import AIActClassification, AIActRole, Framework
from governance.controls.selectors import (
    ai_act_classification_for,
    crosswalk_of,
    framework_list,
    subcategory_get,
)
from governance.core.actor import Actor
from governance.inventory.selectors import ai_system_get


class FrameworkSerializer(serializers.ModelSerializer):
    # Slugs like "nist-ai-rmf-1.0" carry a dot, which the model field's slug pattern refuses.
    slug = serializers.CharField(read_only=True)

    class Meta:
        model = Framework
        fields = ["slug", "name", "short_name", "version", "publication", "applicability"]


class FrameworkListApi(APIView):
    """The loaded frameworks; pass a slug as ``?framework=`` to coverage endpoints."""

    required_permission = Perm.CONTROLS_VIEW
    pagination_class = None  # a handful: one array

    @extend_schema(responses=FrameworkSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(FrameworkSerializer(framework_list(principal=request.user), many=True).data)


class ClassificationSerializer(serializers.ModelSerializer):
    obligations = serializers.SerializerMethodField()

    class Meta:
        model = AIActClassification
        fields = [
            "risk_class",
            "role",
            "prohibited_practice",
            "annex_iii_area",
            "annex_i_product",
            "transparency",
            "gpai_model",
            "gpai_systemic_risk",
            "public_service_deployer",
            "reasons",
            "classified_by",
            "classified_at",
            "obligations",
        ]

    def get_obligations(self, obj: AIActClassification) -> list[str]:
        return applicable_obligations(obj)


def _document(system: Any, classification: AIActClassification | None) -> dict[str, Any]:
    return {
        "system": system.slug,
        "classified": classification is not None,
        "classification": None
        if classification is None
        else ClassificationSerializer(classification).data,
    }


class ClassificationApi(APIView):
    """A system's EU AI Act classification. PUT answers the guided questions with reasons; the
    risk class and the obligations that bind follow from them."""

    required_permission = {"GET": Perm.CONTROLS_VIEW, "PUT": Perm.CONTROLS_CONFIGURE}

    class ClassifyInput(serializers.Serializer):
        role = serializers.ChoiceField(choices=AIActRole.choices)
        prohibited_practice = serializers.ChoiceField(
            choices=sorted(PROHIBITED_PRACTICES), required=False, allow_blank=True, default=""
        )
        annex_i_product = serializers.BooleanField(required=False, default=False)
        annex_iii_area = serializers.ChoiceField(
            choices=list(ANNEX_III_AREAS), required=False, allow_blank=True, default=""
        )
        transparency = serializers.ListField(
            child=serializers.ChoiceField(choices=sorted(TRANSPARENCY_SITUATIONS)),
            required=False,
            default=list,
        )
        gpai_model = serializers.BooleanField(required=False, default=False)
        gpai_systemic_risk = serializers.BooleanField(required=False, default=False)
        public_service_deployer = serializers.BooleanField(required=False, default=False)
        reasons = serializers.CharField(max_length=5000)

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, slug: str) -> Response:
        system = ai_system_get(principal=request.user, slug=slug)
        return Response(_document(system, ai_act_classification_for(system=system)))

    @extend_schema(request=ClassifyInput, responses=OpenApiTypes.OBJECT)
    def put(self, request: Request, slug: str) -> Response:
        system = ai_system_get(principal=request.user, slug=slug)
        serializer = self.ClassifyInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        reasons = data.pop("reasons")
        data["transparency"] = tuple(data["transparency"])
        classification = ai_act_classify(
            actor=Actor.from_request(request),
            system=system,
            answers=Answers(**data),
            reasons=reasons,
        )
        return Response(_document(system, classification))


class ClassifyInputSchema(OpenApiSerializerExtension):
    """The classification input as spectacular maps it, plus the rule between two of its fields
    that the service enforces: systemic risk is a flag of general-purpose AI models only."""

    target_class = ClassificationApi.ClassifyInput

    def map_serializer(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        if direction == "request":
            schema["anyOf"] = [
                {"properties": {"gpai_systemic_risk": {"enum": [False]}}},
                {"required": ["gpai_model"], "properties": {"gpai_model": {"enum": [True]}}},
            ]
        return schema


class CrosswalkApi(APIView):
    """The controls in other frameworks that evidence this one (our mapping). PUT replaces the
    mapping of an obligation, with a reason."""

    required_permission = {"GET": Perm.CONTROLS_VIEW, "PUT": Perm.CONTROLS_CONFIGURE}

    class CrosswalkInput(serializers.Serializer):
        targets = serializers.ListField(child=serializers.CharField(max_length=32))
        reason = serializers.CharField(max_length=2000)

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, code: str) -> Response:
        sub = subcategory_get(principal=request.user, code=code)
        return Response(
            {"id": sub.code, "maps_to": [s.code for s in crosswalk_of(subcategory=sub)]}
        )

    @extend_schema(request=CrosswalkInput, responses=OpenApiTypes.OBJECT)
    def put(self, request: Request, code: str) -> Response:
        sub = subcategory_get(principal=request.user, code=code)
        serializer = self.CrosswalkInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        crosswalk_set(
            actor=Actor.from_request(request),
            source=sub,
            target_codes=serializer.validated_data["targets"],
            reason=serializer.validated_data["reason"],
        )
        return Response(
            {"id": sub.code, "maps_to": [s.code for s in crosswalk_of(subcategory=sub)]}
        )
