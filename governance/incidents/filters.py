"""Query filters of the incident list API (strict: governance.core.filtering)."""

import django_filters

from governance.core.filtering import FilterSet
from governance.incidents.models import Incident, IncidentStatus


class IncidentFilter(FilterSet):
    status = django_filters.ChoiceFilter(choices=IncidentStatus.choices)

    class Meta:
        model = Incident
        fields = ["status"]
