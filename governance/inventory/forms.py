"""The AI system registration form."""

from django import forms

from governance.accounts.models import User
from governance.inventory.models import AISystem, DataCategory, Environment


class AISystemForm(forms.ModelForm):
    owner = forms.ModelChoiceField(
        queryset=User.objects.filter(is_active=True).order_by("username")
    )

    class Meta:
        model = AISystem
        fields = [
            "name",
            "slug",
            "description",
            "owner",
            "risk_tier",
            "lifecycle_stage",
            "is_genai",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "risk_rationale": forms.Textarea(attrs={"rows": 2}),
            "intended_use": forms.Textarea(attrs={"rows": 2}),
            "out_of_scope_uses": forms.Textarea(attrs={"rows": 2}),
        }

    data_categories = forms.MultipleChoiceField(
        choices=DataCategory.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    deployment_environments = forms.MultipleChoiceField(
        choices=Environment.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
