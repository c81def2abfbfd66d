from django.urls import path

from governance.reports import api, views

app_name = "reports"
urlpatterns = [
    path("reports/", views.ReportListView.as_view(), name="list"),
    path("reports/<uuid:public_id>/row", views.ReportRowView.as_view(), name="row"),
    path("reports/<uuid:public_id>/retry", views.ReportRetryView.as_view(), name="retry"),
    path("reports/<uuid:public_id>/download", views.ReportDownloadView.as_view(), name="download"),
]
api_urlpatterns = [
    path("reports", api.ReportListCreateApi.as_view(), name="reports"),
    path("reports/<uuid:public_id>", api.ReportDetailApi.as_view(), name="report-detail"),
    path("reports/<uuid:public_id>/retry", api.ReportRetryApi.as_view(), name="report-retry"),
    path(
        "reports/<uuid:public_id>/download",
        api.ReportDownloadApi.as_view(),
        name="report-download",
    ),
    path("exports/systems.<str:fmt>", api.SystemsExportApi.as_view(), name="export-systems"),
    path("exports/controls.<str:fmt>", api.ControlsExportApi.as_view(), name="export-controls"),
    path("exports/coverage.<str:fmt>", api.CoverageExportApi.as_view(), name="export-coverage"),
    path(
        "exports/audit-events.<str:fmt>",
        api.AuditEventsExportApi.as_view(),
        name="export-audit-events",
    ),
]
