"""Inbound webhook deliveries, kept to refuse replays and to follow their processing."""

from django.db import models


class DeliveryStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    FAILED = "failed", "Failed"


class InboundDelivery(models.Model):
    """One signed delivery (a GitHub event, a Standard Webhooks message), by its id."""

    source = models.CharField(max_length=32, help_text="github or standard-webhooks")
    delivery_id = models.CharField(max_length=200)
    event = models.CharField(max_length=100, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    payload = models.JSONField(null=True, blank=True)
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.RECEIVED
    )
    detail = models.TextField(blank=True)
    decision = models.ForeignKey(
        "policy.Decision", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    callback_status = models.PositiveSmallIntegerField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "delivery_id"],
                name="webhooks_delivery_unique",
                violation_error_message="This delivery was already received.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.delivery_id} ({self.status})"
