from django.urls import path

from governance.audit import api, views

app_name = "audit"
urlpatterns = [path("audit/", views.AuditExplorerView.as_view(), name="explorer")]
api_urlpatterns = [
    path("audit/events", api.AuditEventListApi.as_view(), name="audit-events"),
    path("audit/export", api.AuditExportApi.as_view(), name="audit-export"),
]
