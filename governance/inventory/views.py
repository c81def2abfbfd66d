"""AI system pages: the list with coverage, the system page, the registration form."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views import View

from governance.accounts.permissions import Perm, PermissionRequiredMixin, has_perm
from governance.audit.selectors import audit_events_for
from governance.controls.coverage import catalog_layout, coverage_for
from governance.controls.heatmap import coverage_heatmap_svg, share_fill
from governance.core.actor import Actor
from governance.inventory.forms import AISystemForm
from governance.inventory.models import DataCategory, Environment, LifecycleStage, RiskTier
from governance.inventory.selectors import (
    ai_system_get,
    ai_system_list,
    datasets_of_system,
    model_version_list,
    system_owners,
)
from governance.inventory.services import ai_system_create

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
        }
        if has_perm(request.user, Perm.CONTROLS_VIEW):
            coverage = coverage_for([system])[system.pk]
            context["coverage"] = coverage
            context["heatmap"] = coverage_heatmap_svg(coverage, catalog_layout())
            context["coverage_fill"] = share_fill(coverage.total.share)
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
