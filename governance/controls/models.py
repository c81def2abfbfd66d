"""Control frameworks: NIST AI RMF 1.0 functions, categories and subcategories."""

from django.db import models


class Framework(models.Model):
    """A published framework at one version, e.g. NIST AI RMF 1.0."""

    slug = models.SlugField(max_length=80, unique=True)
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
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["category__function__position", "category__position", "position"]
        verbose_name_plural = "subcategories"
        constraints = [
            models.UniqueConstraint(fields=["category", "code"], name="controls_subcategory_unique")
        ]

    def __str__(self) -> str:
        return self.code
