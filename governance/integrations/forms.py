"""Admin forms of the Integrations page."""

from django import forms

from governance.integrations.models import RegistryKind
from governance.inventory.models import AISystem, Environment


class IntegrationForm(forms.Form):
    slug = forms.SlugField(
        max_length=80,
        help_text="In the webhook URL: /webhooks/<mlflow|huggingface|sagemaker>/<slug>",
    )
    kind = forms.ChoiceField(choices=RegistryKind.choices)
    name = forms.CharField(max_length=200)
    endpoint = forms.URLField(
        max_length=500,
        assume_scheme="https",
        help_text="e.g. https://mlflow.example.com, or https://api.sagemaker.<region>.amazonaws.com",
    )
    secret = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="The webhook secret or EventBridge API key (stored sealed, never shown again)…",
    )
    secret_env = forms.CharField(
        required=False, max_length=100, help_text="…or the environment variable that holds it"
    )
    token_env = forms.CharField(
        required=False,
        max_length=100,
        help_text="Environment variable with the registry's API token, if it needs one",
    )


class ModelMappingForm(forms.Form):
    registry_model = forms.CharField(max_length=300, label="Registry model")
    system = forms.ModelChoiceField(
        queryset=AISystem.objects.filter(archived_at__isnull=True), to_field_name="slug"
    )


class AliasMappingForm(forms.Form):
    alias = forms.CharField(max_length=100)
    environment = forms.ChoiceField(choices=Environment.choices)


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=2000)
    secret = forms.CharField(required=False, widget=forms.PasswordInput(render_value=False))
