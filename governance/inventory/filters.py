"""Query filters of the inventory list APIs (strict: governance.core.filtering)."""

import django_filters
from django.db.models import QuerySet

from governance.core.filtering import BooleanFilter, FilterSet
from governance.inventory.models import AISystem, LifecycleStage, RiskTier


class AISystemFilter(FilterSet):
    risk_tier = django_filters.ChoiceFilter(choices=RiskTier.choices)
    lifecycle_stage = django_filters.ChoiceFilter(choices=LifecycleStage.choices)
    owner = django_filters.CharFilter(
        field_name="owner__username", help_text="business owner's username"
    )
    archived = BooleanFilter(method="_keep", help_text="true: archived systems too")

    class Meta:
        model = AISystem
        fields = ["risk_tier", "lifecycle_stage", "owner", "archived"]

    def _keep(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        return queryset  # applied in filter_queryset: without it, archived systems are left out

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        if not self.form.cleaned_data.get("archived"):
            queryset = queryset.filter(archived_at__isnull=True)
        return super().filter_queryset(queryset)
