"""Forms of the policy pages."""

import json
from typing import Any

from django import forms

from governance.inventory.models import AISystem, Environment


class ReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


class PolicyDataForm(forms.Form):
    data = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 28, "class": "mono", "spellcheck": "false"}),
        help_text="JSON, mounted at data.policy. Saving creates a new candidate version.",
    )
    note = forms.CharField(max_length=500, label="What changed, and why")

    def clean_data(self) -> dict[str, Any]:
        try:
            value = json.loads(self.cleaned_data["data"])
        except ValueError as exc:
            raise forms.ValidationError(f"Not valid JSON: {exc}") from None
        if not isinstance(value, dict):
            raise forms.ValidationError("The policy data is a JSON object.")
        return value


class TryDecisionForm(forms.Form):
    system = forms.ModelChoiceField(
        queryset=AISystem.objects.filter(archived_at__isnull=True).order_by("name"),
        to_field_name="slug",
    )
    model_version = forms.CharField(max_length=64)
    environment = forms.ChoiceField(choices=Environment.choices, initial=Environment.PRODUCTION)
    current_version = forms.CharField(
        max_length=64, required=False, help_text="The version running there now (optional)"
    )
    change = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, label="What changes"
    )


class DecisionFilterForm(forms.Form):
    system = forms.CharField(required=False)
    environment = forms.ChoiceField(choices=[("", "any"), *Environment.choices], required=False)
    allow = forms.ChoiceField(
        choices=[("", "any"), ("true", "allowed"), ("false", "denied")],
        required=False,
        label="Outcome",
    )
    endpoint = forms.ChoiceField(required=False)
    disagreements = forms.BooleanField(required=False, label="Shadow disagreed")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from governance.policy.models import Endpoint

        super().__init__(*args, **kwargs)
        self.fields["endpoint"].choices = [("", "any"), *Endpoint.choices]
