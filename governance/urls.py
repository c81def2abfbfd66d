"""URL map: web pages per app, the API under /api/v1/, OpenAPI at /api/schema/ and /api/docs/."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from governance.accounts import urls as accounts_urls
from governance.artifacts import urls as artifacts_urls
from governance.audit import urls as audit_urls
from governance.controls import urls as controls_urls
from governance.core import urls as core_urls
from governance.incidents import urls as incidents_urls
from governance.integrations import urls as integrations_urls
from governance.inventory import urls as inventory_urls
from governance.policy import urls as policy_urls
from governance.releases import urls as releases_urls
from governance.reports import urls as reports_urls
from governance.runtime import urls as runtime_urls
from governance.webhooks import gates_urls, outbound_urls
from governance.webhooks import urls as webhooks_urls

api_v1 = [
    *accounts_urls.api_urlpatterns,
    *audit_urls.api_urlpatterns,
    *inventory_urls.api_urlpatterns,
    *artifacts_urls.api_urlpatterns,
    *controls_urls.api_urlpatterns,
    *policy_urls.api_urlpatterns,
    *incidents_urls.api_urlpatterns,
    *runtime_urls.api_urlpatterns,
    *reports_urls.api_urlpatterns,
    *releases_urls.api_urlpatterns,
    *outbound_urls.api_urlpatterns,
]

urlpatterns = [
    path("", include(core_urls)),
    path("", include(accounts_urls)),
    path("", include(audit_urls)),
    path("", include(inventory_urls)),
    path("", include(artifacts_urls)),
    path("", include(controls_urls)),
    path("", include(policy_urls)),
    path("", include(reports_urls)),
    path("", include(releases_urls)),
    path("", include(outbound_urls)),
    path("", include(integrations_urls)),
    path("", include(gates_urls)),
    path("webhooks/", include(webhooks_urls)),
    path("", include(incidents_urls)),
    path("api/v1/", include((api_v1, "api"))),
    path("ofrep/v1/", include((runtime_urls.ofrep_urlpatterns, "ofrep"))),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file: the CSP allows no inline script.
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="api-schema", template_name="core/swagger_ui.html"
        ),
        name="api-docs",
    ),
]

handler400 = "governance.core.error_pages.bad_request"
handler403 = "governance.core.error_pages.permission_denied"
handler404 = "governance.core.error_pages.page_not_found"
handler500 = "governance.core.error_pages.server_error"
