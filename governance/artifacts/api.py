"""POST /api/v1/artifacts/inspect: upload one model file, get the inspector's record back.
POST /api/v1/systems/{slug}/versions-from-artifact: upload it, register a version from it."""

from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import parsers, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.accounts.permissions import Perm
from governance.artifacts.errors import ArtifactUnreadable
from governance.artifacts.inspector import artifact_inspect_bytes
from governance.artifacts.record import InspectionError
from governance.artifacts.services import model_version_register_from_artifact
from governance.core.actor import Actor
from governance.inventory.api import ModelVersionOutputSerializer
from governance.inventory.selectors import ai_system_get


class FindingSerializer(serializers.Serializer):
    code = serializers.CharField()
    severity = serializers.ChoiceField(choices=["critical", "warning", "info"])
    message = serializers.CharField()
    location = serializers.CharField(allow_blank=True)


class ArtifactRecordSerializer(serializers.Serializer):
    format = serializers.CharField(help_text="The format the inspector recognised")
    artifact_format = serializers.CharField(
        allow_blank=True, help_text="The inventory's artifact format choice"
    )
    framework = serializers.CharField()
    framework_version = serializers.CharField(allow_blank=True)
    signature = serializers.DictField(child=serializers.JSONField())
    sizes = serializers.DictField(child=serializers.IntegerField())
    license = serializers.CharField(allow_blank=True)
    datasets = serializers.ListField(child=serializers.CharField())
    metrics = serializers.ListField(child=serializers.DictField(child=serializers.JSONField()))
    base_model = serializers.CharField(allow_blank=True)
    run_id = serializers.CharField(allow_blank=True)
    findings = FindingSerializer(many=True)
    details = serializers.DictField(child=serializers.JSONField())
    files = serializers.ListField(child=serializers.DictField(child=serializers.JSONField()))
    sha256 = serializers.CharField(help_text="SHA-256 of what was read")
    inspector_version = serializers.IntegerField()


class ArtifactInspectApi(APIView):
    """Read a model file's facts without loading it: no ML framework is imported and nothing
    is unpickled. The body limit is MAX_REQUEST_BODY_BYTES; inspect larger files with
    ``manage.py inspect_artifact``."""

    required_permission = Perm.INVENTORY_MANAGE
    parser_classes = [parsers.MultiPartParser]

    class InputSerializer(serializers.Serializer):
        file = serializers.FileField()

    @extend_schema(
        operation_id="artifacts_inspect",
        request={
            "multipart/form-data": inline_serializer(
                "ArtifactInspectUpload", fields={"file": serializers.FileField()}
            )
        },
        responses={
            200: ArtifactRecordSerializer,
            422: OpenApiResponse(description="The file is not a model artifact we can read."),
        },
        tags=["artifacts"],
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        try:
            record = artifact_inspect_bytes(name=upload.name, data=upload.read())
        except InspectionError as exc:
            raise ArtifactUnreadable.of(exc) from None
        return Response(record.as_dict())


class VersionFromArtifactResultSerializer(serializers.Serializer):
    version = ModelVersionOutputSerializer()
    inspection = ArtifactRecordSerializer()


MAX_UPLOAD_FILES = 20  # a model directory's metadata files (MLmodel, README.md, ...)


class VersionFromArtifactApi(APIView):
    """Register a model version from its artifact, as the web UI's "Register version from
    artifact" does: the inspector reads the uploaded file(s) (one model file, or a model
    directory's small metadata files such as MLmodel and README.md) and the version is
    registered with the facts it read (framework, format, signature, metrics, known datasets,
    SHA-256), the inspection kept on the version. 409 when the version exists."""

    required_permission = Perm.INVENTORY_MANAGE
    parser_classes = [parsers.MultiPartParser]

    class InputSerializer(serializers.Serializer):
        file = serializers.ListField(
            child=serializers.FileField(), min_length=1, max_length=MAX_UPLOAD_FILES
        )
        version = serializers.CharField(max_length=64)
        artifact_uri = serializers.CharField(max_length=500, required=False, allow_blank=True)
        code_commit_sha = serializers.RegexField(
            r"^[0-9a-f]{7,40}$", required=False, allow_blank=True
        )
        prompt_version = serializers.CharField(max_length=64, required=False, allow_blank=True)

    @extend_schema(
        operation_id="systems_versions_from_artifact",
        request={
            "multipart/form-data": inline_serializer(
                "VersionFromArtifactUpload",
                fields={
                    "file": serializers.ListField(
                        child=serializers.FileField(),
                        help_text="One model file, or several files of one model directory",
                    ),
                    "version": serializers.CharField(max_length=64),
                    "artifact_uri": serializers.CharField(required=False),
                    "code_commit_sha": serializers.CharField(required=False),
                    "prompt_version": serializers.CharField(required=False),
                },
            )
        },
        responses={
            201: VersionFromArtifactResultSerializer,
            409: OpenApiResponse(
                description="The system already has this version, or is archived."
            ),
            422: OpenApiResponse(description="The file is not a model artifact we can read."),
        },
        tags=["artifacts"],
    )
    def post(self, request: Request, slug: str) -> Response:
        system = ai_system_get(principal=request.user, slug=slug)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        version, record = model_version_register_from_artifact(
            actor=Actor.from_request(request),
            system=system,
            version=data["version"],
            files=[(upload.name, upload.read()) for upload in data["file"]],
            artifact_uri=data.get("artifact_uri", ""),
            code_commit_sha=data.get("code_commit_sha", ""),
            prompt_version=data.get("prompt_version", ""),
        )
        return Response(
            {"version": ModelVersionOutputSerializer(version).data, "inspection": record},
            status=status.HTTP_201_CREATED,
        )
