"""Forms of the outbound webhook pages."""

from django import forms

from governance.webhooks.models import OutboundEvent


class SubscriptionForm(forms.Form):
    name = forms.CharField(max_length=100)
    url = forms.URLField(max_length=500, label="URL", assume_scheme="https")
    events = forms.MultipleChoiceField(
        choices=OutboundEvent.choices, widget=forms.CheckboxSelectMultiple
    )
