from django.urls import path

from governance.audit import api, proofs_api, views

app_name = "audit"
urlpatterns = [
    path("audit/", views.AuditExplorerView.as_view(), name="explorer"),
    path("audit/verify", views.AuditVerifyView.as_view(), name="verify"),
    path(".well-known/audit-log-keys", views.audit_log_keys, name="public-keys"),
]
api_urlpatterns = [
    path("audit/events", api.AuditEventListApi.as_view(), name="audit-events"),
    path("audit/export", api.AuditExportApi.as_view(), name="audit-export"),
    path(
        "audit/events/<int:sequence>/proof",
        proofs_api.AuditInclusionProofApi.as_view(),
        name="audit-event-proof",
    ),
    path(
        "audit/checkpoints/consistency",
        proofs_api.AuditConsistencyProofApi.as_view(),
        name="audit-consistency-proof",
    ),
    path(
        "audit/checkpoints", proofs_api.AuditCheckpointListApi.as_view(), name="audit-checkpoints"
    ),
]
