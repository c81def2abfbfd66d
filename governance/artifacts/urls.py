from django.urls import path

from governance.artifacts import api, views

app_name = "artifacts"
urlpatterns = [
    path(
        "versions/from-artifact/",
        views.VersionFromArtifactView.as_view(),
        name="version-from-artifact",
    ),
]
api_urlpatterns = [
    path("artifacts/inspect", api.ArtifactInspectApi.as_view(), name="artifacts-inspect"),
    path(
        "systems/<slug:slug>/versions-from-artifact",
        api.VersionFromArtifactApi.as_view(),
        name="versions-from-artifact",
    ),
]
