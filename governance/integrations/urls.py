from django.urls import path

from governance.integrations import receivers, views

app_name = "integrations"
urlpatterns = [
    path("settings/integrations/", views.IntegrationListView.as_view(), name="list"),
    path(
        "settings/integrations/<slug:slug>/", views.IntegrationDetailView.as_view(), name="detail"
    ),
    path(
        "webhooks/mlflow/<slug:slug>", receivers.MlflowWebhookView.as_view(), name="mlflow-webhook"
    ),
    path(
        "webhooks/huggingface/<slug:slug>",
        receivers.HubWebhookView.as_view(),
        name="huggingface-webhook",
    ),
    path(
        "webhooks/sagemaker/<slug:slug>",
        receivers.SageMakerEventView.as_view(),
        name="sagemaker-webhook",
    ),
]
