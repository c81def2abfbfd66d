"""The two steps of "Register version from artifact": upload, then confirm the version."""

import json

from django import forms

from governance.inventory.models import AISystem, ArtifactFormat, Dataset, Framework


class ArtifactUploadForm(forms.Form):
    system = forms.ModelChoiceField(
        queryset=AISystem.objects.filter(archived_at__isnull=True), to_field_name="slug"
    )
    file = forms.FileField(help_text="A model file: MLmodel, safetensors, ONNX, .keras, pickle…")


class VersionFromArtifactForm(forms.Form):
    """The version form, pre-filled from the inspection; the facts themselves stay server-side."""

    inspection = forms.CharField(widget=forms.HiddenInput)
    system = forms.ModelChoiceField(
        queryset=AISystem.objects.filter(archived_at__isnull=True),
        to_field_name="slug",
        widget=forms.HiddenInput,
    )
    version = forms.CharField(max_length=64)
    framework = forms.ChoiceField(choices=Framework.choices)
    framework_version = forms.CharField(max_length=32, required=False)
    artifact_format = forms.ChoiceField(choices=ArtifactFormat.choices)
    artifact_uri = forms.CharField(max_length=500, required=False)
    code_commit_sha = forms.CharField(max_length=40, required=False)
    datasets = forms.ModelMultipleChoiceField(
        queryset=Dataset.objects.filter(archived_at__isnull=True),
        to_field_name="slug",
        required=False,
    )
    inference_signature = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False)
    evaluation = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text='[{"metric": "auc", "value": 0.91, "threshold": 0.8}]',
    )

    def _json(self, name: str, kind: type) -> object:
        raw = self.cleaned_data.get(name) or ""
        if not raw.strip():
            return kind()
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(f"Not valid JSON: {exc.msg}.") from None
        if not isinstance(value, kind):
            raise forms.ValidationError(f"A JSON {kind.__name__}.")
        return value

    def clean_inference_signature(self) -> object:
        return self._json("inference_signature", dict)

    def clean_evaluation(self) -> object:
        return self._json("evaluation", list)
