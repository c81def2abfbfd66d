"""The audit explorer: filters, pagination, HTMX-refreshed results; "verify now"."""

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views import View
from django.views.decorators.http import require_GET

from governance.accounts.permissions import Perm, PermissionRequiredMixin
from governance.audit.selectors import (
    audit_chain_head,
    audit_event_search,
    audit_last_verification,
    audit_latest_checkpoint,
    audit_public_keys,
)
from governance.audit.services import audit_chain_verify
from governance.core.htmx import invalid_input_status

PAGE_SIZE = 50


class AuditExplorerView(PermissionRequiredMixin, View):
    required_permission = Perm.AUDIT_VIEW

    def get(self, request: HttpRequest) -> HttpResponse:
        filterset = audit_event_search(principal=request.user, params=request.GET)
        valid = filterset.is_valid()
        events = filterset.qs if valid else filterset.queryset.none()
        page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
        query = request.GET.copy()
        query.pop("page", None)
        context = {
            "filter": filterset,
            "page": page,
            "query": query.urlencode(),
            "head": audit_chain_head(),
            "verification": audit_last_verification(),
            "checkpoint": audit_latest_checkpoint(),
            "keys": audit_public_keys(),
        }
        template = "audit/htmx/events.html" if request.htmx else "audit/explorer.html"
        return render(
            request, template, context, status=200 if valid else invalid_input_status(request)
        )


class AuditVerifyView(PermissionRequiredMixin, View):
    """Walk the whole chain now (the scheduled task does the same) and say what it found."""

    required_permission = Perm.AUDIT_VIEW

    def post(self, request: HttpRequest) -> HttpResponse:
        outcome = audit_chain_verify()
        if outcome.ok:
            messages.success(
                request, f"Audit chain verified: {outcome.events_checked} events, intact."
            )
        else:
            messages.error(
                request,
                f"Audit chain broken at sequence {outcome.first_bad_sequence}: {outcome.problem}",
            )
        target = request.POST.get("next", "")
        return redirect(target if target in ("/dashboard/", "/audit/") else "audit:explorer")


@require_GET
def audit_log_keys(request: HttpRequest) -> JsonResponse:
    """Public: the verifier keys of the audit log's checkpoints (C2SP signed-note encoding)."""
    response = JsonResponse({"origin": settings.AUDIT_LOG_ORIGIN, "keys": audit_public_keys()})
    response["Cache-Control"] = "public, max-age=300"
    response["Access-Control-Allow-Origin"] = "*"
    return response
