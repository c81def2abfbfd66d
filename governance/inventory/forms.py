"""The AI system registration form."""

from django import forms

from governance.accounts.models import User
from governance.inventory.models import AISystem


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
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}
