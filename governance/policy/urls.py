"""Policy pages and API."""

from django.urls import path

from governance.policy import api, views

app_name = "policy"

urlpatterns = [
    path("policy/", views.PolicyOverviewView.as_view(), name="overview"),
    path("policy/data/", views.PolicyDataEditView.as_view(), name="data-edit"),
    path("policy/versions/", views.PolicyVersionListView.as_view(), name="version-list"),
    path(
        "policy/versions/<int:version_number>/",
        views.PolicyVersionDetailView.as_view(),
        name="version-detail",
    ),
    path("policy/try/", views.PolicyTryView.as_view(), name="try"),
    path("policy/decisions/", views.DecisionListView.as_view(), name="decision-list"),
    path(
        "policy/decisions/<uuid:decision_id>/",
        views.DecisionDetailView.as_view(),
        name="decision-detail",
    ),
]

api_urlpatterns = [
    path("policy/check", api.PolicyCheckApi.as_view(), name="policy-check"),
    path("policy/decisions", api.DecisionListApi.as_view(), name="policy-decisions"),
    path(
        "policy/decisions/<uuid:decision_id>",
        api.DecisionDetailApi.as_view(),
        name="policy-decision-detail",
    ),
    path("policy/versions", api.PolicyVersionListCreateApi.as_view(), name="policy-versions"),
    path(
        "policy/versions/<int:version_number>",
        api.PolicyVersionDetailApi.as_view(),
        name="policy-version-detail",
    ),
    path(
        "policy/versions/<int:version_number>/activate",
        api.PolicyVersionActivateApi.as_view(),
        name="policy-version-activate",
    ),
    path(
        "policy/versions/<int:version_number>/shadow",
        api.PolicyVersionShadowApi.as_view(),
        name="policy-version-shadow",
    ),
    path(
        "policy/versions/<int:version_number>/shadow/stop",
        api.PolicyVersionShadowStopApi.as_view(),
        name="policy-version-shadow-stop",
    ),
]
