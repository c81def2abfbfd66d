"""GET /api/v1/audit/events and the JSONL export."""

import json

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.views import APIView

from governance.accounts.permissions import Perm
from governance.audit.export import EXPORT_FIELDS, event_document
from governance.audit.filters import AuditEventFilter
from governance.audit.models import AuditEvent
from governance.audit.selectors import audit_event_list
from governance.audit.services import audit_export_record
from governance.core.actor import Actor


class AuditEventListApi(generics.ListAPIView):
    """Audit events, newest first, filtered like the audit explorer."""

    required_permission = Perm.AUDIT_VIEW
    filterset_class = AuditEventFilter

    class AuditEventOutput(serializers.ModelSerializer):
        class Meta:
            model = AuditEvent
            fields = list(EXPORT_FIELDS)

    serializer_class = AuditEventOutput

    def get_queryset(self):
        return audit_event_list(principal=self.request.user)


class AuditExportApi(APIView):
    """The whole log as JSONL (oldest first), verifiable offline with verify_audit --file."""

    required_permission = Perm.AUDIT_EXPORT

    @extend_schema(responses={(200, "application/x-ndjson"): OpenApiTypes.STR})
    def get(self, request: Request) -> StreamingHttpResponse:
        head = audit_export_record(actor=Actor.from_request(request), export_format="jsonl")
        rows = (
            audit_event_list(principal=request.user)
            .filter(sequence__lte=head)
            .order_by("sequence")
            .values(*EXPORT_FIELDS)
            .iterator(chunk_size=2000)
        )
        lines = (
            json.dumps(event_document(r), sort_keys=True, ensure_ascii=False) + "\n" for r in rows
        )
        response = StreamingHttpResponse(lines, content_type="application/x-ndjson")
        response["Content-Disposition"] = 'attachment; filename="audit-log.jsonl"'
        return response
