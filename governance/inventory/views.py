"""AI system pages: list, detail, register."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views import View

from governance.accounts.permissions import Perm, PermissionRequiredMixin, has_perm
from governance.audit.models import AuditEvent
from governance.core.actor import Actor
from governance.inventory.forms import AISystemForm
from governance.inventory.models import LifecycleStage, RiskTier
from governance.inventory.selectors import ai_system_list
from governance.inventory.services import ai_system_create


class AISystemListView(PermissionRequiredMixin, View):
    required_permission = Perm.INVENTORY_VIEW

    def get(self, request: HttpRequest) -> HttpResponse:
        systems = ai_system_list(principal=request.user)
        tier, stage = request.GET.get("risk_tier", ""), request.GET.get("lifecycle_stage", "")
        if tier:
            systems = systems.filter(risk_tier=tier)
        if stage:
            systems = systems.filter(lifecycle_stage=stage)
        context = {
            "systems": systems,
            "risk_tiers": RiskTier.choices,
            "stages": LifecycleStage.choices,
            "selected": {"risk_tier": tier, "lifecycle_stage": stage},
            "can_register": has_perm(request.user, Perm.INVENTORY_MANAGE),
        }
        template = (
            "inventory/htmx/system_rows.html" if request.htmx else "inventory/system_list.html"
        )
        return render(request, template, context)


class AISystemDetailView(PermissionRequiredMixin, View):
    required_permission = Perm.INVENTORY_VIEW

    def get(self, request: HttpRequest, slug: str) -> HttpResponse:
        system = get_object_or_404(ai_system_list(principal=request.user), slug=slug)
        history = None
        if has_perm(request.user, Perm.AUDIT_VIEW):
            history = AuditEvent.objects.filter(
                target_type="inventory.aisystem", target_id=system.slug
            ).order_by("-sequence")[:20]
        return render(
            request, "inventory/system_detail.html", {"system": system, "history": history}
        )


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
