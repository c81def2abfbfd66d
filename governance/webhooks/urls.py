"""Inbound webhooks: Kubernetes admission and GitHub deployment protection rules."""

from django.urls import path

from governance.webhooks.views import (
    GitHubDeploymentProtectionView,
    KubernetesAdmissionView,
    KubernetesGovernedNamespaceAdmissionView,
)

app_name = "webhooks"

urlpatterns = [
    path("k8s/admission", KubernetesAdmissionView.as_view(), name="k8s-admission"),
    path(
        "k8s/admission/governed",
        KubernetesGovernedNamespaceAdmissionView.as_view(),
        name="k8s-admission-governed",
    ),
    path(
        "github/deployment-protection",
        GitHubDeploymentProtectionView.as_view(),
        name="github-deployment-protection",
    ),
]
