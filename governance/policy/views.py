"""Policy pages: the active policy, its data editor, version history with diffs, "try a
decision", and the decision log explorer."""

import difflib
import json
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views import View

from governance.accounts.permissions import Perm, PermissionRequiredMixin, has_perm
from governance.core.actor import Actor
from governance.core.errors import DomainError
from governance.core.htmx import invalid_input_status
from governance.policy.forms import DecisionFilterForm, PolicyDataForm, ReasonForm, TryDecisionForm
from governance.policy.models import Endpoint, PolicyVersion, VersionStatus
from governance.policy.selectors import (
    decision_get,
    decision_list,
    deployment_request_resolve,
    policy_version_active,
    policy_version_get,
    policy_version_health,
    policy_version_in_shadow,
    policy_version_list,
    policy_version_previous,
)
from governance.policy.services import (
    decision_evaluate,
    policy_data_update,
    policy_version_activate,
    policy_version_shadow,
    policy_version_shadow_stop,
)


def _pretty(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=True)


class PolicyOverviewView(PermissionRequiredMixin, View):
    required_permission = Perm.POLICY_VIEW

    def get(self, request: HttpRequest) -> HttpResponse:
        active = policy_version_active()
        shadow = policy_version_in_shadow()
        return render(
            request,
            "policy/overview.html",
            {
                "active": active,
                "shadow": shadow,
                "active_health": policy_version_health(version=active) if active else None,
                "shadow_health": policy_version_health(version=shadow) if shadow else None,
                "data_json": _pretty(active.data) if active else "",
                "can_manage": has_perm(request.user, Perm.POLICY_MANAGE),
                "can_check": has_perm(request.user, Perm.POLICY_CHECK),
            },
        )


class PolicyDataEditView(PermissionRequiredMixin, View):
    """Thresholds, allowlists, windows: edited as JSON, saved as a new candidate version."""

    required_permission = Perm.POLICY_MANAGE

    def get(self, request: HttpRequest) -> HttpResponse:
        active = policy_version_active()
        form = PolicyDataForm(initial={"data": _pretty(active.data) if active else "{}"})
        return render(request, "policy/data_edit.html", {"form": form, "base": active})

    def post(self, request: HttpRequest) -> HttpResponse:
        base = policy_version_active()
        form = PolicyDataForm(request.POST)
        if base is not None and form.is_valid():
            try:
                version = policy_data_update(
                    actor=Actor.from_request(request),
                    base=base,
                    data=form.cleaned_data["data"],
                    note=form.cleaned_data["note"],
                )
            except ValidationError as exc:
                for message in exc.messages:
                    form.add_error(None, message)
            else:
                messages.success(
                    request, f"Saved as candidate v{version.number}. Review it, then activate it."
                )
                return redirect("policy:version-detail", version_number=version.number)
        return render(request, "policy/data_edit.html", {"form": form, "base": base}, status=400)


class PolicyVersionListView(PermissionRequiredMixin, View):
    required_permission = Perm.POLICY_VIEW

    def get(self, request: HttpRequest) -> HttpResponse:
        versions = policy_version_list(principal=request.user)
        return render(request, "policy/version_list.html", {"versions": versions})


def _diff(previous: PolicyVersion | None, version: PolicyVersion) -> list[dict[str, Any]]:
    """Per file, the unified diff against the previous version (data as data.json)."""
    old = dict(previous.modules) if previous else {}
    new = dict(version.modules)
    old["data.json"] = _pretty(previous.data) if previous else ""
    new["data.json"] = _pretty(version.data)
    files = []
    for name in sorted(set(old) | set(new)):
        lines = list(
            difflib.unified_diff(
                old.get(name, "").splitlines(),
                new.get(name, "").splitlines(),
                f"v{previous.number}/{name}" if previous else "/dev/null",
                f"v{version.number}/{name}",
                lineterm="",
            )
        )
        if lines:
            files.append({"name": name, "lines": lines})
    return files


class PolicyVersionDetailView(PermissionRequiredMixin, View):
    required_permission = {"GET": Perm.POLICY_VIEW, "POST": Perm.POLICY_MANAGE}
    actions = {
        "activate": policy_version_activate,
        "shadow": policy_version_shadow,
        "stop-shadow": policy_version_shadow_stop,
    }

    def _render(
        self, request: HttpRequest, version: PolicyVersion, form: ReasonForm, status: int = 200
    ) -> HttpResponse:
        previous = policy_version_previous(version)
        return render(
            request,
            "policy/version_detail.html",
            {
                "version": version,
                "health": policy_version_health(version=version),
                "previous": previous,
                "diff": _diff(previous, version),
                "form": form,
                "can_manage": has_perm(request.user, Perm.POLICY_MANAGE),
                "statuses": VersionStatus,
            },
            status=status,
        )

    def get(self, request: HttpRequest, version_number: int) -> HttpResponse:
        version = policy_version_get(principal=request.user, number=version_number)
        return self._render(request, version, ReasonForm())

    def post(self, request: HttpRequest, version_number: int) -> HttpResponse:
        version = policy_version_get(principal=request.user, number=version_number)
        form = ReasonForm(request.POST)
        action = self.actions.get(request.POST.get("action", ""))
        if action is None:
            form.add_error(None, "Choose activate, shadow or stop-shadow.")
        elif form.is_valid():
            try:
                action(
                    actor=Actor.from_request(request),
                    version=version,
                    reason=form.cleaned_data["reason"],
                )
            except (DomainError, ValidationError) as exc:
                detail = exc.detail if isinstance(exc, DomainError) else " ".join(exc.messages)
                form.add_error(None, detail)
            else:
                messages.success(
                    request, f"Policy v{version.number}: {request.POST['action']} done."
                )
                return redirect("policy:version-detail", version_number=version.number)
        return self._render(request, version, form, status=400)


class PolicyTryView(PermissionRequiredMixin, View):
    """Ask for a decision as a pipeline would; it is logged like any other."""

    required_permission = Perm.POLICY_CHECK

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(request, "policy/try.html", {"form": TryDecisionForm()})

    def post(self, request: HttpRequest) -> HttpResponse:
        form = TryDecisionForm(request.POST)
        decision = None
        if form.is_valid():
            fields = form.cleaned_data
            try:
                deployment = deployment_request_resolve(
                    system_slug=fields["system"].slug,
                    version=fields["model_version"].strip(),
                    environment=fields["environment"],
                    requester=request.user.get_username(),
                    change={"description": fields["change"]} if fields["change"] else {},
                    current_version=fields["current_version"].strip() or None,
                )
            except DomainError as exc:
                for field, errors in exc.errors.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                decision = decision_evaluate(
                    actor=Actor.from_request(request), endpoint=Endpoint.UI, request=deployment
                )
        # HTMX selects #try-area from the page: the verdict, or the errors next to the fields.
        status = 200 if decision else invalid_input_status(request)
        return render(
            request, "policy/try.html", {"form": form, "decision": decision}, status=status
        )


class DecisionListView(PermissionRequiredMixin, View):
    required_permission = Perm.DECISIONS_VIEW

    def get(self, request: HttpRequest) -> HttpResponse:
        form = DecisionFilterForm(request.GET)
        valid = form.is_valid()
        filters = form.cleaned_data if valid else {}
        decisions = decision_list(
            principal=request.user,
            system=filters.get("system", ""),
            environment=filters.get("environment", ""),
            allow={"true": True, "false": False}.get(filters.get("allow", "")),
            endpoint=filters.get("endpoint", ""),
            disagreements_only=bool(filters.get("disagreements")),
            dry_run={"true": True, "false": False}.get(filters.get("dry_run", "")),
        )
        if not valid:
            decisions = decisions.none()
        page = Paginator(decisions, 50).get_page(request.GET.get("page"))
        query = request.GET.copy()
        query.pop("page", None)
        context = {"form": form, "page": page, "query": query.urlencode()}
        template = "policy/htmx/decisions.html" if request.htmx else "policy/decision_list.html"
        status = 200 if valid else invalid_input_status(request)
        return render(request, template, context, status=status)


class DecisionDetailView(PermissionRequiredMixin, View):
    required_permission = Perm.DECISIONS_VIEW

    def get(self, request: HttpRequest, decision_id: str) -> HttpResponse:
        decision = decision_get(principal=request.user, decision_id=decision_id)
        return render(
            request,
            "policy/decision_detail.html",
            {"decision": decision, "input_json": _pretty(decision.input)},
        )
