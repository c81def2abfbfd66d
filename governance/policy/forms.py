"""Forms of the policy pages."""

from typing import Any

from django import forms

from governance.core.jsonbody import JsonInvalid, parse_json
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
        text = self.cleaned_data["data"]
        try:
            value = parse_json(text)
        except JsonInvalid as exc:
            message = str(exc)
            if exc.lineno:  # point at the line: a 28-row editor gives no other way to find it
                lines = text.splitlines() or [""]
                line = lines[min(exc.lineno, len(lines)) - 1].strip()
                message += f" Line {exc.lineno} reads: {line[:120]}"
            raise forms.ValidationError(message) from None
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
    dry_run = forms.ChoiceField(
        choices=[("", "any"), ("true", "dry runs only"), ("false", "real requests only")],
        required=False,
        label="Dry run",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from governance.policy.models import Endpoint

        super().__init__(*args, **kwargs)
        self.fields["endpoint"].choices = [("", "any"), *Endpoint.choices]
