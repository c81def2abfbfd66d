"""Forms for control status changes, evidence and the applicability profile."""

from django import forms

from governance.accounts.models import User
from governance.controls.aiact import ANNEX_III_AREAS, PROHIBITED_PRACTICES, TRANSPARENCY_SITUATIONS
from governance.controls.models import AIActRole, ControlStatus


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


class AIActClassificationForm(forms.Form):
    """The guided EU AI Act questions; the risk class follows from the answers."""

    prohibited_practice = forms.ChoiceField(
        label="1. Does the system perform a practice prohibited by Art. 5?",
        choices=[("", "No prohibited practice")]
        + [(code, f"Art. 5(1)({code[-1]}): {text}") for code, text in PROHIBITED_PRACTICES.items()],
        required=False,
    )
    annex_i_product = forms.BooleanField(
        label="2. Is it a safety component of (or itself) a product under the Union harmonisation "
        "law of Annex I that needs third-party conformity assessment?",
        required=False,
    )
    annex_iii_area = forms.ChoiceField(
        label="3. Is it used in an Annex III high-risk area?",
        choices=[("", "None of the Annex III areas")]
        + [(code, f"{code}. {text}") for code, text in ANNEX_III_AREAS.items()],
        required=False,
    )
    transparency = forms.MultipleChoiceField(
        label="4. Which Art. 50 situations apply?",
        choices=list(TRANSPARENCY_SITUATIONS.items()),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    gpai_model = forms.BooleanField(
        label="5. Is it (or does the organisation provide) a general-purpose AI model?",
        required=False,
    )
    gpai_systemic_risk = forms.BooleanField(
        label="… with systemic risk (Art. 51: high-impact capabilities)?", required=False
    )
    role = forms.ChoiceField(
        label="6. The organisation's role for this system",
        choices=AIActRole.choices,
        widget=forms.RadioSelect,
    )
    public_service_deployer = forms.BooleanField(
        label="7. As deployer, is the organisation a public body or does it provide public "
        "services (Art. 27)?",
        required=False,
    )
    reasons = forms.CharField(
        label="Reasons for this classification",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
        help_text="Required. Recorded with the classification and in the audit log.",
    )


class CrosswalkForm(forms.Form):
    targets = forms.CharField(
        label="Maps to (control ids, one per line)", widget=forms.Textarea(attrs={"rows": 4})
    )
    reason = forms.CharField(
        label="Why this change", widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )
