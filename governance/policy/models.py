"""Versioned Rego policies and the log of every decision taken with them."""

import uuid

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone


class VersionStatus(models.TextChoices):
    CANDIDATE = "candidate", "Candidate"
    ACTIVE = "active", "Active"
    SHADOW = "shadow", "Shadow (dry run)"
    RETIRED = "retired", "Retired"


class PolicyVersion(models.Model):
    """One immutable set of Rego modules and policy data, identified by its content hash.

    At most one version is active (it decides) and at most one runs in shadow beside it (its
    disagreements are recorded, like Gatekeeper's dry run). Editing creates a new version.
    """

    number = models.PositiveIntegerField(unique=True)
    modules = models.JSONField(help_text="{file name: Rego source}, tests included")
    data = models.JSONField(help_text="Mounted at data.policy", encoder=DjangoJSONEncoder)
    content_hash = models.CharField(max_length=64, unique=True)
    status = models.CharField(
        max_length=16, choices=VersionStatus.choices, default=VersionStatus.CANDIDATE
    )
    note = models.CharField(max_length=500, blank=True, help_text="What changed, and why")
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)
    activated_by = models.CharField(max_length=150, blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    test_results = models.JSONField(default=list, blank=True)
    tests_passed = models.BooleanField(null=True, help_text="None: the tests could not run")

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["status"],
                condition=models.Q(status="active"),
                name="policy_one_active_version",
                violation_error_message="Another policy version is already active.",
            ),
            models.UniqueConstraint(
                fields=["status"],
                condition=models.Q(status="shadow"),
                name="policy_one_shadow_version",
                violation_error_message="Another policy version already runs in shadow.",
            ),
        ]

    def __str__(self) -> str:
        return f"v{self.number} ({self.content_hash[:12]})"

    @property
    def policy_modules(self) -> dict[str, str]:
        """The modules that decide; `*_test.rego` files are for the test runner only."""
        return {n: s for n, s in self.modules.items() if not n.endswith("_test.rego")}


class Endpoint(models.TextChoices):
    API = "api", "API"
    KUBERNETES = "k8s", "Kubernetes admission"
    GITHUB = "github", "GitHub deployment protection"
    UI = "ui", "Web UI (try a decision)"
    MLFLOW = "mlflow", "MLflow registry alias"
    SAGEMAKER = "sagemaker", "SageMaker model package"


class Engine(models.TextChoices):
    EMBEDDED = "embedded", "Embedded (regopy)"
    OPA = "opa", "OPA server"


class Decision(models.Model):
    """One answer to "may this model version go to this environment now?", as OPA's decision
    log records it: id, time, input (secrets masked), result, policy version and hash, engine,
    latency and caller."""

    decision_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)
    endpoint = models.CharField(max_length=16, choices=Endpoint.choices)
    caller = models.CharField(max_length=200, help_text="user:… or token:… or webhook:…")
    request_id = models.CharField(max_length=128, blank=True)
    system_slug = models.CharField(max_length=80, db_index=True)
    model_version = models.CharField(max_length=64)
    environment = models.CharField(max_length=32)
    input = models.JSONField(encoder=DjangoJSONEncoder)
    allow = models.BooleanField()
    violations = models.JSONField(default=list)
    policy_version = models.ForeignKey(
        PolicyVersion, on_delete=models.PROTECT, null=True, related_name="decisions"
    )
    policy_hash = models.CharField(max_length=64, blank=True)
    engine = models.CharField(max_length=16, choices=Engine.choices)
    latency_ms = models.FloatField(help_text="Engine time, milliseconds")
    error = models.TextField(blank=True, help_text="Why the engine could not decide")
    fail_open = models.BooleanField(default=False)
    dry_run = models.BooleanField(
        default=False,
        help_text="Answered like a real request, but never counts as allowed into anywhere",
    )

    class Meta:
        ordering = ["-occurred_at"]
        indexes = [
            models.Index(fields=["system_slug", "environment", "-occurred_at"]),
            models.Index(fields=["allow", "-occurred_at"]),
        ]

    def __str__(self) -> str:
        verdict = "allow" if self.allow else "deny"
        return f"{verdict} {self.system_slug}@{self.model_version} → {self.environment}"

    @property
    def denials(self) -> list[dict]:
        return [v for v in self.violations if v.get("severity") == "deny"]

    @property
    def warnings(self) -> list[dict]:
        return [v for v in self.violations if v.get("severity") != "deny"]


class ShadowResult(models.Model):
    """Where a shadow version disagreed with the active one on a decision."""

    decision = models.OneToOneField(Decision, on_delete=models.CASCADE, related_name="shadow")
    policy_version = models.ForeignKey(PolicyVersion, on_delete=models.PROTECT, related_name="+")
    allow = models.BooleanField(null=True, help_text="None: the shadow version errored")
    violations = models.JSONField(default=list)
    error = models.TextField(blank=True)
    added = models.JSONField(default=list, help_text="Violation codes only the shadow found")
    removed = models.JSONField(default=list, help_text="Violation codes only the active found")

    class Meta:
        ordering = ["-decision__occurred_at"]

    def __str__(self) -> str:
        return f"shadow v{self.policy_version.number} on {self.decision.decision_id}"


class AllowedVersion(models.Model):
    """When a real (not dry-run) decision last allowed a model version into an environment.

    The decision log answers the same question, but only by scanning every decision of the
    version being checked; this row per (system, environment, version) is written with each
    allowing decision, so "the version this one replaces" is one indexed read, as fresh as
    the log itself."""

    system_slug = models.CharField(max_length=80)
    environment = models.CharField(max_length=32)
    model_version = models.CharField(max_length=64)
    last_allowed_at = models.DateTimeField()
    decision_id = models.UUIDField(help_text="The last allowing decision")

    class Meta:
        ordering = ["-last_allowed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["system_slug", "environment", "model_version"],
                name="policy_allowed_version_unique",
            )
        ]
        indexes = [
            models.Index(
                fields=["system_slug", "environment", "-last_allowed_at"],
                name="policy_allowed_latest",
            )
        ]

    def __str__(self) -> str:
        return f"{self.system_slug}@{self.model_version} → {self.environment}"
