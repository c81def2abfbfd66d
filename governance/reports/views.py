"""The reports page: request a report, watch its progress (HTMX polling), download it."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views import View

from governance.accounts.permissions import Perm, PermissionRequiredMixin, has_perm
from governance.core.actor import Actor
from governance.core.errors import DomainError
from governance.inventory.selectors import ai_system_list
from governance.reports.api import pdf_response
from governance.reports.forms import ReportRequestForm
from governance.reports.selectors import report_get, report_list
from governance.reports.services import report_download, report_request, report_retry

LIST_SIZE = 50


class ReportListView(PermissionRequiredMixin, View):
    """The request form and the latest reports with their progress."""

    required_permission = Perm.REPORTS_GENERATE

    def _systems(self, request: HttpRequest) -> list:
        return list(ai_system_list(principal=request.user).order_by("name"))

    def _render(self, request: HttpRequest, form: ReportRequestForm, status: int = 200):
        reports = list(report_list(principal=request.user)[:LIST_SIZE])
        return render(
            request,
            "reports/report_list.html",
            {
                "form": form,
                "reports": reports,
                "can_download": has_perm(request.user, Perm.REPORTS_DOWNLOAD),
            },
            status=status,
        )

    def get(self, request: HttpRequest) -> HttpResponse:
        initial = {"system": request.GET.get("system", "")}
        if initial["system"]:
            initial["kind"] = "system"
        form = ReportRequestForm(initial=initial, systems=self._systems(request))
        return self._render(request, form)

    def post(self, request: HttpRequest) -> HttpResponse:
        form = ReportRequestForm(request.POST, systems=self._systems(request))
        if not form.is_valid():
            return self._render(request, form, status=400)
        data = form.cleaned_data
        try:
            report = report_request(
                actor=Actor.from_request(request),
                kind=data["kind"],
                system_slug=data["system"],
                incident_number=data["incident"],
                since=data["since"],
                until=data["until"],
                filters={k: data[k] for k in ("actor", "action", "target_type")},
            )
        except (DomainError, ValidationError) as exc:
            form.add_error(None, getattr(exc, "detail", None) or "; ".join(exc.messages))
            return self._render(request, form, status=400)
        messages.success(request, f"{report.title}: queued. Progress shows below.")
        return redirect("reports:list")


class ReportRowView(PermissionRequiredMixin, View):
    """One report's row, polled by HTMX every second while it is queued or rendering."""

    required_permission = Perm.REPORTS_GENERATE

    def get(self, request: HttpRequest, public_id: str) -> HttpResponse:
        report = report_get(principal=request.user, public_id=public_id)
        return render(
            request,
            "reports/htmx/report_row.html",
            {"r": report, "can_download": has_perm(request.user, Perm.REPORTS_DOWNLOAD)},
        )


class ReportRetryView(PermissionRequiredMixin, View):
    required_permission = {"POST": Perm.REPORTS_GENERATE}

    def post(self, request: HttpRequest, public_id: str) -> HttpResponse:
        report = report_get(principal=request.user, public_id=public_id)
        try:
            report_retry(actor=Actor.from_request(request), report=report)
        except DomainError as exc:
            messages.error(request, exc.detail)
        return redirect("reports:list")


class ReportDownloadView(PermissionRequiredMixin, View):
    required_permission = Perm.REPORTS_DOWNLOAD

    def get(self, request: HttpRequest, public_id: str) -> HttpResponse:
        report = report_get(principal=request.user, public_id=public_id)
        try:
            handle = report_download(actor=Actor.from_request(request), report=report)
        except DomainError as exc:
            messages.error(request, exc.detail)
            return redirect("reports:list")
        response: FileResponse = pdf_response(report, handle)
        return response
