"""Reads of the inventory, scoped by permission."""

from typing import Any

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from governance.accounts.models import User
from governance.accounts.permissions import Perm, has_perm
from governance.inventory.models import AISystem, Dataset, ModelVersion


def ai_system_list(*, principal: Any, include_archived: bool = False) -> QuerySet[AISystem]:
    if not has_perm(principal, Perm.INVENTORY_VIEW):
        return AISystem.objects.none()
    systems = AISystem.objects.select_related("owner", "technical_owner").order_by("name")
    return systems if include_archived else systems.filter(archived_at__isnull=True)


def ai_system_get(*, principal: Any, slug: str) -> AISystem:
    return get_object_or_404(ai_system_list(principal=principal, include_archived=True), slug=slug)


def model_version_list(*, principal: Any, system: AISystem) -> QuerySet[ModelVersion]:
    if not has_perm(principal, Perm.INVENTORY_VIEW):
        return ModelVersion.objects.none()
    return (
        ModelVersion.objects.filter(system=system)
        .prefetch_related(Prefetch("datasets", queryset=Dataset.objects.order_by("name")))
        .order_by("-registered_at")
    )


def model_version_get(*, principal: Any, system: AISystem, version: str) -> ModelVersion:
    return get_object_or_404(
        model_version_list(principal=principal, system=system), version=version
    )


def dataset_list(*, principal: Any, include_archived: bool = False) -> QuerySet[Dataset]:
    if not has_perm(principal, Perm.INVENTORY_VIEW):
        return Dataset.objects.none()
    datasets = Dataset.objects.select_related("owner").order_by("name")
    return datasets if include_archived else datasets.filter(archived_at__isnull=True)


def dataset_get(*, principal: Any, slug: str) -> Dataset:
    return get_object_or_404(dataset_list(principal=principal, include_archived=True), slug=slug)


def datasets_of_system(*, system: AISystem) -> QuerySet[Dataset]:
    return Dataset.objects.filter(model_versions__system=system).distinct().order_by("name")


def system_owners(*, principal: Any) -> QuerySet[User]:
    """People who own at least one live system, for the list's owner filter."""
    if not has_perm(principal, Perm.INVENTORY_VIEW):
        return User.objects.none()
    return (
        User.objects.filter(owned_systems__archived_at__isnull=True).distinct().order_by("username")
    )
