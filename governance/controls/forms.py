"""Forms for control status changes, evidence and the applicability profile."""

from django import forms

from governance.accounts.models import User
from governance.controls.models import ControlStatus


class ControlUpdateForm(forms.Form):
    status = forms.ChoiceField(choices=ControlStatus.choices)
    owner = forms.ModelChoiceField(
        queryset=User.objects.filter(is_active=True).order_by("username"), required=False
    )
    implementation = forms.CharField(
        label="How it is implemented", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    justification = forms.CharField(
        label="Justification (required for not applicable)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    last_reviewed_at = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    next_review_at = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(
        label="Why this change",
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        help_text="Required. Recorded in the audit log.",
    )


class EvidenceForm(forms.Form):
    title = forms.CharField(max_length=200)
    file = forms.FileField(
        required=False, help_text="PDF, image, text, CSV, JSON, Office; hashed with SHA-256."
    )
    url = forms.URLField(label="or a URL", required=False, max_length=1000, assume_scheme="https")
    reason = forms.CharField(required=False, max_length=2000, label="Note (optional)")

    def clean(self) -> dict:
        cleaned = super().clean()
        if bool(cleaned.get("file")) == bool(cleaned.get("url")):
            raise forms.ValidationError("Attach a file or give a URL (one of the two).")
        return cleaned
