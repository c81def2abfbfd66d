"""Query filters of the decision log API (strict: governance.core.filtering)."""

import django_filters

from governance.core.filtering import BooleanFilter, FilterSet, IntegerFilter
from governance.inventory.models import Environment
from governance.policy.models import Decision, Endpoint


class DecisionFilter(FilterSet):
    system = django_filters.CharFilter(help_text="an AI system's slug")
    environment = django_filters.ChoiceFilter(choices=Environment.choices)
    allow = BooleanFilter()
    endpoint = django_filters.ChoiceFilter(choices=Endpoint.choices)
    policy_version = IntegerFilter(help_text="a policy version's number")
    disagreements = BooleanFilter(help_text="true: only where the shadow disagreed")
    dry_run = BooleanFilter(help_text="true: only dry runs; false: only real requests")

    class Meta:
        model = Decision
        fields = [
            "system",
            "environment",
            "allow",
            "endpoint",
            "policy_version",
            "disagreements",
            "dry_run",
        ]
