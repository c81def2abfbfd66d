"""Query filters of the outbound delivery log API (strict: governance.core.filtering)."""

import django_filters

from governance.core.filtering import FilterSet
from governance.webhooks.models import OutboundDelivery, OutboundEvent, OutboundStatus


class DeliveryFilter(FilterSet):
    status = django_filters.ChoiceFilter(choices=OutboundStatus.choices)
    event = django_filters.ChoiceFilter(choices=OutboundEvent.choices)

    class Meta:
        model = OutboundDelivery
        fields = ["status", "event"]
