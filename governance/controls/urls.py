from django.urls import path

from governance.controls import api, views

app_name = "controls"
urlpatterns = [
    path("controls/", views.CatalogView.as_view(), name="catalog"),
    path("controls/applicability/", views.ApplicabilityView.as_view(), name="applicability"),
    path("portfolio/", views.PortfolioView.as_view(), name="portfolio"),
    path(
        "systems/<slug:slug>/controls/<str:code>/",
        views.ControlDetailView.as_view(),
        name="control-detail",
    ),
    path(
        "systems/<slug:slug>/controls/<str:code>/evidence/<int:evidence_id>",
        views.EvidenceDownloadView.as_view(),
        name="evidence-download",
    ),
]
api_urlpatterns = [
    path("catalog/subcategories", api.SubcategoryListApi.as_view(), name="subcategories"),
    path(
        "catalog/subcategories/<str:code>",
        api.SubcategoryDetailApi.as_view(),
        name="subcategory-detail",
    ),
    path("coverage", api.PortfolioCoverageApi.as_view(), name="portfolio-coverage"),
    path("systems/<slug:slug>/coverage", api.SystemCoverageApi.as_view(), name="system-coverage"),
    path(
        "systems/<slug:slug>/controls", api.ControlImplementationListApi.as_view(), name="controls"
    ),
    path(
        "systems/<slug:slug>/controls/export",
        api.ControlExportApi.as_view(),
        name="controls-export",
    ),
    path(
        "systems/<slug:slug>/controls/<str:code>",
        api.ControlImplementationDetailApi.as_view(),
        name="control-detail",
    ),
    path(
        "systems/<slug:slug>/controls/<str:code>/evidence",
        api.EvidenceCreateApi.as_view(),
        name="control-evidence",
    ),
]
