"""Registry integrations an admin configures, what maps to what, and every delivery received."""

from django.db import models

from governance.inventory.models import AISystem, Environment, ModelVersion, slug_validator


class RegistryKind(models.TextChoices):
    MLFLOW = "mlflow", "MLflow"
    HUGGINGFACE = "huggingface", "Hugging Face Hub"
    SAGEMAKER = "sagemaker", "SageMaker Model Registry"


class Integration(models.Model):
    """One registry endpoint: where its API is, and the webhook secret it signs with.

    The secret is either named by an environment variable (``secret_env``) or stored sealed
    (Fernet, keyed from SECRET_KEY) in ``secret_sealed``; it is never shown back."""

    slug = models.SlugField(max_length=80, unique=True, validators=[slug_validator])
    kind = models.CharField(max_length=16, choices=RegistryKind.choices)
    name = models.CharField(max_length=200)
    endpoint = models.URLField(max_length=500, help_text="The registry's API base URL")
    secret_env = models.CharField(
        max_length=100, blank=True, help_text="Environment variable holding the webhook secret"
    )
    secret_sealed = models.TextField(blank=True, editable=False)
    token_env = models.CharField(
        max_length=100,
        blank=True,
        help_text="Environment variable holding the registry API token (Bearer), if it needs one",
    )
    active = models.BooleanField(default=True)
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"


class ModelMapping(models.Model):
    """Versions of this registry model are versions of that AI system."""

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="models")
    registry_model = models.CharField(max_length=300)
    system = models.ForeignKey(AISystem, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["registry_model"]
        constraints = [
            models.UniqueConstraint(
                fields=["integration", "registry_model"],
                name="integrations_model_mapping_unique",
                violation_error_message="This registry model is already mapped.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.registry_model} → {self.system.slug}"


class AliasMapping(models.Model):
    """Setting this alias in the registry is a deployment request to that environment."""

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="aliases")
    alias = models.CharField(max_length=100)
    environment = models.CharField(max_length=16, choices=Environment.choices)

    class Meta:
        ordering = ["alias"]
        constraints = [
            models.UniqueConstraint(
                fields=["integration", "alias"],
                name="integrations_alias_mapping_unique",
                violation_error_message="This alias is already mapped.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.alias} → {self.environment}"


class RegistryVersionLink(models.Model):
    """Which registry version a model version came from (for write-back and alias events)."""

    integration = models.ForeignKey(Integration, on_delete=models.PROTECT, related_name="links")
    registry_model = models.CharField(max_length=300)
    registry_version = models.CharField(max_length=64)
    registry_ref = models.CharField(
        max_length=2048, blank=True, help_text="The registry's own id, e.g. a model package ARN"
    )
    model_version = models.OneToOneField(
        ModelVersion, on_delete=models.PROTECT, related_name="registry_link"
    )

    class Meta:
        ordering = ["registry_model", "registry_version"]
        constraints = [
            models.UniqueConstraint(
                fields=["integration", "registry_model", "registry_version"],
                name="integrations_version_link_unique",
                violation_error_message="This registry version is already registered.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.registry_model} v{self.registry_version} = {self.model_version}"


class DeliveryStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    PROCESSED = "processed", "Processed"
    IGNORED = "ignored", "Ignored"
    FAILED = "failed", "Failed"


class RegistryDelivery(models.Model):
    """One signed webhook delivery from a registry, kept to refuse replays and to show what
    the product did with it."""

    integration = models.ForeignKey(
        Integration, on_delete=models.PROTECT, related_name="deliveries"
    )
    delivery_id = models.CharField(max_length=200)
    event = models.CharField(max_length=100)
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.RECEIVED
    )
    detail = models.TextField(blank=True)
    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decision = models.ForeignKey(
        "policy.Decision", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["integration", "delivery_id"],
                name="integrations_delivery_unique",
                violation_error_message="This delivery was already received.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.integration.slug} {self.event} {self.delivery_id} ({self.status})"


class WriteBackState(models.TextChoices):
    PENDING = "pending", "Pending"
    DONE = "done", "Done"
    FAILED = "failed", "Failed (gave up)"


class RegistryWriteBack(models.Model):
    """An approval status the product sets on a registry version (SageMaker's
    ``ModelApprovalStatus``): written before the call, so the call is retried until it is done,
    and remembered, so the registry's event about the product's own change is recognised."""

    integration = models.ForeignKey(
        Integration, on_delete=models.PROTECT, related_name="write_backs"
    )
    link = models.ForeignKey(
        RegistryVersionLink, on_delete=models.PROTECT, related_name="write_backs"
    )
    registry_ref = models.CharField(max_length=2048, help_text="e.g. the model package ARN")
    status = models.CharField(max_length=32, help_text="What the product sets, e.g. Approved")
    description = models.CharField(max_length=1024)
    cause = models.CharField(
        max_length=200, unique=True, help_text="What decided it: a release request or a decision"
    )
    release = models.ForeignKey(
        "releases.ReleaseRequest",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="registry_write_backs",
    )
    state = models.CharField(
        max_length=16, choices=WriteBackState.choices, default=WriteBackState.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.link} -> {self.status} ({self.state})"
