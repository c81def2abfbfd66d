"""Forms of the webhook pages: outbound subscriptions, environment mapping."""

from django import forms

from governance.inventory.models import Environment
from governance.webhooks.models import MappingSource, OutboundEvent


class SubscriptionForm(forms.Form):
    name = forms.CharField(max_length=100)
    url = forms.URLField(max_length=500, label="URL", assume_scheme="https")
    events = forms.MultipleChoiceField(
        choices=OutboundEvent.choices, widget=forms.CheckboxSelectMultiple
    )


class EnvironmentMappingForm(forms.Form):
    source = forms.ChoiceField(choices=MappingSource.choices, label="Kind of name")
    name = forms.CharField(
        max_length=253, help_text="A namespace or a GitHub environment name; letter case is ignored"
    )
    environment = forms.ChoiceField(choices=Environment.choices)
    governed = forms.BooleanField(
        required=False,
        label="Governed namespace",
        help_text="Workloads here that name no AI system are refused (namespaces only)",
    )
    reason = forms.CharField(max_length=2000, label="Why")


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=2000)
