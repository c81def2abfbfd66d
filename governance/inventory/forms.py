"""Forms of the inventory pages: register and edit a system, register a dataset and a model
version (with its evaluation rows), archive with a reason."""

import json
from typing import Any

from django import forms

from governance.accounts.models import User
from governance.inventory.models import (
    AISystem,
    ArtifactFormat,
    DataCategory,
    Dataset,
    Environment,
    Framework,
    commit_validator,
    sha256_validator,
)

EVALUATION_ROWS = 5


def _people() -> Any:
    return User.objects.filter(is_active=True).order_by("username")


class AISystemForm(forms.ModelForm):
    owner = forms.ModelChoiceField(queryset=_people(), label="Business owner")

    class Meta:
        model = AISystem
        fields = [
            "name",
            "slug",
            "description",
            "owner",
            "risk_tier",
            "lifecycle_stage",
            "is_genai",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "risk_rationale": forms.Textarea(attrs={"rows": 2}),
            "intended_use": forms.Textarea(attrs={"rows": 2}),
            "out_of_scope_uses": forms.Textarea(attrs={"rows": 2}),
        }

    data_categories = forms.MultipleChoiceField(
        choices=DataCategory.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    deployment_environments = forms.MultipleChoiceField(
        choices=Environment.choices, required=False, widget=forms.CheckboxSelectMultiple
    )


class AISystemEditForm(forms.ModelForm):
    """Everything but the identifier; the service wants a reason when the tier changes."""

    owner = forms.ModelChoiceField(queryset=_people(), label="Business owner")
    technical_owner = forms.ModelChoiceField(queryset=_people(), required=False)
    data_categories = forms.MultipleChoiceField(
        choices=DataCategory.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    deployment_environments = forms.MultipleChoiceField(
        choices=Environment.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    tags = forms.CharField(required=False, help_text="Comma-separated, e.g. eu-ai-act:high-risk")
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=2000,
        help_text="Why you change it (recorded in the audit log; required when the tier changes)",
    )

    class Meta:
        model = AISystem
        fields = [
            "name",
            "description",
            "owner",
            "technical_owner",
            "oncall_team",
            "risk_tier",
            "risk_rationale",
            "lifecycle_stage",
            "intended_use",
            "out_of_scope_uses",
            "is_genai",
        ]
        widgets = AISystemForm.Meta.widgets

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["tags"] = ", ".join(self.instance.tags)

    def clean_tags(self) -> list[str]:
        return [t.strip() for t in self.cleaned_data["tags"].split(",") if t.strip()]

    def changes(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("reason")
        return data


class DatasetForm(forms.ModelForm):
    owner = forms.ModelChoiceField(queryset=_people())
    lineage_uri = forms.URLField(
        label="Provenance / lineage link", max_length=500, required=False, assume_scheme="https"
    )

    class Meta:
        model = Dataset
        fields = ["name", "slug", "source", "owner", "classification", "lineage_uri", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}


class JSONField(forms.CharField):
    """A JSON object typed into a textarea; empty means {}."""

    widget = forms.Textarea(attrs={"rows": 3, "class": "mono"})

    def to_python(self, value: Any) -> Any:
        text = (super().to_python(value) or "").strip()
        if not text:
            return {}
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(
                f"Not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}."
            ) from exc
        if not isinstance(data, dict):
            raise forms.ValidationError('Give a JSON object, e.g. {"max_depth": 6}.')
        return data

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, dict):
            return json.dumps(value, indent=2) if value else ""
        return value


class ModelVersionForm(forms.Form):
    """A version's provenance; initial values may come from a query string or an inspected
    artifact (the registry pages reuse this form)."""

    version = forms.CharField(max_length=64, help_text="e.g. 3.2.0")
    framework = forms.ChoiceField(choices=Framework.choices)
    framework_version = forms.CharField(max_length=32, required=False)
    artifact_uri = forms.CharField(
        label="Artifact URI", max_length=500, required=False, help_text="e.g. s3://models/churn/3.2"
    )
    artifact_format = forms.ChoiceField(choices=ArtifactFormat.choices)
    artifact_sha256 = forms.CharField(
        label="Artifact SHA-256", max_length=64, required=False, validators=[sha256_validator]
    )
    code_commit_sha = forms.CharField(
        label="Code commit SHA", max_length=40, required=False, validators=[commit_validator]
    )
    datasets = forms.ModelMultipleChoiceField(
        queryset=Dataset.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        to_field_name="slug",
        help_text="The training data snapshot(s)",
    )
    parameters = JSONField(required=False, help_text="Hyperparameters as a JSON object")
    inference_signature = JSONField(required=False, help_text='{"inputs": [...], "outputs": [...]}')
    prompt_version = forms.CharField(max_length=64, required=False, help_text="LLM apps")
    tool_versions = JSONField(required=False, help_text='LLM apps, e.g. {"search": "2.1"}')

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["datasets"].queryset = Dataset.objects.filter(
            archived_at__isnull=True
        ).order_by("name")
        for name in ("artifact_sha256", "code_commit_sha"):
            self.fields[name].widget.attrs.update({"class": "mono", "spellcheck": "false"})


class EvaluationRowForm(forms.Form):
    metric = forms.CharField(max_length=64, required=False)
    value = forms.FloatField(required=False)
    threshold = forms.FloatField(required=False, help_text="the bar it must meet")
    dataset = forms.CharField(max_length=80, required=False, label="On dataset")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if (data.get("value") is not None or data.get("threshold") is not None) and not data.get(
            "metric"
        ):
            self.add_error("metric", "Name the metric.")
        if data.get("metric") and data.get("value") is None:
            self.add_error("value", "Give the measured value.")
        return data

    def row(self) -> dict[str, Any] | None:
        data = self.cleaned_data
        if not data.get("metric"):
            return None
        row = {"metric": data["metric"], "value": data["value"]}
        if data.get("threshold") is not None:
            row["threshold"] = data["threshold"]
        if data.get("dataset"):
            row["dataset"] = data["dataset"]
        return row


EvaluationFormSet = forms.formset_factory(EvaluationRowForm, extra=EVALUATION_ROWS, max_num=20)


class ArchiveForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        help_text="Why it leaves the lists (recorded in the audit log)",
    )
