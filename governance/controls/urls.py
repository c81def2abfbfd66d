from django.urls import path

from governance.controls import api, api_aiact, views, views_aiact

app_name = "controls"
urlpatterns = [
    path("controls/", views.CatalogView.as_view(), name="catalog"),
    path("controls/applicability/", views.ApplicabilityView.as_view(), name="applicability"),
    path("portfolio/", views.PortfolioView.as_view(), name="portfolio"),
    path(
        "controls/<str:code>/crosswalk",
        views_aiact.CrosswalkEditView.as_view(),
        name="crosswalk-edit",
    ),
    path("systems/<slug:slug>/ai-act/", views_aiact.AIActView.as_view(), name="ai-act"),
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
    path("frameworks", api_aiact.FrameworkListApi.as_view(), name="frameworks"),
    path(
        "catalog/subcategories/<str:code>/crosswalk",
        api_aiact.CrosswalkApi.as_view(),
        name="subcategory-crosswalk",
    ),
    path("systems/<slug:slug>/ai-act", api_aiact.ClassificationApi.as_view(), name="ai-act"),
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
