from django import forms

from governance.reports.models import ReportKind


class ReportRequestForm(forms.Form):
    """The reports page's request form; the service checks the rest (limits, unknown system)."""

    kind = forms.ChoiceField(choices=ReportKind.choices, initial=ReportKind.SYSTEM)
    system = forms.ChoiceField(required=False, label="AI system")
    incident = forms.IntegerField(
        required=False, min_value=1, label="Incident number", help_text="Serious incident reports"
    )
    since = forms.DateTimeField(
        required=False,
        label="From (UTC)",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="Empty: 90 days ago",
    )
    until = forms.DateTimeField(
        required=False,
        label="Until (UTC)",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="Empty: now",
    )
    actor = forms.CharField(required=False, max_length=150, label="Actor contains")
    action = forms.CharField(required=False, max_length=100, label="Action starts with")
    target_type = forms.CharField(required=False, max_length=100, label="Target type")

    def __init__(self, *args, systems=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["system"].choices = [("", "—")] + [(s.slug, s.name) for s in systems]
