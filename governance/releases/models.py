"""Release requests (a model version to an environment), their approvals, and who may approve."""

import uuid

from django.conf import settings
from django.db import models

from governance.core.models import TimeStampedModel
from governance.inventory.models import AISystem, Environment, ModelVersion


class ReleaseState(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Waiting for approval"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    DEPLOYED = "deployed", "Deployed"
    ROLLED_BACK = "rolled_back", "Rolled back"
    WITHDRAWN = "withdrawn", "Withdrawn"
    EXPIRED = "expired", "Expired"


S = ReleaseState
# The only legal transitions; anything else is a 409. An edit of an approved request voids its
# approvals and sends it back to submitted; an expired one may be submitted again.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.DRAFT: frozenset({S.SUBMITTED, S.WITHDRAWN}),
    S.SUBMITTED: frozenset({S.APPROVED, S.REJECTED, S.CHANGES_REQUESTED, S.WITHDRAWN, S.EXPIRED}),
    S.CHANGES_REQUESTED: frozenset({S.SUBMITTED, S.WITHDRAWN}),
    S.APPROVED: frozenset({S.DEPLOYED, S.SUBMITTED, S.WITHDRAWN, S.EXPIRED}),
    S.DEPLOYED: frozenset({S.ROLLED_BACK}),
    S.EXPIRED: frozenset({S.SUBMITTED, S.WITHDRAWN}),
    S.REJECTED: frozenset(),
    S.ROLLED_BACK: frozenset(),
    S.WITHDRAWN: frozenset(),
}
# States whose content the requester may still edit.
EDITABLE = frozenset({S.DRAFT, S.SUBMITTED, S.CHANGES_REQUESTED, S.APPROVED, S.EXPIRED})
# States that wait on approvers.
OPEN = frozenset({S.SUBMITTED})


class ReleaseRequest(TimeStampedModel):
    """A request to ship one model version of a system to one environment, with its reasons.

    ``content_hash`` is the SHA-256 of the canonical JSON of the material fields; approvals
    carry the hash they reviewed, so any material edit voids them.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    system = models.ForeignKey(AISystem, on_delete=models.PROTECT, related_name="releases")
    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.PROTECT, related_name="releases"
    )
    environment = models.CharField(max_length=16, choices=Environment.choices)
    title = models.CharField(max_length=200)
    change_summary = models.TextField("what changes")
    justification = models.TextField("why")
    evaluation_links = models.JSONField(
        default=list, blank=True, help_text="URLs of evaluation results"
    )
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="release_requests"
    )
    state = models.CharField(max_length=20, choices=ReleaseState.choices, default=S.DRAFT)
    content_hash = models.CharField(max_length=64)
    required_approvals = models.PositiveSmallIntegerField(
        default=0, help_text="From the active policy's data, by risk tier, when last submitted"
    )
    break_glass = models.BooleanField(default=False)
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    deployed_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    submit_decision = models.ForeignKey(
        "policy.Decision", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    deploy_decision = models.ForeignKey(
        "policy.Decision", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["state", "-created_at"]),
            models.Index(fields=["system", "model_version", "environment", "state"]),
        ]

    def __str__(self) -> str:
        return (
            f"{self.title} ({self.system.slug}@{self.model_version.version} → {self.environment})"
        )

    @property
    def short_id(self) -> str:
        return str(self.public_id)[:8]


class ApprovalDecision(models.TextChoices):
    APPROVE = "approve", "Approve"
    REJECT = "reject", "Reject"
    REQUEST_CHANGES = "request_changes", "Request changes"


class Approval(models.Model):
    """One approver's decision on one request, bound to the content hash they reviewed.

    Voided (never deleted) when the request's content changes, when it expires, or when the
    approval's own time runs out; a voided approval no longer counts and is shown struck through.
    """

    request = models.ForeignKey(ReleaseRequest, on_delete=models.PROTECT, related_name="approvals")
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="release_approvals"
    )
    decision = models.CharField(max_length=20, choices=ApprovalDecision.choices)
    reason = models.TextField()
    content_hash = models.CharField(max_length=64, help_text="The request content as reviewed")
    break_glass = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    voided_at = models.DateTimeField(null=True, blank=True)
    void_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["request", "approver"],
                condition=models.Q(voided_at__isnull=True),
                name="releases_one_live_approval_per_approver",
                violation_error_message="You already decided on this version of the request.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.approver} {self.decision} {self.request.short_id}"

    @property
    def is_voided(self) -> bool:
        return self.voided_at is not None


class ApproverAssignment(models.Model):
    """Who may approve releases of a system (or all systems) to an environment (or all).

    Once any assignment covers a system and environment, only the users it names may approve
    there; where none does, every user with the approver role (and admins) may.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="approver_assignments"
    )
    system = models.ForeignKey(
        AISystem,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="approver_assignments",
        help_text="Empty: every system",
    )
    environment = models.CharField(
        max_length=16, choices=Environment.choices, blank=True, help_text="Empty: every environment"
    )
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["user__username"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "system", "environment"],
                name="releases_assignment_unique",
                violation_error_message="This user already has this assignment.",
            )
        ]

    def __str__(self) -> str:
        where = self.system.slug if self.system_id else "all systems"
        return f"{self.user} approves {where} → {self.environment or 'all environments'}"
