"""One FilterSet for the audit explorer and GET /api/v1/audit/events."""

import django_filters

from governance.audit.models import AuditEvent
from governance.core.filtering import IsoDateTimeFilter


class AuditEventFilter(django_filters.FilterSet):
    actor = django_filters.CharFilter(
        field_name="actor_name", lookup_expr="icontains", label="Actor"
    )
    actor_type = django_filters.ChoiceFilter(
        choices=[("user", "User"), ("token", "API token"), ("system", "System")],
        label="Actor type",
    )
    action = django_filters.CharFilter(
        field_name="action", lookup_expr="startswith", label="Action starts with"
    )
    target_type = django_filters.CharFilter(label="Target type")
    target_id = django_filters.CharFilter(label="Target id")
    since = IsoDateTimeFilter(
        field_name="occurred_at", lookup_expr="gte", label="From (UTC, ISO 8601)"
    )
    until = IsoDateTimeFilter(
        field_name="occurred_at", lookup_expr="lt", label="Until (UTC, ISO 8601)"
    )

    class Meta:
        model = AuditEvent
        fields = ["actor", "actor_type", "action", "target_type", "target_id", "since", "until"]
