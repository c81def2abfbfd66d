from django.urls import path

from governance.incidents import api, views
from governance.runtime import urls as runtime_urls

app_name = "incidents"
urlpatterns = [
    path("incidents/", views.IncidentBoardView.as_view(), name="board"),
    path("incidents/new", views.IncidentOpenView.as_view(), name="incident-open"),
    path("incidents/<int:number>/", views.IncidentDetailView.as_view(), name="incident-detail"),
    path(
        "incidents/<int:number>/status",
        views.IncidentStatusView.as_view(),
        name="incident-status",
    ),
    path(
        "incidents/<int:number>/severity",
        views.IncidentSeverityView.as_view(),
        name="incident-severity",
    ),
    path("incidents/<int:number>/notes", views.IncidentNoteView.as_view(), name="incident-note"),
    path(
        "incidents/<int:number>/postmortem",
        views.IncidentPostmortemView.as_view(),
        name="incident-postmortem",
    ),
    path("incidents/<int:number>/runbooks", views.RunbookStartView.as_view(), name="runbook-start"),
    path(
        "incidents/<int:number>/serious", views.SeriousMarkView.as_view(), name="incident-serious"
    ),
    path(
        "incidents/<int:number>/serious/submission",
        views.SeriousReportView.as_view(),
        name="incident-serious-submission",
    ),
    path(
        "incidents/<int:number>/steps/<int:execution_id>",
        views.StepPerformView.as_view(),
        name="step-perform",
    ),
    # Kill switch pages keep their names in this namespace (incidents:kill-switch-panel...).
    *runtime_urls.web_urlpatterns,
    path("runbooks/", views.RunbookListView.as_view(), name="runbook-list"),
    path("runbooks/<slug:slug>/", views.RunbookDetailView.as_view(), name="runbook-detail"),
    path("settings/severity/", views.SeverityLevelsView.as_view(), name="severity-levels"),
]
api_urlpatterns = [
    path("incidents/", api.IncidentListCreateApi.as_view(), name="incidents"),
    path("incidents/<int:number>", api.IncidentDetailApi.as_view(), name="incident-detail"),
    path("severity-levels/", api.SeverityLevelListApi.as_view(), name="severity-levels"),
]
