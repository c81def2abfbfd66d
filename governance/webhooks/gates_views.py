"""Admin pages of the deployment gates: the environment mapping table and the GitHub
deliveries (state, attempts, last error, retry)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views import View

from governance.accounts.permissions import Perm, PermissionRequiredMixin
from governance.core.actor import Actor
from governance.core.errors import DomainError
from governance.core.form_errors import form_add_service_errors
from governance.webhooks.environments import environment_mapping_delete, environment_mapping_save
from governance.webhooks.forms import EnvironmentMappingForm, ReasonForm
from governance.webhooks.models import DeliveryStatus, EnvironmentMapping, InboundDelivery
from governance.webhooks.services import GITHUB, github_delivery_retry


class EnvironmentMappingView(PermissionRequiredMixin, View):
    required_permission = Perm.WEBHOOKS_MANAGE

    def _render(
        self, request: HttpRequest, form: EnvironmentMappingForm, status: int = 200
    ) -> HttpResponse:
        context = {"form": form, "mappings": EnvironmentMapping.objects.order_by("source", "name")}
        return render(request, "webhooks/environments.html", context, status=status)

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._render(request, EnvironmentMappingForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        form = EnvironmentMappingForm(request.POST)
        if form.is_valid():
            try:
                mapping = environment_mapping_save(
                    actor=Actor.from_request(request), **form.cleaned_data
                )
            except ValidationError as exc:
                form_add_service_errors(form, exc)
            else:
                messages.success(request, f"Mapped {mapping}.")
                return redirect("gates:environments")
        return self._render(request, form, status=400)


class EnvironmentMappingDeleteView(PermissionRequiredMixin, View):
    required_permission = Perm.WEBHOOKS_MANAGE

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        mapping = get_object_or_404(EnvironmentMapping, pk=pk)
        form = ReasonForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Say why the mapping is removed.")
            return redirect("gates:environments")
        label = str(mapping)
        environment_mapping_delete(
            actor=Actor.from_request(request), mapping=mapping, reason=form.cleaned_data["reason"]
        )
        messages.success(request, f"Removed {label}.")
        return redirect("gates:environments")


class GitHubDeliveryListView(PermissionRequiredMixin, View):
    required_permission = Perm.WEBHOOKS_MANAGE

    def get(self, request: HttpRequest) -> HttpResponse:
        deliveries = InboundDelivery.objects.filter(source=GITHUB).select_related("decision")
        status = request.GET.get("status", "")
        if status in DeliveryStatus.values:
            deliveries = deliveries.filter(status=status)
        page = Paginator(deliveries.order_by("-received_at"), 50).get_page(request.GET.get("page"))
        context = {"page": page, "statuses": DeliveryStatus.choices, "status": status}
        return render(request, "webhooks/github_deliveries.html", context)


class GitHubDeliveryRetryView(PermissionRequiredMixin, View):
    required_permission = Perm.WEBHOOKS_MANAGE

    def post(self, request: HttpRequest, delivery_id: str) -> HttpResponse:
        delivery = get_object_or_404(InboundDelivery, source=GITHUB, delivery_id=delivery_id)
        try:
            delivery = github_delivery_retry(actor=Actor.from_request(request), delivery=delivery)
        except DomainError as exc:
            messages.error(request, exc.detail)
        else:
            delivery.refresh_from_db()
            messages.success(
                request,
                f"Retried {delivery.delivery_id}: {delivery.get_status_display().lower()}"
                + (f" ({delivery.last_error})" if delivery.last_error else ""),
            )
        return redirect("gates:github-deliveries")
