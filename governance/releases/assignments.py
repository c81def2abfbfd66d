"""Which approvers may decide which systems and environments."""

from django.core.exceptions import ValidationError
from django.db import transaction

from governance.accounts.models import User
from governance.accounts.permissions import Perm, has_perm
from governance.audit.services import Target, audit_record
from governance.core.actor import Actor
from governance.core.errors import Conflict
from governance.inventory.models import AISystem, Environment
from governance.releases.models import (
    ApproverAssignment,
)


def approver_assignment_create(
    *, actor: Actor, user: User, system: AISystem | None, environment: str = ""
) -> ApproverAssignment:
    if not has_perm(user, Perm.RELEASES_APPROVE):
        raise ValidationError({"user": [f"{user.username} does not have the approver role."]})
    if environment and environment not in Environment.values:
        raise ValidationError({"environment": [f"Choose from {', '.join(Environment.values)}."]})
    if ApproverAssignment.objects.filter(
        user=user, system=system, environment=environment
    ).exists():
        raise Conflict("This user already has this assignment.")
    with transaction.atomic():
        assignment = ApproverAssignment.objects.create(
            user=user, system=system, environment=environment, created_by=actor.label
        )
        audit_record(
            actor=actor,
            action="releases.assignment.created",
            target=Target.of(assignment),
            after={
                "user": user.username,
                "system": system.slug if system else None,
                "environment": environment or None,
            },
        )
    return assignment


def approver_assignment_delete(
    *, actor: Actor, assignment: ApproverAssignment, reason: str = ""
) -> None:
    with transaction.atomic():
        before = {
            "user": assignment.user.username,
            "system": assignment.system.slug if assignment.system_id else None,
            "environment": assignment.environment or None,
        }
        audit_record(
            actor=actor,
            action="releases.assignment.deleted",
            target=Target.of(assignment),
            before=before,
            reason=reason,
        )
        assignment.delete()
