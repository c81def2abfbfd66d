from django.urls import path

from governance.inventory import api, views

app_name = "inventory"
urlpatterns = [
    path("systems/", views.AISystemListView.as_view(), name="system-list"),
    path("systems/new", views.AISystemCreateView.as_view(), name="system-create"),
    path("systems/<slug:slug>/", views.AISystemDetailView.as_view(), name="system-detail"),
    path("systems/<slug:slug>/edit", views.AISystemEditView.as_view(), name="system-edit"),
    path("systems/<slug:slug>/archive", views.AISystemArchiveView.as_view(), name="system-archive"),
    path(
        "systems/<slug:slug>/versions/new",
        views.ModelVersionRegisterView.as_view(),
        name="version-register",
    ),
    path(
        "systems/<slug:slug>/versions/<str:version>/archive",
        views.ModelVersionArchiveView.as_view(),
        name="version-archive",
    ),
    path("datasets/new", views.DatasetCreateView.as_view(), name="dataset-create"),
]
api_urlpatterns = [
    path("systems/", api.AISystemListCreateApi.as_view(), name="systems"),
    path("systems/import", api.AISystemImportApi.as_view(), name="systems-import"),
    path("systems/<slug:slug>", api.AISystemDetailApi.as_view(), name="system-detail"),
    path("systems/<slug:slug>/archive", api.AISystemArchiveApi.as_view(), name="system-archive"),
    path("systems/<slug:slug>/versions", api.ModelVersionListCreateApi.as_view(), name="versions"),
    path(
        "systems/<slug:slug>/versions/<str:version>",
        api.ModelVersionDetailApi.as_view(),
        name="version-detail",
    ),
    path(
        "systems/<slug:slug>/versions/<str:version>/archive",
        api.ModelVersionArchiveApi.as_view(),
        name="version-archive",
    ),
    path("datasets/", api.DatasetListCreateApi.as_view(), name="datasets"),
    path("datasets/<slug:slug>", api.DatasetDetailApi.as_view(), name="dataset-detail"),
    path("datasets/<slug:slug>/archive", api.DatasetArchiveApi.as_view(), name="dataset-archive"),
]
