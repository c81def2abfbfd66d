"""AI system pages: the list with coverage, the system page, registering and editing systems,
datasets and model versions, archiving with a reason."""

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View

from governance.accounts.permissions import Perm, PermissionRequiredMixin, has_perm
from governance.audit.selectors import audit_events_for
from governance.controls.coverage import catalog_layout, coverage_for
from governance.controls.heatmap import category_anchor, coverage_heatmap_svg, share_fill
from governance.controls.selectors import ai_act_classification_for, ai_act_loaded
from governance.core.actor import Actor
from governance.core.errors import DomainError
from governance.core.form_errors import form_add_service_errors
from governance.inventory.forms import (
    AISystemEditForm,
    AISystemForm,
    ArchiveForm,
    DatasetForm,
    EvaluationFormSet,
    ModelVersionForm,
)
from governance.inventory.models import (
    AISystem,
    DataCategory,
    Environment,
    LifecycleStage,
    RiskTier,
)
from governance.inventory.selectors import (
    ai_system_get,
    ai_system_list,
    datasets_of_system,
    model_version_get,
    model_version_list,
    system_owners,
)
from governance.inventory.services import (
    ai_system_archive,
    ai_system_create,
    ai_system_update,
    dataset_create,
    model_version_archive,
    model_version_register,
)

COVERAGE_BANDS = {"low": (0.0, 0.4), "partial": (0.4, 0.8), "good": (0.8, 1.01)}


class AISystemListView(PermissionRequiredMixin, View):
    required_permission = Perm.INVENTORY_VIEW

    def get(self, request: HttpRequest) -> HttpResponse:
        systems = ai_system_list(principal=request.user)
        selected = {
            k: request.GET.get(k, "") for k in ("risk_tier", "lifecycle_stage", "owner", "coverage")
        }
        if selected["risk_tier"]:
            systems = systems.filter(risk_tier=selected["risk_tier"])
        if selected["lifecycle_stage"]:
            systems = systems.filter(lifecycle_stage=selected["lifecycle_stage"])
        if selected["owner"]:
            systems = systems.filter(owner__username=selected["owner"])
        systems = list(systems)
        coverage = coverage_for(systems) if has_perm(request.user, Perm.CONTROLS_VIEW) else {}
        rows = []
        for system in systems:
            share = coverage[system.pk].total.share if system.pk in coverage else None
            band = COVERAGE_BANDS.get(selected["coverage"])
            if band and (share is None or not band[0] <= share < band[1]):
                continue
            rows.append(
                {
                    "system": system,
                    "share": share,
                    "fill": share_fill(share),
                    "gaps": len(coverage[system.pk].gaps) if system.pk in coverage else None,
                }
            )
        context = {
            "rows": rows,
            "risk_tiers": RiskTier.choices,
            "stages": LifecycleStage.choices,
            "owners": system_owners(principal=request.user),
            "selected": selected,
            "can_register": has_perm(request.user, Perm.INVENTORY_MANAGE),
        }
        template = (
            "inventory/htmx/system_rows.html" if request.htmx else "inventory/system_list.html"
        )
        return render(request, template, context)


class AISystemDetailView(PermissionRequiredMixin, View):
    required_permission = Perm.INVENTORY_VIEW

    def get(self, request: HttpRequest, slug: str) -> HttpResponse:
        system = ai_system_get(principal=request.user, slug=slug)
        context = {
            "system": system,
            "versions": model_version_list(principal=request.user, system=system),
            "datasets": datasets_of_system(system=system),
            "data_categories": [DataCategory(c).label for c in system.data_categories],
            "environments": [Environment(e).label for e in system.deployment_environments],
            "can_manage": has_perm(request.user, Perm.INVENTORY_MANAGE),
            "can_request": has_perm(request.user, Perm.RELEASES_REQUEST),
            "can_see_switches": has_perm(request.user, Perm.KILLSWITCHES_READ),
            "can_see_incidents": has_perm(request.user, Perm.INCIDENTS_VIEW),
        }
        if has_perm(request.user, Perm.CONTROLS_VIEW):
            coverage = coverage_for([system])[system.pk]
            context["coverage"] = coverage
            gaps_only = request.GET.get("controls") == "gaps"
            prefix = "?" if gaps_only else ""  # the anchors are in the full table
            context["heatmap"] = coverage_heatmap_svg(
                coverage, catalog_layout(), link=lambda c: f"{prefix}#{category_anchor(c)}"
            )
            context["gaps_only"] = gaps_only
            gaps = set(coverage.gaps)
            context["control_rows"] = [
                {"row": row, "anchor": category_anchor(row.category)}
                for row in coverage.rows
                if not gaps_only or row.code in gaps
            ]
            context["coverage_fill"] = share_fill(coverage.total.share)
            context["ai_act"] = ai_act_classification_for(system=system)
            context["ai_act_loaded"] = ai_act_loaded()
        context["history"] = audit_events_for(
            principal=request.user,
            target_type="inventory.aisystem",
            target_id=system.slug,
            limit=10,
        )
        return render(request, "inventory/system_detail.html", context)


class AISystemCreateView(PermissionRequiredMixin, View):
    required_permission = Perm.INVENTORY_MANAGE

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(request, "inventory/system_form.html", {"form": AISystemForm()})

    def post(self, request: HttpRequest) -> HttpResponse:
        form = AISystemForm(request.POST)
        if form.is_valid():
            try:
                system = ai_system_create(actor=Actor.from_request(request), **form.cleaned_data)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, f"{system.name} registered.")
                return redirect("inventory:system-detail", slug=system.slug)
        return render(request, "inventory/system_form.html", {"form": form}, status=400)


def _live_system(request: HttpRequest, slug: str) -> AISystem:
    system = ai_system_get(principal=request.user, slug=slug)
    if system.archived_at is not None:
        raise PermissionDenied(f"{system.slug} is archived; it cannot be changed.")
    return system


class AISystemEditView(PermissionRequiredMixin, View):
    required_permission = Perm.INVENTORY_MANAGE

    def _render(self, request: HttpRequest, system: AISystem, form: Any, status: int = 200):
        context = {"form": form, "system": system}
        return render(request, "inventory/system_edit.html", context, status=status)

    def get(self, request: HttpRequest, slug: str) -> HttpResponse:
        system = _live_system(request, slug)
        return self._render(request, system, AISystemEditForm(instance=system))

    def post(self, request: HttpRequest, slug: str) -> HttpResponse:
        system = _live_system(request, slug)
        # The form edits a copy: the service applies the changes under a row lock.
        form = AISystemEditForm(request.POST, instance=AISystem.objects.get(pk=system.pk))
        if form.is_valid():
            try:
                ai_system_update(
                    actor=Actor.from_request(request),
                    system=system,
                    reason=form.cleaned_data["reason"],
                    **form.changes(),
                )
            except (ValidationError, DomainError) as exc:
                form_add_service_errors(form, exc)
            else:
                messages.success(request, f"{system.name} updated.")
                return redirect("inventory:system-detail", slug=system.slug)
        return self._render(request, system, form, status=400)


class AISystemArchiveView(PermissionRequiredMixin, View):
    required_permission = Perm.INVENTORY_MANAGE

    def post(self, request: HttpRequest, slug: str) -> HttpResponse:
        system = ai_system_get(principal=request.user, slug=slug)
        return _archive_post(
            request,
            system.slug,
            system.name,
            lambda reason: ai_system_archive(
                actor=Actor.from_request(request), system=system, reason=reason
            ),
        )


def _archive_post(
    request: HttpRequest, slug: str, label: str, archive: Callable[[str], object]
) -> HttpResponse:
    """Archive with the form's reason; either way back to the system page, with the outcome."""
    form = ArchiveForm(request.POST)
    if form.is_valid():
        try:
            archive(form.cleaned_data["reason"])
        except (ValidationError, DomainError) as exc:
            form_add_service_errors(form, exc)
        else:
            messages.success(request, f"{label} archived.")
            return redirect("inventory:system-detail", slug=slug)
    messages.error(request, "Not archived: " + " ".join(_all_errors(form)))
    return redirect("inventory:system-detail", slug=slug)


def _all_errors(form: Any) -> list[str]:
    return [e for errors in form.errors.values() for e in errors]


class DatasetCreateView(PermissionRequiredMixin, View):
    required_permission = Perm.INVENTORY_MANAGE

    def _render(self, request: HttpRequest, form: Any, status: int = 200) -> HttpResponse:
        context = {"form": form, "next": _safe_next(request)}
        return render(request, "inventory/dataset_form.html", context, status=status)

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._render(request, DatasetForm(initial={"owner": request.user.pk}))

    def post(self, request: HttpRequest) -> HttpResponse:
        form = DatasetForm(request.POST)
        if form.is_valid():
            try:
                dataset = dataset_create(actor=Actor.from_request(request), **form.cleaned_data)
            except (ValidationError, DomainError) as exc:
                form_add_service_errors(form, exc)
            else:
                messages.success(request, f"Dataset {dataset.name} registered.")
                return redirect(_safe_next(request) or reverse("inventory:system-list"))
        return self._render(request, form, status=400)


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    ok = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if ok else ""


class ModelVersionRegisterView(PermissionRequiredMixin, View):
    """Register a version; initial values may come from the query string (e.g. a pipeline's
    link, or a page that inspected the artifact) through ``initial_values``."""

    required_permission = Perm.INVENTORY_MANAGE
    template_name = "inventory/version_form.html"

    def initial_values(self, request: HttpRequest) -> tuple[dict[str, Any], list[dict]]:
        fields = ModelVersionForm.base_fields
        initial: dict[str, Any] = {
            k: request.GET[k] for k in fields if k in request.GET and k != "datasets"
        }
        if "datasets" in request.GET:
            initial["datasets"] = request.GET.getlist("datasets")
        return initial, []

    def _render(
        self, request: HttpRequest, system: AISystem, form: Any, rows: Any, status: int = 200
    ) -> HttpResponse:
        context = {"system": system, "form": form, "rows": rows}
        return render(request, self.template_name, context, status=status)

    def get(self, request: HttpRequest, slug: str) -> HttpResponse:
        system = _live_system(request, slug)
        initial, evaluation = self.initial_values(request)
        rows = EvaluationFormSet(initial=evaluation, prefix="evaluation")
        return self._render(request, system, ModelVersionForm(initial=initial), rows)

    def post(self, request: HttpRequest, slug: str) -> HttpResponse:
        system = _live_system(request, slug)
        form = ModelVersionForm(request.POST)
        rows = EvaluationFormSet(request.POST, prefix="evaluation")
        if form.is_valid() and rows.is_valid():
            fields = dict(form.cleaned_data)
            datasets = list(fields.pop("datasets"))
            fields["evaluation"] = [r for r in (f.row() for f in rows) if r is not None]
            try:
                version = model_version_register(
                    actor=Actor.from_request(request), system=system, datasets=datasets, **fields
                )
            except (ValidationError, DomainError) as exc:
                form_add_service_errors(form, exc, __all__="version")
            else:
                note = (
                    ""
                    if version.is_complete
                    else " It misses "
                    + ", ".join(version.missing_metadata)
                    + ": deployment policies refuse it until it is complete."
                )
                messages.success(request, f"Version {version.version} registered.{note}")
                return redirect("inventory:system-detail", slug=system.slug)
        return self._render(request, system, form, rows, status=400)


class ModelVersionArchiveView(PermissionRequiredMixin, View):
    required_permission = Perm.INVENTORY_MANAGE

    def post(self, request: HttpRequest, slug: str, version: str) -> HttpResponse:
        system = ai_system_get(principal=request.user, slug=slug)
        found = model_version_get(principal=request.user, system=system, version=version)
        return _archive_post(
            request,
            system.slug,
            f"Version {found.version}",
            lambda reason: model_version_archive(
                actor=Actor.from_request(request), version=found, reason=reason
            ),
        )
