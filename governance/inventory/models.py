"""AI systems, their model versions and datasets: what runs, who owns it, how risky it is."""

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

from governance.core.models import TimeStampedModel

slug_validator = RegexValidator(
    r"^[a-z0-9]+(?:-[a-z0-9]+)*$", "Use lowercase letters, digits and single hyphens."
)
sha256_validator = RegexValidator(r"^[0-9a-f]{64}$", "A SHA-256 is 64 lowercase hex digits.")
commit_validator = RegexValidator(r"^[0-9a-f]{7,40}$", "A commit SHA is 7 to 40 hex digits.")


class RiskTier(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


RISK_ORDER = {RiskTier.LOW: 0, RiskTier.MEDIUM: 1, RiskTier.HIGH: 2, RiskTier.CRITICAL: 3}


class LifecycleStage(models.TextChoices):
    DESIGN = "design", "Design"
    DEVELOPMENT = "development", "Development"
    VALIDATION = "validation", "Validation"
    PRODUCTION = "production", "Production"
    RETIRED = "retired", "Retired"


class DataCategory(models.TextChoices):
    PERSONAL = "personal", "Personal data"
    SENSITIVE = "sensitive", "Sensitive categories (health, biometrics, beliefs…)"
    FINANCIAL = "financial", "Financial data"
    CHILDREN = "children", "Children's data"
    CONFIDENTIAL = "confidential", "Confidential business data"
    PUBLIC = "public", "Public data only"


class Environment(models.TextChoices):
    DEVELOPMENT = "development", "Development"
    STAGING = "staging", "Staging"
    PRODUCTION = "production", "Production"


class AISystem(TimeStampedModel):
    """A registered AI system: a classic ML model or an LLM application with its owners."""

    slug = models.SlugField(max_length=80, unique=True, validators=[slug_validator])
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="owned_systems",
        verbose_name="business owner",
    )
    technical_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="technical_systems",
        null=True,
        blank=True,
    )
    oncall_team = models.CharField("on-call team", max_length=100, blank=True)
    risk_tier = models.CharField(max_length=16, choices=RiskTier.choices)
    risk_rationale = models.TextField(blank=True)
    lifecycle_stage = models.CharField(
        max_length=16, choices=LifecycleStage.choices, default=LifecycleStage.DESIGN
    )
    intended_use = models.TextField(blank=True)
    out_of_scope_uses = models.TextField("out-of-scope uses", blank=True)
    data_categories = models.JSONField(default=list, blank=True)
    deployment_environments = models.JSONField(default=list, blank=True)
    is_genai = models.BooleanField("Generative AI", default=False)
    tags = models.JSONField(default=list, blank=True, help_text="e.g. eu-ai-act:high-risk")
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "AI system"

    def __str__(self) -> str:
        return self.name


class DataClassification(models.TextChoices):
    PUBLIC = "public", "Public"
    INTERNAL = "internal", "Internal"
    CONFIDENTIAL = "confidential", "Confidential"
    RESTRICTED = "restricted", "Restricted"


class Dataset(TimeStampedModel):
    """A dataset that trains or evaluates models, with its owner, classification and lineage."""

    slug = models.SlugField(max_length=80, unique=True, validators=[slug_validator])
    name = models.CharField(max_length=200)
    source = models.CharField(max_length=500, help_text="Where it comes from (system, vendor, URI)")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_datasets"
    )
    classification = models.CharField(max_length=16, choices=DataClassification.choices)
    lineage_uri = models.URLField("provenance / lineage link", max_length=500, blank=True)
    description = models.TextField(blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Framework(models.TextChoices):
    PYTORCH = "pytorch", "PyTorch"
    TENSORFLOW = "tensorflow", "TensorFlow / Keras"
    SKLEARN = "sklearn", "scikit-learn"
    XGBOOST = "xgboost", "XGBoost / LightGBM"
    SPARK_MLLIB = "spark-mllib", "Spark MLlib"
    HUGGINGFACE = "huggingface", "Hugging Face"
    LLM_PROVIDER = "llm-provider", "LLM provider (hosted)"
    OTHER = "other", "Other"


class ArtifactFormat(models.TextChoices):
    ONNX = "onnx", "ONNX"
    SAVEDMODEL = "savedmodel", "TensorFlow SavedModel"
    TORCHSCRIPT = "torchscript", "TorchScript"
    SAFETENSORS = "safetensors", "safetensors"
    PICKLE = "pickle", "pickle / joblib"
    MLFLOW = "mlflow", "MLflow model"
    PROVIDER_HOSTED = "provider-hosted", "Provider-hosted"
    KERAS = "keras", "Keras v3"
    SKOPS = "skops", "skops"
    SPACY = "spacy", "spaCy pipeline"
    SPARK_MLLIB = "spark-mllib", "Spark MLlib saved model"
    BENTOML = "bentoml", "BentoML"


# The minimum metadata contract between training and the registry; a version missing any of it
# is registered but marked incomplete, and deployment policies refuse it.
REQUIRED_METADATA = {
    "datasets": "training data snapshot",
    "code_commit_sha": "code commit SHA",
    "parameters": "parameters",
    "evaluation": "evaluation summary",
}


class ModelVersion(models.Model):
    """One trained (or configured) version of a system's model, with its provenance."""

    system = models.ForeignKey(AISystem, on_delete=models.PROTECT, related_name="versions")
    version = models.CharField(max_length=64)
    framework = models.CharField(max_length=32, choices=Framework.choices)
    framework_version = models.CharField(max_length=32, blank=True)
    artifact_uri = models.CharField(max_length=500, blank=True)
    artifact_format = models.CharField(max_length=32, choices=ArtifactFormat.choices)
    artifact_sha256 = models.CharField(max_length=64, blank=True, validators=[sha256_validator])
    code_commit_sha = models.CharField(max_length=40, blank=True, validators=[commit_validator])
    datasets = models.ManyToManyField(Dataset, blank=True, related_name="model_versions")
    parameters = models.JSONField(default=dict, blank=True)
    evaluation = models.JSONField(
        default=list, blank=True, help_text="[{metric, value, threshold, dataset}]"
    )
    inference_signature = models.JSONField(default=dict, blank=True, help_text="{inputs, outputs}")
    prompt_version = models.CharField(max_length=64, blank=True)
    artifact = models.JSONField(
        default=dict, blank=True, help_text="What the artifact inspector read from the model files"
    )
    tool_versions = models.JSONField(default=dict, blank=True)
    missing_metadata = models.JSONField(
        default=list, blank=True, help_text="Kept by the service: what the contract still lacks"
    )
    registered_by = models.CharField(max_length=150)
    registered_at = models.DateTimeField(auto_now_add=True)
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["system", "-registered_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["system", "version"],
                name="inventory_version_unique_per_system",
                violation_error_message="This system already has a version with that name.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.system.slug}@{self.version}"

    @property
    def is_complete(self) -> bool:
        return not self.missing_metadata
