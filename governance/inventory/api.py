"""The inventory over the API: AI systems, datasets and model versions."""

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
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
from governance.core.parsers import CsvParser
from governance.core.problems import problem_body
from governance.inventory.filters import AISystemFilter
from governance.inventory.imports import systems_import_csv
from governance.inventory.models import (
    AISystem,
    ArtifactFormat,
    DataCategory,
    DataClassification,
    Dataset,
    Environment,
    Framework,
    LifecycleStage,
    ModelVersion,
    RiskTier,
)
from governance.inventory.selectors import (
    ai_system_get,
    ai_system_list,
    dataset_get,
    dataset_list,
    model_version_get,
    model_version_list,
)
from governance.inventory.services import (
    ai_system_archive,
    ai_system_create,
    ai_system_update,
    dataset_archive,
    dataset_create,
    dataset_update,
    model_version_archive,
    model_version_register,
    model_version_update,
)

IDEMPOTENCY_PARAMETER = OpenApiParameter(
    "Idempotency-Key",
    location=OpenApiParameter.HEADER,
    required=False,
    description="Send the same key to retry safely; the first response is replayed.",
)


def _active_user() -> serializers.SlugRelatedField:
    return serializers.SlugRelatedField(
        slug_field="username", queryset=User.objects.filter(is_active=True)
    )


def _paginated(request: Request, view: APIView, queryset: QuerySet, serializer: Any) -> Response:
    paginator = PageNumberPagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer(page, many=True).data)


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


# --- AI systems -----------------------------------------------------------------------------


class AISystemOutputSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.username")
    technical_owner = serializers.CharField(source="technical_owner.username", allow_null=True)

    class Meta:
        model = AISystem
        fields = [
            "slug",
            "name",
            "description",
            "owner",
            "technical_owner",
            "oncall_team",
            "risk_tier",
            "risk_rationale",
            "lifecycle_stage",
            "intended_use",
            "out_of_scope_uses",
            "data_categories",
            "deployment_environments",
            "is_genai",
            "tags",
            "archived_at",
            "created_at",
            "updated_at",
        ]


class AISystemFieldsSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True)
    owner = _active_user()
    technical_owner = serializers.SlugRelatedField(
        slug_field="username",
        queryset=User.objects.filter(is_active=True),
        required=False,
        allow_null=True,
    )
    oncall_team = serializers.CharField(max_length=100, required=False, allow_blank=True)
    risk_tier = serializers.ChoiceField(choices=RiskTier.choices)
    risk_rationale = serializers.CharField(required=False, allow_blank=True)
    lifecycle_stage = serializers.ChoiceField(choices=LifecycleStage.choices, required=False)
    intended_use = serializers.CharField(required=False, allow_blank=True)
    out_of_scope_uses = serializers.CharField(required=False, allow_blank=True)
    data_categories = serializers.ListField(
        child=serializers.ChoiceField(choices=DataCategory.choices), required=False
    )
    deployment_environments = serializers.ListField(
        child=serializers.ChoiceField(choices=Environment.choices), required=False
    )
    is_genai = serializers.BooleanField(required=False)
    tags = serializers.ListField(child=serializers.CharField(max_length=100), required=False)


class AISystemListCreateApi(APIView):
    """AI systems (live ones; ?archived=true for all), filtered by tier, stage or owner."""

    required_permission = {"GET": Perm.INVENTORY_VIEW, "POST": Perm.INVENTORY_MANAGE}
    filterset_class = AISystemFilter

    class AISystemCreateInput(AISystemFieldsSerializer):
        slug = serializers.SlugField(max_length=80)

    @extend_schema(responses=AISystemOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        systems = filter_queryset(
            request=request,
            view=self,
            queryset=ai_system_list(principal=request.user, include_archived=True),
        )
        return _paginated(request, self, systems, AISystemOutputSerializer)

    @extend_schema(
        request=AISystemCreateInput,
        responses={201: AISystemOutputSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        serializer = self.AISystemCreateInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        system = ai_system_create(actor=Actor.from_request(request), **serializer.validated_data)
        return Response(AISystemOutputSerializer(system).data, status=status.HTTP_201_CREATED)


class AISystemDetailApi(APIView):
    """One AI system; PATCH changes it (a risk tier change needs a reason)."""

    required_permission = {"GET": Perm.INVENTORY_VIEW, "PATCH": Perm.INVENTORY_MANAGE}

    class AISystemUpdateInput(AISystemFieldsSerializer):
        reason = serializers.CharField(max_length=2000, required=False, allow_blank=True)

    @extend_schema(responses=AISystemOutputSerializer)
    def get(self, request: Request, slug: str) -> Response:
        system = ai_system_get(principal=request.user, slug=slug)
        return Response(AISystemOutputSerializer(system).data)

    @extend_schema(request=AISystemUpdateInput, responses=AISystemOutputSerializer)
    def patch(self, request: Request, slug: str) -> Response:
        system = ai_system_get(principal=request.user, slug=slug)
        serializer = self.AISystemUpdateInput(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        changes = dict(serializer.validated_data)
        reason = changes.pop("reason", "")
        system = ai_system_update(
            actor=Actor.from_request(request), system=system, reason=reason, **changes
        )
        return Response(AISystemOutputSerializer(system).data)


class AISystemArchiveApi(APIView):
    """Archive a system: it leaves the portfolio but keeps its history."""

    required_permission = {"POST": Perm.INVENTORY_MANAGE}

    @extend_schema(request=ReasonSerializer, responses=AISystemOutputSerializer)
    @idempotent
    def post(self, request: Request, slug: str) -> Response:
        system = ai_system_get(principal=request.user, slug=slug)
        serializer = ReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        system = ai_system_archive(
            actor=Actor.from_request(request), system=system, **serializer.validated_data
        )
        return Response(AISystemOutputSerializer(system).data)


# --- Datasets -------------------------------------------------------------------------------


class DatasetOutputSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.username")

    class Meta:
        model = Dataset
        fields = [
            "slug",
            "name",
            "source",
            "owner",
            "classification",
            "lineage_uri",
            "description",
            "archived_at",
            "created_at",
            "updated_at",
        ]


class DatasetFieldsSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    source = serializers.CharField(max_length=500)
    owner = _active_user()
    classification = serializers.ChoiceField(choices=DataClassification.choices)
    lineage_uri = serializers.URLField(max_length=500, required=False, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True)


class DatasetListCreateApi(APIView):
    required_permission = {"GET": Perm.INVENTORY_VIEW, "POST": Perm.INVENTORY_MANAGE}

    class DatasetCreateInput(DatasetFieldsSerializer):
        slug = serializers.SlugField(max_length=80)

    @extend_schema(responses=DatasetOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        return _paginated(
            request, self, dataset_list(principal=request.user), DatasetOutputSerializer
        )

    @extend_schema(
        request=DatasetCreateInput,
        responses={201: DatasetOutputSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        serializer = self.DatasetCreateInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        dataset = dataset_create(actor=Actor.from_request(request), **serializer.validated_data)
        return Response(DatasetOutputSerializer(dataset).data, status=status.HTTP_201_CREATED)


class DatasetDetailApi(APIView):
    required_permission = {"GET": Perm.INVENTORY_VIEW, "PATCH": Perm.INVENTORY_MANAGE}

    class DatasetUpdateInput(DatasetFieldsSerializer):
        reason = serializers.CharField(max_length=2000, required=False, allow_blank=True)

    @extend_schema(responses=DatasetOutputSerializer)
    def get(self, request: Request, slug: str) -> Response:
        return Response(
            DatasetOutputSerializer(dataset_get(principal=request.user, slug=slug)).data
        )

    @extend_schema(request=DatasetUpdateInput, responses=DatasetOutputSerializer)
    def patch(self, request: Request, slug: str) -> Response:
        dataset = dataset_get(principal=request.user, slug=slug)
        serializer = self.DatasetUpdateInput(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        changes = dict(serializer.validated_data)
        reason = changes.pop("reason", "")
        dataset = dataset_update(
            actor=Actor.from_request(request), dataset=dataset, reason=reason, **changes
        )
        return Response(DatasetOutputSerializer(dataset).data)


class DatasetArchiveApi(APIView):
    required_permission = {"POST": Perm.INVENTORY_MANAGE}

    @extend_schema(request=ReasonSerializer, responses=DatasetOutputSerializer)
    @idempotent
    def post(self, request: Request, slug: str) -> Response:
        dataset = dataset_get(principal=request.user, slug=slug)
        serializer = ReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        dataset = dataset_archive(
            actor=Actor.from_request(request), dataset=dataset, **serializer.validated_data
        )
        return Response(DatasetOutputSerializer(dataset).data)


# --- Model versions -------------------------------------------------------------------------


class ModelVersionOutputSerializer(serializers.ModelSerializer):
    system = serializers.CharField(source="system.slug")
    datasets = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)
    is_complete = serializers.BooleanField(read_only=True)

    class Meta:
        model = ModelVersion
        fields = [
            "system",
            "version",
            "framework",
            "framework_version",
            "artifact_uri",
            "artifact_format",
            "artifact_sha256",
            "code_commit_sha",
            "datasets",
            "parameters",
            "evaluation",
            "inference_signature",
            "prompt_version",
            "tool_versions",
            "artifact",
            "is_complete",
            "missing_metadata",
            "registered_by",
            "registered_at",
        ]


class EvaluationItemSerializer(serializers.Serializer):
    metric = serializers.CharField(max_length=100)
    value = serializers.FloatField()
    threshold = serializers.FloatField(required=False, allow_null=True)
    dataset = serializers.CharField(max_length=80, required=False, allow_blank=True)


@extend_schema_field(EvaluationItemSerializer)
class EvaluationItemField(serializers.Field):
    """One evaluation item, validated whole in a PATCH too: a partial update replaces the
    list, and DRF's partial mode would otherwise let an item lose its required value."""

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        item = EvaluationItemSerializer(data=data)
        item.is_valid(raise_exception=True)
        return dict(item.validated_data)

    def to_representation(self, value: Any) -> Any:
        return value


class ModelVersionListCreateApi(APIView):
    """A system's model versions; POST registers one (kept but marked if incomplete)."""

    required_permission = {"GET": Perm.INVENTORY_VIEW, "POST": Perm.INVENTORY_MANAGE}

    class ModelVersionInput(serializers.Serializer):
        version = serializers.CharField(max_length=64)
        framework = serializers.ChoiceField(choices=Framework.choices)
        framework_version = serializers.CharField(max_length=32, required=False, allow_blank=True)
        artifact_uri = serializers.CharField(max_length=500, required=False, allow_blank=True)
        artifact_format = serializers.ChoiceField(choices=ArtifactFormat.choices)
        artifact_sha256 = serializers.RegexField(
            r"^[0-9a-f]{64}$", required=False, allow_blank=True
        )
        code_commit_sha = serializers.RegexField(
            r"^[0-9a-f]{7,40}$", required=False, allow_blank=True
        )
        datasets = serializers.SlugRelatedField(
            slug_field="slug", many=True, queryset=Dataset.objects.all(), required=False
        )
        parameters = serializers.DictField(required=False)
        evaluation = serializers.ListField(child=EvaluationItemField(), required=False)
        inference_signature = serializers.DictField(required=False)
        prompt_version = serializers.CharField(max_length=64, required=False, allow_blank=True)
        tool_versions = serializers.DictField(child=serializers.CharField(), required=False)

    @extend_schema(responses=ModelVersionOutputSerializer(many=True))
    def get(self, request: Request, slug: str) -> Response:
        system = ai_system_get(principal=request.user, slug=slug)
        versions = model_version_list(principal=request.user, system=system)
        return _paginated(request, self, versions, ModelVersionOutputSerializer)

    @extend_schema(
        request=ModelVersionInput,
        responses={201: ModelVersionOutputSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @idempotent
    def post(self, request: Request, slug: str) -> Response:
        system = ai_system_get(principal=request.user, slug=slug)
        serializer = self.ModelVersionInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if "evaluation" in data:
            data["evaluation"] = [dict(item) for item in data["evaluation"]]
        version = model_version_register(actor=Actor.from_request(request), system=system, **data)
        return Response(ModelVersionOutputSerializer(version).data, status=status.HTTP_201_CREATED)


class ModelVersionDetailApi(APIView):
    """One version; PATCH completes or corrects its metadata, with a reason."""

    required_permission = {"GET": Perm.INVENTORY_VIEW, "PATCH": Perm.INVENTORY_MANAGE}

    class ModelVersionUpdateInput(ModelVersionListCreateApi.ModelVersionInput):
        reason = serializers.CharField(max_length=2000)

    @extend_schema(responses=ModelVersionOutputSerializer)
    def get(self, request: Request, slug: str, version: str) -> Response:
        system = ai_system_get(principal=request.user, slug=slug)
        found = model_version_get(principal=request.user, system=system, version=version)
        return Response(ModelVersionOutputSerializer(found).data)

    @extend_schema(request=ModelVersionUpdateInput, responses=ModelVersionOutputSerializer)
    def patch(self, request: Request, slug: str, version: str) -> Response:
        system = ai_system_get(principal=request.user, slug=slug)
        found = model_version_get(principal=request.user, system=system, version=version)
        serializer = self.ModelVersionUpdateInput(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("version", None)
        if "evaluation" in data:
            data["evaluation"] = [dict(item) for item in data["evaluation"]]
        updated = model_version_update(
            actor=Actor.from_request(request),
            version=found,
            reason=data.pop("reason", ""),
            datasets=data.pop("datasets", None),
            **data,
        )
        return Response(ModelVersionOutputSerializer(updated).data)


class ModelVersionArchiveApi(APIView):
    required_permission = {"POST": Perm.INVENTORY_MANAGE}

    @extend_schema(request=ReasonSerializer, responses=ModelVersionOutputSerializer)
    @idempotent
    def post(self, request: Request, slug: str, version: str) -> Response:
        system = ai_system_get(principal=request.user, slug=slug)
        found = model_version_get(principal=request.user, system=system, version=version)
        serializer = ReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        archived = model_version_archive(
            actor=Actor.from_request(request), version=found, **serializer.validated_data
        )
        return Response(ModelVersionOutputSerializer(archived).data)


class ImportRowErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="1 is the header row")
    field = serializers.CharField()
    message = serializers.CharField()


class ImportReportSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField()
    rows = serializers.IntegerField()
    created = serializers.ListField(child=serializers.CharField(), help_text="slugs")
    errors = ImportRowErrorSerializer(many=True)


# A problem whose errors are the report's row errors, or a query parameter's field errors.
IMPORT_PROBLEM_SCHEMA = {
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "request_id": {"type": "string"},
        "dry_run": {"type": "boolean"},
        "rows": {"type": "integer"},
        "created": {"type": "array", "items": {"type": "string"}},
        "errors": {
            "type": "array",
            "items": {
                "anyOf": [
                    {
                        "type": "object",
                        "required": ["row", "field", "message"],
                        "properties": {
                            "row": {"type": "integer"},
                            "field": {"type": "string"},
                            "message": {"type": "string"},
                        },
                    },
                    {
                        "type": "object",
                        "required": ["pointer", "detail"],
                        "properties": {
                            "pointer": {"type": "string"},
                            "detail": {"type": "string"},
                        },
                    },
                ]
            },
        },
    },
}


class AISystemImportApi(APIView):
    """Import systems from CSV (text/csv). ``?dry_run=true`` checks every row and writes nothing;
    any bad row also means nothing is written. The report names each bad row and field."""

    required_permission = {"POST": Perm.INVENTORY_MANAGE}
    parser_classes = [CsvParser]

    class ImportQuery(serializers.Serializer):
        dry_run = serializers.BooleanField(default=False)

    @extend_schema(
        request={"text/csv": OpenApiTypes.STR},
        responses={
            200: ImportReportSerializer,
            201: ImportReportSerializer,
            (400, "application/problem+json"): OpenApiResponse(
                IMPORT_PROBLEM_SCHEMA,
                description="A bad row or column (the report, nothing imported), or a bad "
                "query parameter",
            ),
        },
        parameters=[OpenApiParameter("dry_run", bool)],
    )
    def post(self, request: Request) -> Response:
        query = self.ImportQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        dry_run = query.validated_data["dry_run"]
        # An empty body parses to an empty dict, not a string: it is an empty CSV (a 400 report).
        text = request.data if isinstance(request.data, str) else ""
        report = systems_import_csv(actor=Actor.from_request(request), text=text, dry_run=dry_run)
        body = {
            "dry_run": report.dry_run,
            "rows": report.rows,
            "created": report.created,
            "errors": report.errors,
        }
        if not report.ok:
            return Response(
                problem_body(
                    status=400,
                    title="Invalid request",
                    detail=f"{len(report.errors)} problem(s) in the CSV; nothing was imported.",
                    instance=request.path,
                    request_id=getattr(request, "request_id", ""),
                )
                | body,
                status=400,
                content_type="application/problem+json",
            )
        return Response(body, status=status.HTTP_200_OK if dry_run else status.HTTP_201_CREATED)
