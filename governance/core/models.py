"""Shared base models and the idempotency record behind the Idempotency-Key header."""

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models


class TimeStampedModel(models.Model):
    """Creation and last-change times, server UTC."""

    created_at = models.DateTimeField(auto_now_add=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True, editable=False)

    class Meta:
        abstract = True


class IdempotencyRecord(models.Model):
    """The first response to a state-changing POST sent with an Idempotency-Key.

    Keys are scoped to the caller (a user or an API token): two callers may use the same key.
    """

    owner = models.CharField(max_length=64, help_text="user:<id> or token:<uuid>")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=512)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of method, path and body")
    status_code = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "key"],
                name="idempotency_unique_owner_key",
                violation_error_message="This Idempotency-Key was already used.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.owner} {self.key} -> {self.status_code}"


class OutboxMessage(models.Model):
    """A task a change queued, written in that change's transaction (a transactional outbox).

    The database is the source of truth for queued work: the broker message is only a wake-up.
    A message is published after commit and again by the sweeper while nobody has claimed it,
    so a broker that was down or lost its messages delays the work, never drops it. A worker
    claims the message before running it (one claim at a time) and marks it done after.
    """

    task = models.CharField(max_length=200, help_text="Celery task name")
    args = models.JSONField(default=list, encoder=DjangoJSONEncoder)
    kwargs = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(auto_now_add=True)
    available_at = models.DateTimeField(help_text="Not published before this time")
    published_at = models.DateTimeField(null=True, blank=True)
    publish_count = models.PositiveIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claim_count = models.PositiveIntegerField(default=0)
    done_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [
            # The sweeper's scan: what is not done yet, oldest first.
            models.Index(
                fields=["available_at"],
                name="core_outbox_pending",
                condition=models.Q(done_at__isnull=True),
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(done_at__isnull=True) | models.Q(claimed_at__isnull=False),
                name="core_outbox_done_was_claimed",
                violation_error_message="A message is done only after a worker claimed it.",
            )
        ]

    def __str__(self) -> str:
        return f"outbox {self.pk} {self.task}"
