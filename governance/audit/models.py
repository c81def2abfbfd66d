"""The append-only, hash-chained audit log."""

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

GENESIS_HASH = "0" * 64


class AuditEvent(models.Model):
    """One change: who, what, when, why. Database triggers refuse UPDATE and DELETE.

    ``hash`` is SHA-256 over ``prev_hash`` followed by the event's canonical JSON (see
    canonical.py), so editing or removing any row breaks every later link.
    """

    sequence = models.PositiveBigIntegerField(unique=True, editable=False)
    occurred_at = models.DateTimeField(db_index=True, editable=False)
    # who
    actor_type = models.CharField(max_length=16)
    actor_id = models.CharField(max_length=64, blank=True)
    actor_name = models.CharField(max_length=150, db_index=True)
    ip = models.CharField(max_length=45, blank=True)  # text: hashed exactly as written
    user_agent = models.CharField(max_length=512, blank=True)
    request_id = models.CharField(max_length=128, blank=True)
    # what
    action = models.CharField(max_length=100, db_index=True)
    target_type = models.CharField(max_length=100, blank=True)
    target_id = models.CharField(max_length=255, blank=True)
    target_repr = models.CharField(max_length=255, blank=True)
    before = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    after = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    # why
    reason = models.TextField(blank=True)
    # chain
    prev_hash = models.CharField(max_length=64, editable=False)
    hash = models.CharField(max_length=64, unique=True, editable=False)

    class Meta:
        ordering = ["-sequence"]
        indexes = [models.Index(fields=["target_type", "target_id"], name="audit_target_idx")]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.action} by {self.actor_name}"


class AuditChainHead(models.Model):
    """The single row that appends lock, holding the last sequence number and hash."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    sequence = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64, default=GENESIS_HASH)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="audit_single_head")]

    def __str__(self) -> str:
        return f"head #{self.sequence}"


class AuditChainVerification(models.Model):
    """The outcome of one walk of the chain (scheduled in Celery beat, or on demand)."""

    verified_at = models.DateTimeField(auto_now_add=True)
    ok = models.BooleanField()
    events_checked = models.PositiveBigIntegerField()
    head_sequence = models.PositiveBigIntegerField()
    first_bad_sequence = models.PositiveBigIntegerField(null=True, blank=True)
    problem = models.TextField(blank=True)

    class Meta:
        ordering = ["-verified_at"]

    def __str__(self) -> str:
        state = "ok" if self.ok else f"broken at #{self.first_bad_sequence}"
        return f"verification {self.verified_at:%Y-%m-%d %H:%M} {state}"
