"""Incident pages: the board, one incident (timeline, runbook checklist, kill switches),
runbooks and the severity levels."""

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View

from governance.accounts.permissions import Perm, PermissionRequiredMixin, has_perm
from governance.audit.selectors import audit_events_for
from governance.core.actor import Actor
from governance.core.errors import DomainError
from governance.incidents.forms import (
    IncidentOpenForm,
    NoteForm,
    PostmortemForm,
    RunbookFromTemplateForm,
    SeriousMarkForm,
    SeriousReportForm,
    SeverityChangeForm,
    SeverityLevelForm,
    StatusForm,
    StepForm,
)
from governance.incidents.models import (
    Incident,
    IncidentStatus,
    Runbook,
    SeriousIncidentKind,
    StepAction,
)
from governance.incidents.runbook_templates import runbook_create_from_template
from governance.incidents.runbooks import runbook_start, runbook_step_add, runbook_step_perform
from governance.incidents.selectors import (
    incident_board,
    incident_get,
    incident_runs,
    incident_timeline,
    runbook_get,
    runbook_list,
    runbooks_for_incident,
    severity_level_list,
    step_execution_get,
)
from governance.incidents.serious import (
    clock_text,
    serious_incident_mark,
    serious_incident_report_submit,
)
from governance.incidents.services import (
    incident_add_note,
    incident_open,
    incident_record_postmortem,
    incident_set_severity,
    incident_set_status,
    severity_level_update,
)
from governance.inventory.models import Environment, ModelVersion
from governance.runtime.models import KillSwitch, RuntimeControl, SwitchState
from governance.runtime.selectors import kill_switch_list, kill_switches_of_systems


def error_text(exc: Exception) -> str:
    if isinstance(exc, DomainError):
        return exc.detail
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc)


def form_errors(form: Any) -> str:
    return " ".join(
        f"{'' if name == '__all__' else name + ': '}{' '.join(errs)}"
        for name, errs in form.errors.items()
    )


def _back(request: HttpRequest, default: str) -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect(default)


# --- Incidents ------------------------------------------------------------------------------


class IncidentBoardView(PermissionRequiredMixin, View):
    required_permission = Perm.INCIDENTS_VIEW

    def get(self, request: HttpRequest) -> HttpResponse:
        board = incident_board(principal=request.user)
        columns = [
            ("investigating", "Investigating", board["investigating"]),
            ("identified", "Identified", board["identified"]),
            ("mitigated", "Mitigated", board["mitigated"]),
            ("closed", "Resolved (30 days)", board["closed"]),
        ]
        engaged = kill_switch_list(principal=request.user).filter(state=SwitchState.ENGAGED)
        return render(
            request,
            "incidents/board.html",
            {
                "columns": columns,
                "engaged": engaged,
                "can_open": has_perm(request.user, Perm.INCIDENTS_MANAGE),
                "can_configure": has_perm(request.user, Perm.SEVERITY_CONFIGURE),
            },
        )


class IncidentOpenView(PermissionRequiredMixin, View):
    required_permission = Perm.INCIDENTS_MANAGE

    def _render(self, request: HttpRequest, form: IncidentOpenForm, status: int = 200) -> Any:
        return render(
            request,
            "incidents/incident_form.html",
            {"form": form, "levels": severity_level_list()},
            status=status,
        )

    def get(self, request: HttpRequest) -> HttpResponse:
        initial = {"commander": request.user.get_username()}
        if request.GET.get("system"):
            initial["systems"] = [request.GET["system"]]
        return self._render(request, IncidentOpenForm(initial=initial))

    def post(self, request: HttpRequest) -> HttpResponse:
        form = IncidentOpenForm(request.POST)
        if form.is_valid():
            try:
                incident = incident_open(actor=Actor.from_request(request), **form.cleaned_data)
            except (DomainError, ValidationError) as exc:
                form.add_error(None, error_text(exc))
            else:
                messages.success(request, f"{incident.ref} opened.")
                return redirect("incidents:incident-detail", number=incident.number)
        return self._render(request, form, status=400)


class IncidentDetailView(PermissionRequiredMixin, View):
    required_permission = Perm.INCIDENTS_VIEW

    def get(self, request: HttpRequest, number: int) -> HttpResponse:
        incident = incident_get(principal=request.user, number=number)
        systems = list(incident.systems.all())
        manage = has_perm(request.user, Perm.INCIDENTS_MANAGE)
        serious = getattr(incident, "serious_report", None)
        context = {
            "incident": incident,
            "systems": systems,
            "timeline": incident_timeline(incident=incident),
            "runs": incident_runs(incident=incident),
            "available_runbooks": runbooks_for_incident(incident=incident) if manage else [],
            "switches": kill_switches_of_systems(principal=request.user, systems=systems),
            "can_manage": manage,
            "can_flip": has_perm(request.user, Perm.KILLSWITCHES_FLIP),
            "statuses": IncidentStatus.choices,
            "serious": serious,
            "serious_clock": clock_text(serious.deadline_at, timezone.now()) if serious else "",
            "high_risk_systems": incident.systems.filter(
                ai_act_classification__risk_class="high_risk"
            ),
            "serious_kinds": SeriousIncidentKind.choices,
            "can_report": has_perm(request.user, Perm.REPORTS_GENERATE),
            "now": timezone.now(),
            "levels": severity_level_list(),
            "severity_form": SeverityChangeForm(initial={"severity": incident.severity.code}),
            "postmortem_form": PostmortemForm(
                initial={
                    "cause": incident.postmortem_cause,
                    "impact": incident.postmortem_impact,
                    "actions": incident.postmortem_actions,
                }
            ),
            "history": audit_events_for(
                principal=request.user,
                target_type="incidents.incident",
                target_id=incident.ref,
                limit=10,
            ),
        }
        return render(request, "incidents/incident_detail.html", context)


class _IncidentAction(PermissionRequiredMixin, View):
    """POST a form to a service; errors come back as a message, the page is reloaded."""

    required_permission = Perm.INCIDENTS_MANAGE
    form_class: Any = None

    def act(self, actor: Actor, incident: Incident, data: dict[str, Any]) -> str:
        raise NotImplementedError

    def post(self, request: HttpRequest, number: int, **kwargs: Any) -> HttpResponse:
        incident = incident_get(principal=request.user, number=number)
        self.kwargs_extra = kwargs
        form = self.form_class(request.POST)
        if not form.is_valid():
            messages.error(request, form_errors(form))
        else:
            try:
                done = self.act(Actor.from_request(request), incident, form.cleaned_data)
            except (DomainError, ValidationError) as exc:
                messages.error(request, error_text(exc))
            else:
                messages.success(request, done)
        return redirect("incidents:incident-detail", number=incident.number)


class IncidentStatusView(_IncidentAction):
    form_class = StatusForm

    def act(self, actor: Actor, incident: Incident, data: dict[str, Any]) -> str:
        incident = incident_set_status(
            actor=actor, incident=incident, status=data["status"], note=data["note"]
        )
        return f"{incident.ref} is now {incident.get_status_display().lower()}."


class IncidentSeverityView(_IncidentAction):
    form_class = SeverityChangeForm

    def act(self, actor: Actor, incident: Incident, data: dict[str, Any]) -> str:
        incident = incident_set_severity(
            actor=actor, incident=incident, severity=data["severity"], reason=data["reason"]
        )
        return f"{incident.ref} is now {incident.severity.code}."


class IncidentNoteView(_IncidentAction):
    form_class = NoteForm

    def act(self, actor: Actor, incident: Incident, data: dict[str, Any]) -> str:
        incident_add_note(actor=actor, incident=incident, message=data["message"])
        return "Note added to the timeline."


class IncidentPostmortemView(_IncidentAction):
    form_class = PostmortemForm

    def act(self, actor: Actor, incident: Incident, data: dict[str, Any]) -> str:
        incident_record_postmortem(actor=actor, incident=incident, **data)
        return "Postmortem recorded."


class SeriousMarkView(_IncidentAction):
    """Mark the incident serious under Art. 73 of the EU AI Act: the reporting clock starts."""

    form_class = SeriousMarkForm

    def act(self, actor: Actor, incident: Incident, data: dict[str, Any]) -> str:
        system = incident.systems.filter(slug=data["system"]).first()
        if system is None:
            raise ValidationError(
                {"system": [f"{data['system']} is not affected by {incident.ref}."]}
            )
        report = serious_incident_mark(
            actor=actor,
            incident=incident,
            system=system,
            kind=data["kind"],
            aware_at=data["aware_at"],
            reason=data["reason"],
        )
        due = f"{report.deadline_at:%Y-%m-%d %H:%M}"
        return f"{incident.ref} is a serious incident: the report is due by {due} UTC."


class SeriousReportView(_IncidentAction):
    """Record the submission of the serious incident report (late is allowed, and flagged)."""

    form_class = SeriousReportForm

    def act(self, actor: Actor, incident: Incident, data: dict[str, Any]) -> str:
        report = getattr(incident, "serious_report", None)
        if report is None:
            raise ValidationError(f"{incident.ref} is not marked as a serious incident.")
        report = serious_incident_report_submit(
            actor=actor,
            report=report,
            authority=data["authority"],
            reference=data["reference"],
            submitted_at=data["submitted_at"],
        )
        late = " It was late: after the Art. 73 deadline." if report.late else ""
        return f"Submission to {report.authority} recorded (reference {report.reference}).{late}"


class RunbookStartView(PermissionRequiredMixin, View):
    required_permission = Perm.INCIDENTS_MANAGE

    def post(self, request: HttpRequest, number: int) -> HttpResponse:
        incident = incident_get(principal=request.user, number=number)
        runbook = Runbook.objects.filter(slug=request.POST.get("runbook", "")).first()
        if runbook is None:
            messages.error(request, "Choose a runbook.")
        else:
            try:
                runbook_start(actor=Actor.from_request(request), incident=incident, runbook=runbook)
            except (DomainError, ValidationError) as exc:
                messages.error(request, error_text(exc))
            else:
                messages.success(request, f"Runbook {runbook.name} started.")
        return redirect("incidents:incident-detail", number=incident.number)


class StepPerformView(PermissionRequiredMixin, View):
    required_permission = Perm.INCIDENTS_MANAGE

    def post(self, request: HttpRequest, number: int, execution_id: int) -> HttpResponse:
        incident = incident_get(principal=request.user, number=number)
        execution = step_execution_get(principal=request.user, incident=incident, pk=execution_id)
        try:
            execution = runbook_step_perform(
                actor=Actor.from_request(request),
                execution=execution,
                outcome=request.POST.get("outcome", ""),
                skip=request.POST.get("skip") == "1",
            )
        except (DomainError, ValidationError) as exc:
            messages.error(request, error_text(exc))
        else:
            messages.success(
                request, f"Step {execution.step.position}: {execution.get_status_display()}."
            )
        return redirect(
            reverse("incidents:incident-detail", kwargs={"number": incident.number}) + "#runbooks"
        )


# --- Runbooks -------------------------------------------------------------------------------


class RunbookListView(PermissionRequiredMixin, View):
    required_permission = {"GET": Perm.INCIDENTS_VIEW, "POST": Perm.INCIDENTS_MANAGE}

    def _render(self, request: HttpRequest, form: Any, status: int = 200) -> Any:
        return render(
            request,
            "incidents/runbook_list.html",
            {
                "runbooks": runbook_list(principal=request.user),
                "form": form,
                "can_manage": has_perm(request.user, Perm.INCIDENTS_MANAGE),
            },
            status=status,
        )

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._render(request, RunbookFromTemplateForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        form = RunbookFromTemplateForm(request.POST)
        if form.is_valid():
            try:
                runbook = runbook_create_from_template(
                    actor=Actor.from_request(request), **form.cleaned_data
                )
            except (DomainError, ValidationError) as exc:
                form.add_error(None, error_text(exc))
            else:
                messages.success(request, f"Runbook {runbook.name} created.")
                return redirect("incidents:runbook-detail", slug=runbook.slug)
        return self._render(request, form, status=400)


class RunbookDetailView(PermissionRequiredMixin, View):
    required_permission = {"GET": Perm.INCIDENTS_VIEW, "POST": Perm.INCIDENTS_MANAGE}

    def _render(self, request: HttpRequest, runbook: Runbook, form: Any, status: int = 200) -> Any:
        return render(
            request,
            "incidents/runbook_detail.html",
            {
                "runbook": runbook,
                "form": form,
                "actions": StepAction.choices,
                "can_manage": has_perm(request.user, Perm.INCIDENTS_MANAGE),
                "switches": KillSwitch.objects.filter(system=runbook.system),
                "controls": RuntimeControl.objects.filter(system=runbook.system),
                "environments": Environment.choices,
                "versions": ModelVersion.objects.filter(system=runbook.system),
            },
            status=status,
        )

    def get(self, request: HttpRequest, slug: str) -> HttpResponse:
        return self._render(request, runbook_get(principal=request.user, slug=slug), StepForm())

    def post(self, request: HttpRequest, slug: str) -> HttpResponse:
        runbook = runbook_get(principal=request.user, slug=slug)
        form = StepForm(request.POST)
        if form.is_valid():
            data = dict(form.cleaned_data)
            data["kill_switch"] = KillSwitch.objects.filter(key=data["kill_switch"] or None).first()
            data["control"] = RuntimeControl.objects.filter(key=data["control"] or None).first()
            data["model_version"] = ModelVersion.objects.filter(
                system=runbook.system, version=data["model_version"] or None
            ).first()
            try:
                runbook_step_add(actor=Actor.from_request(request), runbook=runbook, **data)
            except (DomainError, ValidationError) as exc:
                form.add_error(None, error_text(exc))
            else:
                messages.success(request, "Step added.")
                return redirect("incidents:runbook-detail", slug=runbook.slug)
        return self._render(request, runbook, form, status=400)


# --- Severity levels ------------------------------------------------------------------------


class SeverityLevelsView(PermissionRequiredMixin, View):
    required_permission = {"GET": Perm.INCIDENTS_VIEW, "POST": Perm.SEVERITY_CONFIGURE}

    def get(self, request: HttpRequest) -> HttpResponse:
        levels = severity_level_list()
        can_edit = has_perm(request.user, Perm.SEVERITY_CONFIGURE)
        rows = [
            (
                level,
                SeverityLevelForm(
                    initial={f: getattr(level, f) for f in ("name", "harm", "exposure", "scale")}
                    | {"response": level.response},
                    prefix=level.code,
                )
                if can_edit
                else None,
            )
            for level in levels
        ]
        return render(request, "incidents/severity_levels.html", {"rows": rows})

    def post(self, request: HttpRequest) -> HttpResponse:
        code = request.POST.get("code", "")
        level = get_object_or_404(severity_level_list(), code=code)
        form = SeverityLevelForm(request.POST, prefix=code)
        if not form.is_valid():
            messages.error(request, f"{code}: {form_errors(form)}")
        else:
            data = dict(form.cleaned_data)
            reason = data.pop("reason")
            try:
                severity_level_update(
                    actor=Actor.from_request(request), level=level, reason=reason, **data
                )
            except (DomainError, ValidationError) as exc:
                messages.error(request, f"{code}: {error_text(exc)}")
            else:
                messages.success(request, f"{code} updated.")
        return redirect("incidents:severity-levels")
