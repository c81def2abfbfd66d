"""The Integrations page (admins): registry endpoints, their mappings, last deliveries."""

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views import View

from governance.accounts.permissions import Perm, PermissionRequiredMixin
from governance.core.actor import Actor
from governance.core.errors import DomainError
from governance.core.form_errors import form_add_service_errors
from governance.integrations.forms import (
    AliasMappingForm,
    IntegrationForm,
    ModelMappingForm,
    ReasonForm,
)
from governance.integrations.models import AliasMapping, Integration, ModelMapping
from governance.integrations.services import (
    alias_mapping_add,
    integration_create,
    integration_set_active,
    integration_set_secret,
    mapping_remove,
    model_mapping_add,
)

LAST_DELIVERIES = 20


class IntegrationListView(PermissionRequiredMixin, View):
    required_permission = Perm.INTEGRATIONS_MANAGE

    def _render(self, request: HttpRequest, form: IntegrationForm, status: int = 200):
        integrations = Integration.objects.prefetch_related("models__system", "aliases")
        rows = []
        for integration in integrations:
            last = integration.deliveries.order_by("-received_at", "-id").first()
            failed = integration.deliveries.filter(status="failed").count()
            failed += integration.write_backs.filter(state="failed").count()
            rows.append({"integration": integration, "last": last, "failed": failed})
        return render(
            request, "integrations/list.html", {"rows": rows, "form": form}, status=status
        )

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._render(request, IntegrationForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        form = IntegrationForm(request.POST)
        if form.is_valid():
            try:
                integration = integration_create(
                    actor=Actor.from_request(request), **form.cleaned_data
                )
            except (ValidationError, DomainError) as exc:
                form_add_service_errors(form, exc)
            else:
                messages.success(request, f"{integration.name} added.")
                return redirect("integrations:detail", slug=integration.slug)
        return self._render(request, form, status=400)


class IntegrationDetailView(PermissionRequiredMixin, View):
    required_permission = Perm.INTEGRATIONS_MANAGE

    def _render(self, request: HttpRequest, integration: Integration, status: int = 200, **forms):
        context = {
            "integration": integration,
            "webhook_url": request.build_absolute_uri(
                reverse(f"integrations:{integration.kind}-webhook", args=[integration.slug])
            ),
            "models": integration.models.select_related("system"),
            "aliases": integration.aliases.all(),
            "deliveries": integration.deliveries.select_related(
                "model_version__system", "decision"
            )[:LAST_DELIVERIES],
            "model_form": forms.get("model_form") or ModelMappingForm(),
            "alias_form": forms.get("alias_form") or AliasMappingForm(),
            "reason_form": forms.get("reason_form") or ReasonForm(),
            "write_backs": integration.write_backs.select_related("link__model_version__system")[
                :LAST_DELIVERIES
            ],
        }
        return render(request, "integrations/detail.html", context, status=status)

    def get(self, request: HttpRequest, slug: str) -> HttpResponse:
        return self._render(request, get_object_or_404(Integration, slug=slug))

    def post(self, request: HttpRequest, slug: str) -> HttpResponse:
        integration = get_object_or_404(Integration, slug=slug)
        actor = Actor.from_request(request)
        action = request.POST.get("action", "")
        form: Any
        try:
            if action == "map-model":
                form = ModelMappingForm(request.POST)
                if form.is_valid():
                    model_mapping_add(actor=actor, integration=integration, **form.cleaned_data)
                    messages.success(request, "Model mapped.")
                    return redirect("integrations:detail", slug=slug)
                return self._render(request, integration, 400, model_form=form)
            if action == "map-alias":
                form = AliasMappingForm(request.POST)
                if form.is_valid():
                    alias_mapping_add(actor=actor, integration=integration, **form.cleaned_data)
                    messages.success(request, "Alias mapped.")
                    return redirect("integrations:detail", slug=slug)
                return self._render(request, integration, 400, alias_form=form)
            if action in ("unmap-model", "unmap-alias"):
                model = ModelMapping if action == "unmap-model" else AliasMapping
                mapping = get_object_or_404(
                    model, pk=request.POST.get("id"), integration=integration
                )
                mapping_remove(actor=actor, mapping=mapping)
                messages.success(request, "Mapping removed.")
                return redirect("integrations:detail", slug=slug)
            if action in ("pause", "activate", "rotate-secret"):
                form = ReasonForm(request.POST)
                if not form.is_valid():
                    return self._render(request, integration, 400, reason_form=form)
                reason = form.cleaned_data["reason"]
                if action == "rotate-secret":
                    integration_set_secret(
                        actor=actor,
                        integration=integration,
                        secret=form.cleaned_data["secret"],
                        reason=reason,
                    )
                    messages.success(request, "Secret replaced.")
                else:
                    integration_set_active(
                        actor=actor,
                        integration=integration,
                        active=action == "activate",
                        reason=reason,
                    )
                return redirect("integrations:detail", slug=slug)
        except (ValidationError, DomainError) as exc:
            form = ReasonForm(request.POST) if action not in ("map-model", "map-alias") else form
            form.is_valid()
            form_add_service_errors(form, exc)
            key = {"map-model": "model_form", "map-alias": "alias_form"}.get(action, "reason_form")
            return self._render(request, integration, 400, **{key: form})
        messages.error(request, "Unknown action.")
        return redirect("integrations:detail", slug=slug)
