"""The audit explorer: filters, pagination, HTMX-refreshed results."""

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views import View

from governance.accounts.permissions import Perm, PermissionRequiredMixin
from governance.audit.selectors import (
    audit_chain_head,
    audit_event_search,
    audit_last_verification,
)

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
        }
        template = "audit/htmx/events.html" if request.htmx else "audit/explorer.html"
        return render(request, template, context, status=200 if valid else 400)
