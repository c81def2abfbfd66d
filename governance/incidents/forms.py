"""Forms of the incident pages; every change still goes through a service."""

import json

from django import forms

from governance.accounts.models import Role, User
from governance.incidents.models import (
    IncidentStatus,
    RunbookTemplate,
    SeriousIncidentKind,
    SeverityLevel,
    StepAction,
)
from governance.incidents.services import SEVERITY_FIELDS
from governance.inventory.models import AISystem, Environment, ModelVersion
from governance.runtime.models import KillSwitch, RuntimeControl


def _json_or_none(text: str) -> object:
    """A control value typed as JSON; empty means none."""
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise forms.ValidationError(
            'Type JSON: "text" in quotes, true, false or a number.'
        ) from exc


class SeverityChoiceField(forms.ModelChoiceField):
    """Severity as radio buttons; the template shows each level's criteria beside it."""

    widget = forms.RadioSelect

    def __init__(self, **kwargs: object) -> None:
        super().__init__(
            queryset=SeverityLevel.objects.order_by("rank"),
            to_field_name="code",
            empty_label=None,
            **kwargs,
        )

    def label_from_instance(self, obj: SeverityLevel) -> str:
        return str(obj)


def _live_systems() -> forms.ModelMultipleChoiceField:
    return forms.ModelMultipleChoiceField(
        queryset=AISystem.objects.filter(archived_at__isnull=True).order_by("name"),
        to_field_name="slug",
        widget=forms.CheckboxSelectMultiple,
        label="Affected AI systems",
    )


class IncidentOpenForm(forms.Form):
    title = forms.CharField(max_length=200)
    severity = SeverityChoiceField()
    systems = _live_systems()
    commander = forms.ModelChoiceField(
        queryset=User.objects.filter(
            is_active=True, role__in=[Role.INCIDENT_COMMANDER, Role.ADMIN]
        ).order_by("username"),
        to_field_name="username",
        help_text="The on-call owner",
    )
    summary = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=IncidentStatus.choices)
    note = forms.CharField(required=False, max_length=2000)


class SeverityChangeForm(forms.Form):
    severity = SeverityChoiceField()
    reason = forms.CharField(max_length=2000, required=False)  # the service requires it


class NoteForm(forms.Form):
    message = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=5000)


class PostmortemForm(forms.Form):
    cause = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))
    impact = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))
    actions = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))


class RunbookFromTemplateForm(forms.Form):
    system = forms.ModelChoiceField(
        queryset=AISystem.objects.filter(archived_at__isnull=True).order_by("name"),
        to_field_name="slug",
    )
    template = forms.ChoiceField(choices=[c for c in RunbookTemplate.choices if c[0]])
    slug = forms.SlugField(max_length=80)
    kill_switch = forms.ModelChoiceField(
        queryset=KillSwitch.objects.order_by("key"),
        to_field_name="key",
        required=False,
        help_text="Engaged by the template's automated step (same system)",
    )
    control = forms.ModelChoiceField(
        queryset=RuntimeControl.objects.order_by("key"),
        to_field_name="key",
        required=False,
        help_text="Runtime control the template sets (prompt, retriever, route to human)",
    )
    control_value = forms.CharField(
        required=False, help_text='Value it sets, as JSON (e.g. "bm25-2026-10" or true)'
    )

    def clean_control_value(self) -> object:
        return _json_or_none(self.cleaned_data.get("control_value", ""))

    environment = forms.ChoiceField(
        choices=[("", "production"), *Environment.choices],
        required=False,
        help_text="Where the rollback step rolls back",
    )
    model_version = forms.CharField(
        required=False,
        help_text="Version the rollback is expected to land on (checked; optional)",
    )
    webhook_url = forms.URLField(required=False, assume_scheme="https")
    webhook_secret = forms.CharField(
        required=False, help_text="whsec_…", widget=forms.PasswordInput(render_value=False)
    )

    def clean(self) -> dict:
        data = super().clean()
        version = data.get("model_version")
        if version and data.get("system"):
            found = ModelVersion.objects.filter(system=data["system"], version=version).first()
            if found is None:
                self.add_error("model_version", "No such version of this system.")
            data["model_version"] = found
        else:
            data["model_version"] = None
        return data


class StepForm(forms.Form):
    title = forms.CharField(max_length=200)
    instructions = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    action = forms.ChoiceField(choices=StepAction.choices, required=False)
    kill_switch = forms.CharField(required=False, help_text="key")
    control = forms.CharField(required=False, help_text="runtime control key")
    control_value = forms.CharField(required=False, help_text='JSON, e.g. "bm25" or true')

    def clean_control_value(self) -> object:
        return _json_or_none(self.cleaned_data.get("control_value", ""))

    environment = forms.ChoiceField(choices=[("", "—"), *Environment.choices], required=False)
    model_version = forms.CharField(required=False)
    webhook_url = forms.URLField(required=False, assume_scheme="https")
    webhook_secret = forms.CharField(required=False, widget=forms.PasswordInput(render_value=False))


class SeverityLevelForm(forms.Form):
    name = forms.CharField(max_length=100)
    harm = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))
    exposure = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))
    scale = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))
    response = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    reason = forms.CharField(max_length=2000, required=False)  # the service requires it

    field_order = [*SEVERITY_FIELDS, "reason"]


class SeriousMarkForm(forms.Form):
    system = forms.SlugField(max_length=80, label="High-risk AI system")
    kind = forms.ChoiceField(choices=SeriousIncidentKind.choices, label="Which Art. 73 case")
    aware_at = forms.DateTimeField(
        label="Became aware (UTC)", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    reason = forms.CharField(
        label="Why it is serious (Art. 3(49))",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class SeriousReportForm(forms.Form):
    authority = forms.CharField(max_length=200, label="Market surveillance authority")
    reference = forms.CharField(max_length=200, label="The authority's reference")
    submitted_at = forms.DateTimeField(
        required=False,
        label="Submitted (UTC; empty: now)",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
