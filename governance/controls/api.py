"""The catalog, control implementations, evidence and coverage over the API."""

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import parsers, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.accounts.models import User
from governance.accounts.permissions import Perm
from governance.controls.coverage import ControlRow
from governance.controls.models import ControlStatus, Evidence, Subcategory
from governance.controls.selectors import (
    framework_get,
    genai_actions_for,
    implementation_for,
    portfolio_coverage,
    subcategory_get,
    subcategory_list,
    system_coverage,
)
from governance.controls.services import control_implementation_update, evidence_add
from governance.core.actor import Actor
from governance.core.pagination import PageNumberPagination
from governance.core.parsers import JsonParser
from governance.inventory.selectors import ai_system_get

FRAMEWORK_PARAMETER = OpenApiParameter(
    "framework",
    str,
    description="Framework slug (GET /api/v1/frameworks); default: the NIST AI RMF",
)


class SubcategorySerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="code")
    function = serializers.CharField(source="category.function.code")
    category = serializers.CharField(source="category.code")
    category_title = serializers.CharField(source="category.title")

    class Meta:
        model = Subcategory
        fields = ["id", "function", "category", "category_title", "text", "guidance"]


class SubcategoryListApi(APIView):
    """The NIST AI RMF 1.0 subcategories with their Playbook guidance."""

    required_permission = Perm.CONTROLS_VIEW

    @extend_schema(responses=SubcategorySerializer(many=True))
    def get(self, request: Request) -> Response:
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(subcategory_list(principal=request.user), request, self)
        return paginator.get_paginated_response(SubcategorySerializer(page, many=True).data)


class SubcategoryDetailApi(APIView):
    required_permission = Perm.CONTROLS_VIEW

    @extend_schema(responses=SubcategorySerializer)
    def get(self, request: Request, code: str) -> Response:
        sub = subcategory_get(principal=request.user, code=code)
        data = SubcategorySerializer(sub).data
        data["genai_actions"] = [
            {"id": a.code, "text": a.text, "risks": [r.code for r in a.risks.all()]}
            for a in genai_actions_for(subcategory=sub)
        ]
        return Response(data)


class EvidenceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Evidence
        fields = [
            "id",
            "kind",
            "title",
            "sha256",
            "size",
            "content_type",
            "url",
            "object_type",
            "object_id",
            "added_by",
            "added_at",
        ]


class ControlRowSerializer(serializers.Serializer):
    id = serializers.CharField(source="code")
    function = serializers.CharField()
    category = serializers.CharField()
    required = serializers.BooleanField()
    status = serializers.CharField()
    evidence_count = serializers.IntegerField()
    next_review_at = serializers.DateField(allow_null=True)
    review_overdue = serializers.BooleanField()
    supporting = serializers.ListField(
        child=serializers.CharField(), help_text="Crosswalked controls that carry evidence"
    )


class ControlImplementationListApi(APIView):
    """Every subcategory for one system: required or not, status, evidence count."""

    required_permission = Perm.CONTROLS_VIEW
    pagination_class = None  # all of them, one array

    @extend_schema(parameters=[FRAMEWORK_PARAMETER], responses=ControlRowSerializer(many=True))
    def get(self, request: Request, slug: str) -> Response:
        system = ai_system_get(principal=request.user, slug=slug)
        framework = framework_get(
            principal=request.user, slug=request.query_params.get("framework")
        )
        rows: list[ControlRow] = system_coverage(
            principal=request.user, system=system, framework=framework
        ).rows
        return Response(ControlRowSerializer(rows, many=True).data)


def implementation_document(system: Any, sub: Subcategory) -> dict[str, Any]:
    impl = implementation_for(system=system, subcategory=sub)
    return {
        "system": system.slug,
        "id": sub.code,
        "status": impl.status if impl else ControlStatus.NOT_STARTED,
        "owner": impl.owner.username if impl and impl.owner else None,
        "implementation": impl.implementation if impl else "",
        "justification": impl.justification if impl else "",
        "last_reviewed_at": impl.last_reviewed_at if impl else None,
        "next_review_at": impl.next_review_at if impl else None,
        "evidence": EvidenceSerializer(impl.evidence.all(), many=True).data if impl else [],
    }


class ControlImplementationDetailApi(APIView):
    """How one system meets one subcategory. PATCH needs a reason; N/A needs a justification."""

    required_permission = {"GET": Perm.CONTROLS_VIEW, "PATCH": Perm.CONTROLS_MANAGE}

    class ControlUpdateInput(serializers.Serializer):
        reason = serializers.CharField(max_length=2000)
        status = serializers.ChoiceField(choices=ControlStatus.choices, required=False)
        owner = serializers.SlugRelatedField(
            slug_field="username",
            queryset=User.objects.filter(is_active=True),
            required=False,
            allow_null=True,
        )
        implementation = serializers.CharField(required=False, allow_blank=True)
        justification = serializers.CharField(required=False, allow_blank=True)
        last_reviewed_at = serializers.DateField(required=False, allow_null=True)
        next_review_at = serializers.DateField(required=False, allow_null=True)

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, slug: str, code: str) -> Response:
        system = ai_system_get(principal=request.user, slug=slug)
        sub = subcategory_get(principal=request.user, code=code)
        return Response(implementation_document(system, sub))

    @extend_schema(request=ControlUpdateInput, responses=OpenApiTypes.OBJECT)
    def patch(self, request: Request, slug: str, code: str) -> Response:
        system = ai_system_get(principal=request.user, slug=slug)
        sub = subcategory_get(principal=request.user, code=code)
        serializer = self.ControlUpdateInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        changes = dict(serializer.validated_data)
        reason = changes.pop("reason")
        control_implementation_update(
            actor=Actor.from_request(request),
            system=system,
            subcategory=sub,
            reason=reason,
            **changes,
        )
        return Response(implementation_document(system, sub))


class EvidenceCreateApi(APIView):
    """Attach evidence: multipart with ``file``, or JSON with ``url`` or ``object_type`` and
    ``object_id``. Files are hashed (SHA-256), size-capped and limited to an allowlist."""

    required_permission = {"POST": Perm.CONTROLS_MANAGE}
    parser_classes = [JsonParser, parsers.MultiPartParser]

    class EvidenceInput(serializers.Serializer):
        title = serializers.CharField(max_length=200)
        reason = serializers.CharField(max_length=2000, required=False, allow_blank=True)
        file = serializers.FileField(required=False)
        url = serializers.URLField(max_length=1000, required=False)
        object_type = serializers.CharField(max_length=100, required=False)
        object_id = serializers.CharField(max_length=255, required=False)

    @extend_schema(request=EvidenceInput, responses={201: EvidenceSerializer})
    def post(self, request: Request, slug: str, code: str) -> Response:
        system = ai_system_get(principal=request.user, slug=slug)
        sub = subcategory_get(principal=request.user, code=code)
        serializer = self.EvidenceInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        evidence = evidence_add(
            actor=Actor.from_request(request),
            system=system,
            subcategory=sub,
            upload=data.pop("file", None),
            **data,
        )
        return Response(EvidenceSerializer(evidence).data, status=status.HTTP_201_CREATED)


class SystemCoverageApi(APIView):
    """Share implemented per function and category, gaps, and reviews past due."""

    required_permission = Perm.CONTROLS_VIEW

    @extend_schema(parameters=[FRAMEWORK_PARAMETER], responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, slug: str) -> Response:
        system = ai_system_get(principal=request.user, slug=slug)
        framework = framework_get(
            principal=request.user, slug=request.query_params.get("framework")
        )
        return Response(
            system_coverage(principal=request.user, system=system, framework=framework).as_dict()
        )


class PortfolioCoverageApi(APIView):
    """Every live system's coverage, riskiest and furthest from compliance first."""

    required_permission = Perm.CONTROLS_VIEW

    @extend_schema(parameters=[FRAMEWORK_PARAMETER], responses=OpenApiTypes.OBJECT)
    def get(self, request: Request) -> Response:
        framework = framework_get(
            principal=request.user, slug=request.query_params.get("framework")
        )
        coverage = portfolio_coverage(principal=request.user, framework=framework)
        return Response({"systems": [c.as_dict() for c in coverage]})


class ControlExportApi(APIView):
    """A system's control implementations and evidence list as one JSON document."""

    required_permission = Perm.CONTROLS_VIEW

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, slug: str) -> Response:
        system = ai_system_get(principal=request.user, slug=slug)
        coverage = system_coverage(principal=request.user, system=system)
        subs = {s.code: s for s in subcategory_list(principal=request.user)}
        controls = [
            implementation_document(system, subs[row.code])
            for row in coverage.rows
            if row.status != ControlStatus.NOT_STARTED or row.evidence_count
        ]
        response = Response(
            {"system": system.slug, "coverage": coverage.as_dict(), "controls": controls}
        )
        response["Content-Disposition"] = f'attachment; filename="{system.slug}-controls.json"'
        return response
