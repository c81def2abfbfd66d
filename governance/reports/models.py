"""Compliance reports: what was asked, by whom, how far rendering got, and the stored PDF."""

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone


class ReportKind(models.TextChoices):
    SYSTEM = "system", "AI system compliance report"
    AUDIT = "audit", "Audit log report"
    PORTFOLIO = "portfolio", "Portfolio report"
    AI_ACT = "ai_act", "EU AI Act system report"
    SERIOUS_INCIDENT = "serious_incident", "Serious incident report (EU AI Act Art. 73)"


class ReportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Rendering"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


def report_path(instance: "Report", filename: str) -> str:
    return f"reports/{instance.public_id}/{filename}"


class Report(models.Model):
    """One requested PDF. Rendered by a Celery task; the record outlives its file.

    ``chain_sequence`` and ``chain_hash`` are the audit chain head when rendering began: the
    report prints them, so a reader can find that event in a verified JSONL export.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=16, choices=ReportKind.choices)
    title = models.CharField(max_length=300)
    parameters = models.JSONField(default=dict, help_text="system, since, until, filters")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    requested_by_name = models.CharField(max_length=150)
    requested_at = models.DateTimeField(auto_now_add=True, db_index=True)
    status = models.CharField(
        max_length=16, choices=ReportStatus.choices, default=ReportStatus.QUEUED
    )
    progress = models.PositiveSmallIntegerField(default=0)
    stage = models.CharField(max_length=100, blank=True, help_text="What rendering is doing")
    error = models.TextField(blank=True)
    # Each queueing (the request, every retry) is one attempt; a render task carries the
    # attempt it belongs to and can only finish or fail that one.
    attempts = models.PositiveSmallIntegerField(default=0)
    queued_at = models.DateTimeField(null=True, blank=True, help_text="Last queued")
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    file = models.FileField(upload_to=report_path, blank=True, max_length=300)
    sha256 = models.CharField(max_length=64, blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    pages = models.PositiveIntegerField(null=True, blank=True)
    outline = models.JSONField(default=list, blank=True, help_text="The PDF's bookmarks")
    chain_sequence = models.PositiveBigIntegerField(null=True, blank=True)
    chain_hash = models.CharField(max_length=64, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    removed_at = models.DateTimeField(null=True, blank=True, help_text="File removed by retention")

    class Meta:
        ordering = ["-requested_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(progress__lte=100),
                name="reports_progress_at_most_100",
                violation_error_message="Progress is a percentage.",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="done") | ~models.Q(sha256=""),
                name="reports_done_has_sha256",
                violation_error_message="A finished report has its SHA-256.",
            ),
        ]
        indexes = [models.Index(fields=["status", "heartbeat_at"])]

    def __str__(self) -> str:
        return f"{self.title} ({self.status})"

    @property
    def downloadable(self) -> bool:
        return self.status == ReportStatus.DONE and bool(self.file) and self.removed_at is None

    @property
    def queued_too_long(self) -> bool:
        """Queued and still unclaimed after OUTBOX_OVERDUE_SECONDS: no worker took it."""
        if self.status != ReportStatus.QUEUED:
            return False
        queued = self.queued_at or self.requested_at
        overdue = timedelta(seconds=settings.OUTBOX_OVERDUE_SECONDS)
        return queued is not None and timezone.now() - queued > overdue

    @property
    def retryable(self) -> bool:
        return self.status == ReportStatus.FAILED or self.queued_too_long
