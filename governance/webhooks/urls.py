"""Inbound webhooks: Kubernetes admission and GitHub deployment protection rules."""

app_name = "webhooks"

urlpatterns: list = []
