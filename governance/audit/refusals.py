"""Refused attempts: the reason check, and the audit event of a change that did not happen.

Services wrap their work in ``guarded``: a DomainError or ValidationError changes nothing and is
recorded as the ``...refused`` action in a transaction of its own, then raised again.
"""

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from governance.audit.services import Target, audit_record
from governance.core.actor import Actor
from governance.core.errors import DomainError


def require_reason(reason: str, what: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [f"{what} needs a reason."]})
    return reason


def refusal_detail(exc: Exception) -> str:
    if isinstance(exc, DomainError):
        return exc.detail
    if isinstance(exc, ValidationError):
        return "; ".join(exc.messages)
    return str(exc)


def refused(
    *, actor: Actor, action: str, target: Target | None, reason: str, exc: Exception
) -> None:
    """Record a refused attempt. Inside an outer transaction (an Idempotency-Key request) the
    interface answers with a problem response instead of raising, so the event commits."""
    with transaction.atomic():
        audit_record(
            actor=actor,
            action=action,
            target=target,
            after={"refused": refusal_detail(exc)},
            reason=reason or "",
        )


def guarded(
    *, actor: Actor, action: str, target: Target | None, reason: str, work: Callable[[], Any]
) -> Any:
    try:
        return work()
    except (DomainError, ValidationError) as exc:
        refused(actor=actor, action=action, target=target, reason=reason, exc=exc)
        raise
