from django.urls import path
from django.views.generic import RedirectView

from governance.core import views

app_name = "core"
urlpatterns = [
    path(
        "",
        RedirectView.as_view(pattern_name="core:dashboard", http_method_names=["get", "head"]),
        name="home",
    ),
    path("dashboard/", views.DashboardView.as_view(), name="dashboard"),
    path("healthz", views.healthz, name="healthz"),
    # Browsers ask for /favicon.ico on pages without a <link rel=icon> (PDFs, JSON, API docs).
    path("favicon.ico", views.favicon, name="favicon"),
]
