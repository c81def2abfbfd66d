"""Control frameworks: NIST AI RMF 1.0 functions, categories and subcategories."""

from django.db import models
from django.urls import reverse


class Applicability(models.TextChoices):
    RISK_TIER = "risk_tier", "By the system's risk tier (the applicability profile)"
    CLASSIFICATION = "classification", "By the system's classification under the framework"


class Framework(models.Model):
    """A published framework at one version, e.g. NIST AI RMF 1.0 or the EU AI Act."""

    slug = models.SlugField(max_length=80, unique=True)
    short_name = models.CharField(max_length=40, blank=True)
    applicability = models.CharField(
        max_length=16, choices=Applicability.choices, default=Applicability.RISK_TIER
    )
    name = models.CharField(max_length=200)
    version = models.CharField(max_length=32)
    publication = models.CharField(max_length=200, blank=True)
    source = models.TextField(blank=True)
    loaded_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "version"]

    def __str__(self) -> str:
        return f"{self.name} {self.version}"


class ControlFunction(models.Model):
    """GOVERN, MAP, MEASURE, MANAGE."""

    framework = models.ForeignKey(Framework, on_delete=models.CASCADE, related_name="functions")
    code = models.CharField(max_length=32)
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["framework", "position"]
        constraints = [
            models.UniqueConstraint(fields=["framework", "code"], name="controls_function_unique")
        ]

    def __str__(self) -> str:
        return self.code


class ControlCategory(models.Model):
    """A category such as GOVERN 1, with its official statement."""

    function = models.ForeignKey(
        ControlFunction, on_delete=models.CASCADE, related_name="categories"
    )
    code = models.CharField(max_length=32)
    title = models.TextField()
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["function__position", "position"]
        verbose_name_plural = "control categories"
        constraints = [
            models.UniqueConstraint(fields=["function", "code"], name="controls_category_unique")
        ]

    def __str__(self) -> str:
        return self.code


class Subcategory(models.Model):
    """An outcome such as GOVERN 1.1, with its AI RMF Playbook guidance."""

    category = models.ForeignKey(
        ControlCategory, on_delete=models.CASCADE, related_name="subcategories"
    )
    code = models.CharField(max_length=32, db_index=True)
    text = models.TextField()
    guidance = models.JSONField(
        default=dict, help_text="Playbook: suggested actions, documentation…"
    )
    applies_to = models.JSONField(
        default=dict,
        blank=True,
        help_text="Classification frameworks: the roles and conditions an obligation binds",
    )
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["category__function__position", "category__position", "position"]
        verbose_name_plural = "subcategories"
        constraints = [
            models.UniqueConstraint(fields=["category", "code"], name="controls_subcategory_unique")
        ]

    def __str__(self) -> str:
        return self.code


class GenAIRisk(models.Model):
    """One of the 12 risks of the NIST AI 600-1 Generative AI Profile."""

    code = models.SlugField(max_length=64, unique=True)
    number = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=200)
    description = models.TextField()

    class Meta:
        ordering = ["number"]
        verbose_name = "GenAI risk"

    def __str__(self) -> str:
        return self.title

    @property
    def object_url(self) -> str:
        """Where a linked object is shown, for the kinds that have a page."""
        if self.object_type == "policy.decision":
            return reverse("policy:decision-detail", args=[self.object_id])
        if self.object_type == "inventory.modelversion":
            return reverse("inventory:system-detail", args=[self.object_id.partition("@")[0]])
        return ""


class GenAIAction(models.Model):
    """A NIST AI 600-1 suggested action (GV-1.1-001 …), applied to generative AI systems."""

    code = models.CharField(max_length=32, unique=True)
    subcategory = models.ForeignKey(
        Subcategory, on_delete=models.CASCADE, related_name="genai_actions"
    )
    text = models.TextField()
    risks = models.ManyToManyField(GenAIRisk, related_name="actions")

    class Meta:
        ordering = ["code"]
        verbose_name = "GenAI action"

    def __str__(self) -> str:
        return self.code


class TierRequirement(models.Model):
    """The applicability profile: which subcategories a system of a risk tier must implement."""

    risk_tier = models.CharField(max_length=16)
    subcategory = models.ForeignKey(
        Subcategory, on_delete=models.CASCADE, related_name="tier_requirements"
    )

    class Meta:
        ordering = ["risk_tier", "subcategory"]
        constraints = [
            models.UniqueConstraint(
                fields=["risk_tier", "subcategory"], name="controls_tier_req_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.risk_tier}: {self.subcategory}"


class ControlStatus(models.TextChoices):
    NOT_STARTED = "not_started", "Not started"
    IN_PROGRESS = "in_progress", "In progress"
    IMPLEMENTED = "implemented", "Implemented"
    NOT_APPLICABLE = "not_applicable", "Not applicable"


class ControlImplementation(models.Model):
    """How one AI system meets one subcategory: status, owner, how, and when it was reviewed.

    A missing row means "not started"; rows are created on the first change.
    """

    system = models.ForeignKey(
        "inventory.AISystem", on_delete=models.PROTECT, related_name="control_implementations"
    )
    subcategory = models.ForeignKey(
        Subcategory, on_delete=models.PROTECT, related_name="implementations"
    )
    status = models.CharField(
        max_length=16, choices=ControlStatus.choices, default=ControlStatus.NOT_STARTED
    )
    owner = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    implementation = models.TextField("how it is implemented", blank=True)
    justification = models.TextField(blank=True, help_text="Required when not applicable")
    last_reviewed_at = models.DateField(null=True, blank=True)
    next_review_at = models.DateField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["system", "subcategory"]
        constraints = [
            models.UniqueConstraint(fields=["system", "subcategory"], name="controls_impl_unique"),
            models.CheckConstraint(
                condition=~models.Q(status="not_applicable") | ~models.Q(justification=""),
                name="controls_na_needs_justification",
                violation_error_message="Not applicable needs a justification.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.system} · {self.subcategory}: {self.status}"


class EvidenceKind(models.TextChoices):
    FILE = "file", "File"
    URL = "url", "URL"
    OBJECT = "object", "Object in this product"


def evidence_path(instance: "Evidence", filename: str) -> str:
    return f"evidence/{instance.sha256[:2]}/{instance.sha256}/{filename}"


class Evidence(models.Model):
    """Proof for a control implementation: an uploaded file (hashed), a URL, or a link to an
    object here (a policy decision, an approval, an incident)."""

    implementation = models.ForeignKey(
        ControlImplementation, on_delete=models.PROTECT, related_name="evidence"
    )
    kind = models.CharField(max_length=8, choices=EvidenceKind.choices)
    title = models.CharField(max_length=200)
    file = models.FileField(upload_to=evidence_path, blank=True, max_length=400)
    sha256 = models.CharField(max_length=64, blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    url = models.URLField(max_length=1000, blank=True)
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=255, blank=True)
    added_by = models.CharField(max_length=150)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-added_at"]
        verbose_name_plural = "evidence"

    def __str__(self) -> str:
        return self.title

    @property
    def object_url(self) -> str:
        """Where a linked object is shown, for the kinds that have a page."""
        if self.object_type == "policy.decision":
            return reverse("policy:decision-detail", args=[self.object_id])
        if self.object_type == "inventory.modelversion":
            return reverse("inventory:system-detail", args=[self.object_id.partition("@")[0]])
        return ""


class CrosswalkLink(models.Model):
    """Our mapping between two frameworks: this obligation (e.g. EU AI Act Art. 9) is
    evidenced by that subcategory (e.g. NIST AI RMF MANAGE 1.1). Shipped as data, edited by
    admins with a reason."""

    source = models.ForeignKey(Subcategory, on_delete=models.CASCADE, related_name="crosswalk")
    target = models.ForeignKey(Subcategory, on_delete=models.CASCADE, related_name="crosswalk_from")

    class Meta:
        ordering = ["source", "target"]
        constraints = [
            models.UniqueConstraint(fields=["source", "target"], name="controls_crosswalk_unique"),
            models.CheckConstraint(
                condition=~models.Q(source=models.F("target")),
                name="controls_crosswalk_not_self",
                violation_error_message="A control cannot map to itself.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source} -> {self.target}"


class AIActRiskClass(models.TextChoices):
    PROHIBITED = "prohibited", "Prohibited practice (Art. 5)"
    HIGH_RISK = "high_risk", "High-risk (Art. 6)"
    LIMITED_RISK = "limited_risk", "Limited risk: transparency obligations (Art. 50)"
    MINIMAL_RISK = "minimal_risk", "Minimal risk"


class AIActRole(models.TextChoices):
    PROVIDER = "provider", "Provider"
    DEPLOYER = "deployer", "Deployer"
    PROVIDER_AND_DEPLOYER = "provider_and_deployer", "Provider and deployer"


class AIActClassification(models.Model):
    """An AI system's classification under Regulation (EU) 2024/1689 and the organisation's
    role, with the answers it was derived from and the reasons. The current one; every change
    is in the audit log with before and after."""

    system = models.OneToOneField(
        "inventory.AISystem", on_delete=models.PROTECT, related_name="ai_act_classification"
    )
    risk_class = models.CharField(max_length=16, choices=AIActRiskClass.choices)
    role = models.CharField(max_length=24, choices=AIActRole.choices)
    prohibited_practice = models.CharField(max_length=8, blank=True)
    annex_iii_area = models.CharField(max_length=8, blank=True)
    annex_i_product = models.BooleanField(default=False)
    transparency = models.JSONField(default=list, blank=True)  # Art. 50 situations that apply
    gpai_model = models.BooleanField("general-purpose AI model", default=False)
    gpai_systemic_risk = models.BooleanField("GPAI model with systemic risk", default=False)
    public_service_deployer = models.BooleanField(
        default=False, help_text="Deployer is a public body or provides public services (Art. 27)"
    )
    reasons = models.TextField()
    classified_by = models.CharField(max_length=150)
    classified_at = models.DateTimeField()

    class Meta:
        ordering = ["system"]
        verbose_name = "AI Act classification"
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(reasons=""),
                name="controls_aiact_needs_reasons",
                violation_error_message="A classification needs its reasons.",
            ),
            models.CheckConstraint(
                condition=~models.Q(risk_class="prohibited") | ~models.Q(prohibited_practice=""),
                name="controls_aiact_prohibited_names_practice",
                violation_error_message="A prohibited classification names the Art. 5 practice.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.system}: {self.get_risk_class_display()}"
