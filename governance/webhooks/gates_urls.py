"""Admin pages of the deployment gates."""

from django.urls import path

from governance.webhooks import gates_views

app_name = "gates"
urlpatterns = [
    path(
        "settings/environments/",
        gates_views.EnvironmentMappingView.as_view(),
        name="environments",
    ),
    path(
        "settings/environments/<int:pk>/delete",
        gates_views.EnvironmentMappingDeleteView.as_view(),
        name="environment-delete",
    ),
    path(
        "settings/github/deliveries/",
        gates_views.GitHubDeliveryListView.as_view(),
        name="github-deliveries",
    ),
    path(
        "settings/github/deliveries/<str:delivery_id>/retry",
        gates_views.GitHubDeliveryRetryView.as_view(),
        name="github-retry",
    ),
]
