"""The dashboard and the health check."""

from django.db import connection
from django.http import HttpRequest, HttpResponsePermanentRedirect, JsonResponse
from django.templatetags.static import static
from django.views.generic import TemplateView

from governance.accounts.permissions import Perm, PermissionRequiredMixin
from governance.core.selectors import dashboard_summary


class DashboardView(PermissionRequiredMixin, TemplateView):
    required_permission = Perm.DASHBOARD_VIEW
    template_name = "core/dashboard.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            summary=dashboard_summary(principal=self.request.user), **kwargs
        )


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and database reachability, for container health checks. Public, no details."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        return JsonResponse({"status": "unavailable"}, status=503)
    return JsonResponse({"status": "ok"})


healthz.public = True


def favicon(request: HttpRequest) -> HttpResponsePermanentRedirect:
    """Browsers ask for /favicon.ico where a page names no icon (PDFs, JSON, API docs). The
    static URL is looked up per request: the manifest exists only after collectstatic."""
    return HttpResponsePermanentRedirect(static("favicon.svg"))


favicon.public = True
