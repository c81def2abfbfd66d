"""Reports over the API: request (202 + status URL), status with progress, download, retry;
CSV and JSON exports of systems, control implementations, coverage and audit events."""

from typing import Any

from django.http import FileResponse, Http404, HttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.accounts.permissions import Perm
from governance.core.actor import Actor
from governance.core.idempotency import idempotent
from governance.core.pagination import PageNumberPagination
from governance.inventory.api import IDEMPOTENCY_PARAMETER
from governance.reports import exports
from governance.reports.models import Report, ReportKind
from governance.reports.selectors import report_get, report_list
from governance.reports.services import report_download, report_request, report_retry


class ReportOutputSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id")
    requested_by = serializers.CharField(source="requested_by_name")
    status_url = serializers.SerializerMethodField()
    download_url = serializers.SerializerMethodField()
    queued_too_long = serializers.BooleanField(
        read_only=True, help_text="Queued and not taken by a worker for too long: retryable."
    )

    class Meta:
        model = Report
        fields = [
            "id",
            "kind",
            "title",
            "parameters",
            "requested_by",
            "requested_at",
            "status",
            "progress",
            "stage",
            "error",
            "attempts",
            "queued_at",
            "queued_too_long",
            "started_at",
            "finished_at",
            "sha256",
            "size",
            "pages",
            "chain_sequence",
            "chain_hash",
            "expires_at",
            "removed_at",
            "status_url",
            "download_url",
        ]

    def get_status_url(self, report: Report) -> str:
        return reverse("api:report-detail", kwargs={"public_id": report.public_id})

    def get_download_url(self, report: Report) -> str | None:
        if not report.downloadable:
            return None
        return reverse("api:report-download", kwargs={"public_id": report.public_id})


class ReportListCreateApi(APIView):
    """Reports, newest first; POST asks for one and answers 202 with its status URL."""

    required_permission = {"GET": Perm.REPORTS_GENERATE, "POST": Perm.REPORTS_GENERATE}

    class ReportRequestInput(serializers.Serializer):
        kind = serializers.ChoiceField(choices=ReportKind.choices)
        system = serializers.SlugField(max_length=80, required=False, allow_blank=True)
        incident = serializers.IntegerField(min_value=1, required=False)
        since = serializers.DateTimeField(required=False)
        until = serializers.DateTimeField(required=False)
        actor = serializers.CharField(max_length=150, required=False, allow_blank=True)
        action = serializers.CharField(max_length=100, required=False, allow_blank=True)
        target_type = serializers.CharField(max_length=100, required=False, allow_blank=True)
        target_id = serializers.CharField(max_length=255, required=False, allow_blank=True)

    @extend_schema(responses=ReportOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(report_list(principal=request.user), request, self)
        return paginator.get_paginated_response(ReportOutputSerializer(page, many=True).data)

    @extend_schema(
        request=ReportRequestInput,
        responses={202: ReportOutputSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
        description="system is required for kind=system (NIST AI RMF) and kind=ai_act (EU AI "
        "Act); incident (its number) for kind=serious_incident, once the incident is marked "
        "serious. actor, action (prefix), target_type and target_id filter an audit log report. "
        "The period defaults to the last 90 days.",
    )
    @idempotent
    def post(self, request: Request) -> Response:
        data = self.ReportRequestInput(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        report = report_request(
            actor=Actor.from_request(request),
            kind=fields.pop("kind"),
            system_slug=fields.pop("system", ""),
            incident_number=fields.pop("incident", None),
            since=fields.pop("since", None),
            until=fields.pop("until", None),
            filters=fields,
        )
        report.refresh_from_db()  # eager Celery (no REDIS_URL) may have rendered it already
        body = ReportOutputSerializer(report).data
        return Response(
            body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["status_url"]}
        )


class ReportDetailApi(APIView):
    """A report's status and progress; poll it until status is done or failed."""

    required_permission = Perm.REPORTS_GENERATE

    @extend_schema(responses=ReportOutputSerializer)
    def get(self, request: Request, public_id: str) -> Response:
        report = report_get(principal=request.user, public_id=public_id)
        return Response(ReportOutputSerializer(report).data)


class ReportRetryApi(APIView):
    """Queue a failed report again, or one queued too long (202)."""

    required_permission = {"POST": Perm.REPORTS_GENERATE}

    @extend_schema(request=None, responses={202: ReportOutputSerializer})
    def post(self, request: Request, public_id: str) -> Response:
        report = report_get(principal=request.user, public_id=public_id)
        report = report_retry(actor=Actor.from_request(request), report=report)
        report.refresh_from_db()
        return Response(ReportOutputSerializer(report).data, status=status.HTTP_202_ACCEPTED)


class ReportDownloadApi(APIView):
    """The PDF, with its SHA-256 in X-Content-SHA256. Every download is audited."""

    required_permission = Perm.REPORTS_DOWNLOAD

    @extend_schema(
        responses={
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY),
            409: OpenApiResponse(description="Not finished"),
            410: OpenApiResponse(description="Removed by retention"),
        }
    )
    def get(self, request: Request, public_id: str) -> FileResponse:
        report = report_get(principal=request.user, public_id=public_id)
        handle = report_download(actor=Actor.from_request(request), report=report)
        return pdf_response(report, handle)


def pdf_response(report: Report, handle: Any) -> FileResponse:
    response = FileResponse(
        handle,
        content_type="application/pdf",
        as_attachment=True,
        filename=f"{report.kind}-report-{report.requested_at:%Y%m%d-%H%M}-{str(report.public_id)[:8]}.pdf",
    )
    response["X-Content-SHA256"] = report.sha256
    response["X-Audit-Chain-Head"] = f"{report.chain_sequence}:{report.chain_hash}"
    return response


FORMAT_PARAMETER = OpenApiParameter(
    "fmt", enum=["csv", "json"], location=OpenApiParameter.PATH, description="csv or json"
)


def _documented(export: exports.Export) -> Any:
    """The export's two shapes: CSV text with a header row, or a JSON array of rows, each an
    object with exactly the export's fields."""
    row = {
        "type": "object",
        "properties": {name: {} for name in export.fields},
        "required": list(export.fields),
        "additionalProperties": False,
    }
    return extend_schema_view(
        get=extend_schema(
            parameters=[FORMAT_PARAMETER],
            responses={
                (200, "text/csv"): OpenApiResponse(
                    OpenApiTypes.STR, description=f"Header row: {', '.join(export.fields)}"
                ),
                (200, "application/json"): OpenApiResponse({"type": "array", "items": row}),
            },
        )
    )


class _ExportApi(APIView):
    export: exports.Export
    pagination_class = None  # the whole export, one array

    def get(self, request: Request, fmt: str) -> HttpResponse:
        if fmt not in ("csv", "json"):
            raise Http404(f"Exports come as csv or json, not {fmt!r}.")
        rows = exports.rows_for(
            self.export,
            principal=request.user,
            params=request.query_params,
            actor=Actor.from_request(request),
            fmt=fmt,
        )
        return exports.response(self.export, rows, fmt=fmt)


@_documented(exports.SYSTEMS)
class SystemsExportApi(_ExportApi):
    """Every AI system (?archived=true to include archived ones)."""

    required_permission = Perm.INVENTORY_VIEW
    export = exports.SYSTEMS


@_documented(exports.CONTROLS)
class ControlsExportApi(_ExportApi):
    """Every system's implementation of every subcategory, with evidence SHA-256s
    (?system=slug for one system)."""

    required_permission = Perm.CONTROLS_VIEW
    export = exports.CONTROLS


@_documented(exports.COVERAGE)
class CoverageExportApi(_ExportApi):
    """Coverage per system and function (?system=slug for one system)."""

    required_permission = Perm.CONTROLS_VIEW
    export = exports.COVERAGE


@_documented(exports.AUDIT_EVENTS)
class AuditEventsExportApi(_ExportApi):
    """Audit events filtered like the explorer (since, until, actor, action, target_type,
    target_id), oldest first; for the hash-verifiable log use /api/v1/audit/export."""

    required_permission = Perm.AUDIT_EXPORT
    export = exports.AUDIT_EVENTS
