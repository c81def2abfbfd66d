"""Kill switch forms: create one, flip one."""

from django import forms

from governance.inventory.models import AISystem, Environment
from governance.runtime.models import SwitchScope, SwitchState


class FlipForm(forms.Form):
    """The browser requires the reason too; the server refuses (and audits) a missing one."""

    action = forms.ChoiceField(choices=[("engage", "Engage"), ("release", "Release")])
    reason = forms.CharField(max_length=2000, required=False)
    incident = forms.IntegerField(required=False, widget=forms.HiddenInput)


class KillSwitchForm(forms.Form):
    key = forms.SlugField(max_length=80, help_text="Stable id clients use, e.g. support-refunds")
    system = forms.ModelChoiceField(
        queryset=AISystem.objects.filter(archived_at__isnull=True).order_by("name"),
        to_field_name="slug",
    )
    scope = forms.ChoiceField(choices=SwitchScope.choices)
    environment = forms.ChoiceField(choices=[("", "—"), *Environment.choices], required=False)
    feature = forms.CharField(max_length=100, required=False, help_text="e.g. a tool name")
    safe_state = forms.ChoiceField(
        choices=SwitchState.choices,
        initial=SwitchState.ENGAGED,
        help_text="What clients assume when they cannot reach the server",
    )
    description = forms.CharField(max_length=2000, required=False)
