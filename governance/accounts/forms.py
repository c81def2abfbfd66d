"""Forms for API token management."""

from django import forms

from governance.accounts.models import Role
from governance.accounts.permissions import TOKEN_SCOPES


class ApiTokenCreateForm(forms.Form):
    name = forms.CharField(
        max_length=100, help_text="What uses it, e.g. github-actions-deploy or k8s-admission."
    )
    description = forms.CharField(max_length=500, required=False)
    scopes = forms.MultipleChoiceField(
        choices=sorted(TOKEN_SCOPES.items()),
        widget=forms.CheckboxSelectMultiple,
        help_text="Grant only what the machine needs.",
    )
    expires_at = forms.DateTimeField(
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="Optional, UTC. Leave empty for a token that lives until revoked.",
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Recorded in the audit log.",
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("A reason is required.")
        return reason


class RoleChangeForm(ReasonForm):
    role = forms.ChoiceField(choices=Role.choices)
