"""Query filters of the release request list API (strict: governance.core.filtering)."""

import django_filters

from governance.core.filtering import BooleanFilter, FilterSet
from governance.inventory.models import Environment
from governance.releases.models import ReleaseRequest, ReleaseState


class ReleaseRequestFilter(FilterSet):
    state = django_filters.ChoiceFilter(choices=ReleaseState.choices)
    system = django_filters.CharFilter(help_text="an AI system's slug")
    environment = django_filters.ChoiceFilter(choices=Environment.choices)
    mine = BooleanFilter(help_text="true: only my requests")
    waiting_for_me = BooleanFilter(help_text="true: only what I may decide")

    class Meta:
        model = ReleaseRequest
        fields = ["state", "system", "environment", "mine", "waiting_for_me"]
