"""People (users with one role each) and machines (scoped API tokens)."""

import uuid

from django.contrib.auth.models import AbstractUser
from django.db import models


class Role(models.TextChoices):
    VIEWER = "viewer", "Viewer"
    REQUESTER = "requester", "Requester"
    APPROVER = "approver", "Approver"
    INCIDENT_COMMANDER = "incident_commander", "Incident commander"
    AUDITOR = "auditor", "Auditor"
    ADMIN = "admin", "Admin"


class User(AbstractUser):
    """A person who signs in to the web UI; what they may do follows from their role."""

    role = models.CharField(max_length=32, choices=Role.choices, default=Role.VIEWER)

    class Meta:
        ordering = ["username"]

    def __str__(self) -> str:
        return self.get_full_name() or self.username


class ApiToken(models.Model):
    """A machine credential (CI/CD, Kubernetes, AI services), limited to its scopes.

    Only the SHA-256 of the secret is stored; the token is shown once, when it is created.
    Tokens are revoked, never deleted, so audit events keep naming them.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=500, blank=True)
    prefix = models.CharField(max_length=16, unique=True, help_text="Shown to tell tokens apart")
    secret_hash = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(default=list)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None
