"""Inbound webhook deliveries, kept to refuse replays and to follow their processing."""

from django.db import models
from django.db.models.functions import Lower

from governance.inventory.models import Environment


class DeliveryStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    PENDING = "pending", "Pending retry"
    APPROVED = "approved", "Answered: approved"
    REJECTED = "rejected", "Answered: rejected"
    FAILED = "failed", "Failed"


# Answered: the review is posted to GitHub; a redelivery is acknowledged, never posted again.
ANSWERED = frozenset({DeliveryStatus.APPROVED, DeliveryStatus.REJECTED})


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
    attempts = models.PositiveSmallIntegerField(default=0, help_text="Reviews tried")
    redeliveries = models.PositiveSmallIntegerField(
        default=0, help_text="Times the sender delivered the same id again"
    )
    last_error = models.CharField(max_length=500, blank=True)
    next_retry_at = models.DateTimeField(null=True, blank=True, db_index=True)

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


class OutboundEvent(models.TextChoices):
    RELEASE_SUBMITTED = "release.submitted", "Release submitted"
    RELEASE_APPROVED = "release.approved", "Release approved"
    RELEASE_REJECTED = "release.rejected", "Release rejected"
    RELEASE_DEPLOYED = "release.deployed", "Release deployed"
    RELEASE_ROLLED_BACK = "release.rolled_back", "Release rolled back"


class WebhookSubscription(models.Model):
    """Where to send which outbound events, signed per Standard Webhooks with ``secret``."""

    name = models.CharField(max_length=100)
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=100, help_text="whsec_<base64>, shown once")
    events = models.JSONField(default=list, help_text="Event types; empty means none")
    active = models.BooleanField(default=True)
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} → {self.url}"


class OutboundStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed (gave up)"


class OutboundDelivery(models.Model):
    """One event for one subscription: its payload, every attempt's outcome, the next retry."""

    message_id = models.CharField(max_length=64, unique=True, help_text="webhook-id")
    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.PROTECT, related_name="deliveries"
    )
    event = models.CharField(max_length=50, choices=OutboundEvent.choices)
    payload = models.JSONField()
    status = models.CharField(
        max_length=16, choices=OutboundStatus.choices, default=OutboundStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    next_retry_at = models.DateTimeField(null=True, blank=True, db_index=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.event} → {self.subscription.name} ({self.status})"


class MappingSource(models.TextChoices):
    NAMESPACE = "namespace", "Kubernetes namespace"
    GITHUB = "github", "GitHub environment"


class EnvironmentMapping(models.Model):
    """A Kubernetes namespace or a GitHub environment name, mapped to a product environment
    (``prod-eus`` and ``Production`` -> production). Names match case-insensitively. A governed
    namespace also refuses workloads that name no AI system, so removing the labels is no way
    around the gate."""

    source = models.CharField(max_length=16, choices=MappingSource.choices)
    name = models.CharField(max_length=253)
    environment = models.CharField(max_length=32, choices=Environment.choices)
    governed = models.BooleanField(
        default=False, help_text="Namespaces: workloads that name no AI system are refused"
    )
    updated_by = models.CharField(max_length=150)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["source", "name"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                "source",
                name="webhooks_mapping_unique_name",
                violation_error_message="This name is already mapped.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_source_display()} {self.name} → {self.environment}"
