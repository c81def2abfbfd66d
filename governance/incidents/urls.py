from django.urls import path

from governance.incidents import api, views

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
        "incidents/<int:number>/steps/<int:execution_id>",
        views.StepPerformView.as_view(),
        name="step-perform",
    ),
    path("kill-switches/", views.KillSwitchPanelView.as_view(), name="kill-switch-panel"),
    path(
        "kill-switches/<slug:key>/card",
        views.KillSwitchCardView.as_view(),
        name="kill-switch-card",
    ),
    path(
        "kill-switches/<slug:key>/flip",
        views.KillSwitchFlipView.as_view(),
        name="kill-switch-flip",
    ),
    path("runbooks/", views.RunbookListView.as_view(), name="runbook-list"),
    path("runbooks/<slug:slug>/", views.RunbookDetailView.as_view(), name="runbook-detail"),
    path("settings/severity/", views.SeverityLevelsView.as_view(), name="severity-levels"),
]
# The stream comes before {key}: "stream" is a reserved key.
api_urlpatterns = [
    path("kill-switches/", api.KillSwitchListApi.as_view(), name="kill-switches"),
    path("kill-switches/stream", api.KillSwitchStreamView.as_view(), name="kill-switch-stream"),
    path("kill-switches/<slug:key>", api.KillSwitchDetailApi.as_view(), name="kill-switch-detail"),
    path(
        "kill-switches/<slug:key>/engage",
        api.KillSwitchEngageApi.as_view(),
        name="kill-switch-engage",
    ),
    path(
        "kill-switches/<slug:key>/release",
        api.KillSwitchReleaseApi.as_view(),
        name="kill-switch-release",
    ),
    path("incidents/", api.IncidentListCreateApi.as_view(), name="incidents"),
    path("incidents/<int:number>", api.IncidentDetailApi.as_view(), name="incident-detail"),
    path("severity-levels/", api.SeverityLevelListApi.as_view(), name="severity-levels"),
]
