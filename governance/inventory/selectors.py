"""Reads of the AI system inventory, scoped by permission."""

from typing import Any

from django.db.models import QuerySet

from governance.accounts.permissions import Perm, has_perm
from governance.inventory.models import AISystem


def ai_system_list(*, principal: Any) -> QuerySet[AISystem]:
    if not has_perm(principal, Perm.INVENTORY_VIEW):
        return AISystem.objects.none()
    return AISystem.objects.select_related("owner").order_by("name")
