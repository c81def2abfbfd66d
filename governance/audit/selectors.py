"""Reads of the audit log: auditors and admins only."""

from typing import Any

from django.db.models import QuerySet

from governance.accounts.permissions import Perm, has_perm
from governance.audit.filters import AuditEventFilter
from governance.audit.models import AuditChainHead, AuditChainVerification, AuditEvent


def audit_event_list(*, principal: Any) -> QuerySet[AuditEvent]:
    """Every event the principal may read, newest first."""
    if not has_perm(principal, Perm.AUDIT_VIEW):
        return AuditEvent.objects.none()
    return AuditEvent.objects.order_by("-sequence")


def audit_events_for(
    *, principal: Any, target_type: str, target_id: str, limit: int = 20
) -> list[AuditEvent] | None:
    """The latest events about one object, or None for those who may not read the log."""
    if not has_perm(principal, Perm.AUDIT_VIEW):
        return None
    events = AuditEvent.objects.filter(target_type=target_type, target_id=target_id)
    return list(events.order_by("-sequence")[:limit])


def audit_event_search(*, principal: Any, params: Any) -> AuditEventFilter:
    """The explorer's filters bound to the principal's events; check ``is_valid()``."""
    return AuditEventFilter(params, queryset=audit_event_list(principal=principal))


def audit_chain_head() -> AuditChainHead | None:
    return AuditChainHead.objects.filter(id=1).first()


def audit_last_verification() -> AuditChainVerification | None:
    return AuditChainVerification.objects.order_by("-verified_at").first()
