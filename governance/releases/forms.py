"""Forms of the release pages."""

from typing import Any

from django import forms

from governance.accounts.models import User
from governance.inventory.models import AISystem, Environment
from governance.releases.models import ApprovalDecision, ReleaseState


class ReleaseForm(forms.Form):
    system = forms.ModelChoiceField(
        queryset=AISystem.objects.filter(archived_at__isnull=True).order_by("name"),
        to_field_name="slug",
    )
    model_version = forms.CharField(max_length=64, help_text="A registered version, e.g. 3.2.0")
    environment = forms.ChoiceField(choices=Environment.choices, initial=Environment.PRODUCTION)
    title = forms.CharField(max_length=200)
    change_summary = forms.CharField(label="What changes", widget=forms.Textarea(attrs={"rows": 3}))
    justification = forms.CharField(label="Why", widget=forms.Textarea(attrs={"rows": 3}))
    evaluation_links = forms.CharField(
        label="Evaluation results",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="One URL per line",
    )

    def clean_evaluation_links(self) -> list[str]:
        return [
            line.strip()
            for line in self.cleaned_data["evaluation_links"].splitlines()
            if line.strip()
        ]


class ReleaseEditForm(ReleaseForm):
    reason = forms.CharField(
        max_length=2000, required=False, help_text="Why you changed it (recorded in the audit log)"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["system"].disabled = True


class ReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


class OptionalReasonForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, required=False
    )


class ApprovalForm(forms.Form):
    decision = forms.ChoiceField(choices=ApprovalDecision.choices)
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        error_messages={"required": "Give a reason: it is recorded with your decision."},
    )
    content_hash = forms.RegexField(r"^[0-9a-f]{64}$", widget=forms.HiddenInput)
    break_glass = forms.BooleanField(required=False, label="Break-glass approval")


class ReleaseFilterForm(forms.Form):
    state = forms.ChoiceField(choices=[("", "any"), *ReleaseState.choices], required=False)
    system = forms.ModelChoiceField(
        queryset=AISystem.objects.order_by("name"),
        to_field_name="slug",
        required=False,
        empty_label="any",
    )
    environment = forms.ChoiceField(choices=[("", "any"), *Environment.choices], required=False)


class AssignmentForm(forms.Form):
    user = forms.ModelChoiceField(
        queryset=User.objects.filter(is_active=True, role__in=["approver", "admin"]).order_by(
            "username"
        ),
        to_field_name="username",
    )
    system = forms.ModelChoiceField(
        queryset=AISystem.objects.filter(archived_at__isnull=True).order_by("name"),
        to_field_name="slug",
        required=False,
        empty_label="All systems",
    )
    environment = forms.ChoiceField(
        choices=[("", "All environments"), *Environment.choices], required=False
    )
