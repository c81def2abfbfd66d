"""Reads of the control catalog."""

from typing import Any

from django.db.models import Count, Prefetch, QuerySet

from governance.accounts.permissions import Perm, has_perm
from governance.controls.models import ControlCategory, ControlFunction, Subcategory


def catalog_functions(*, principal: Any) -> QuerySet[ControlFunction]:
    """Functions with their categories and subcategories, in three queries."""
    if not has_perm(principal, Perm.CONTROLS_VIEW):
        return ControlFunction.objects.none()
    categories = ControlCategory.objects.prefetch_related(
        Prefetch("subcategories", queryset=Subcategory.objects.order_by("position"))
    ).order_by("position")
    return (
        ControlFunction.objects.select_related("framework")
        .prefetch_related(Prefetch("categories", queryset=categories))
        .annotate(category_count=Count("categories", distinct=True))
        .order_by("framework__slug", "position")
    )


def subcategory_count() -> int:
    return Subcategory.objects.count()
