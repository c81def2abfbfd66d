"""Reads of the audit log: auditors and admins only (the public verifier keys excepted)."""

import base64
from typing import Any

from django.db.models import QuerySet

from governance.accounts.permissions import Perm, has_perm
from governance.audit.filters import AuditEventFilter
from governance.audit.keys import SigningDisabled, signing_key, trusted_keys
from governance.audit.models import (
    AuditChainHead,
    AuditChainVerification,
    AuditCheckpoint,
    AuditEvent,
)
from governance.audit.signing import VerifierKey


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


def audit_checkpoint_list() -> QuerySet[AuditCheckpoint]:
    """Checkpoints, newest first (callers hold audit.proofs or show only public parts)."""
    return AuditCheckpoint.objects.order_by("-created_at", "-id")


def audit_checkpoint_for_size(size: int) -> AuditCheckpoint | None:
    return AuditCheckpoint.objects.filter(tree_size=size).order_by("-created_at", "-id").first()


def audit_latest_checkpoint() -> AuditCheckpoint | None:
    return audit_checkpoint_list().first()


def audit_public_keys() -> list[dict]:
    """The keys that checkpoints verify against: the signing key's first, then rotated ones."""
    current: VerifierKey | None
    try:
        current = signing_key().verifier
    except SigningDisabled:
        current = None
    return [
        {
            "name": key.name,
            "key_id": key.id_hex,
            "algorithm": "ed25519",
            "vkey": key.vkey,
            "public_key": base64.b64encode(key.public).decode(),
            "current": key == current,
        }
        for key in trusted_keys()
    ]
