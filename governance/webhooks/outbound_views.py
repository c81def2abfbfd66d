"""Outbound webhook pages (admins): subscriptions, the delivery log, manual redelivery."""

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
from governance.webhooks.forms import SubscriptionForm
from governance.webhooks.models import OutboundDelivery, OutboundStatus, WebhookSubscription
from governance.webhooks.outbound import (
    outbound_delivery_redeliver,
    webhook_subscription_create,
    webhook_subscription_set_active,
)


class SubscriptionListView(PermissionRequiredMixin, View):
    required_permission = Perm.WEBHOOKS_MANAGE

    def _render(
        self, request: HttpRequest, form: SubscriptionForm, status: int = 200
    ) -> HttpResponse:
        context = {
            "form": form,
            "subscriptions": WebhookSubscription.objects.order_by("name"),
        }
        return render(request, "webhooks/subscriptions.html", context, status=status)

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._render(request, SubscriptionForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        form = SubscriptionForm(request.POST)
        if form.is_valid():
            try:
                subscription = webhook_subscription_create(
                    actor=Actor.from_request(request), **form.cleaned_data
                )
            except ValidationError as exc:
                form_add_service_errors(form, exc)
            else:
                return render(
                    request, "webhooks/subscription_created.html", {"subscription": subscription}
                )
        return self._render(request, form, status=400)


class SubscriptionToggleView(PermissionRequiredMixin, View):
    required_permission = Perm.WEBHOOKS_MANAGE

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        subscription = get_object_or_404(WebhookSubscription, pk=pk)
        try:
            webhook_subscription_set_active(
                actor=Actor.from_request(request),
                subscription=subscription,
                active=not subscription.active,
            )
        except DomainError as exc:
            messages.error(request, exc.detail)
        else:
            messages.success(
                request, f"{subscription.name} {'paused' if subscription.active else 'resumed'}."
            )
        return redirect("outbound:subscriptions")


class DeliveryLogView(PermissionRequiredMixin, View):
    required_permission = Perm.WEBHOOKS_MANAGE

    def get(self, request: HttpRequest) -> HttpResponse:
        deliveries = OutboundDelivery.objects.select_related("subscription").order_by("-created_at")
        status = request.GET.get("status", "")
        if status in OutboundStatus.values:
            deliveries = deliveries.filter(status=status)
        page = Paginator(deliveries, 50).get_page(request.GET.get("page"))
        return render(
            request,
            "webhooks/deliveries.html",
            {"page": page, "statuses": OutboundStatus.choices, "status": status},
        )


class DeliveryRedeliverView(PermissionRequiredMixin, View):
    required_permission = Perm.WEBHOOKS_MANAGE

    def post(self, request: HttpRequest, message_id: str) -> HttpResponse:
        delivery = get_object_or_404(OutboundDelivery, message_id=message_id)
        delivery = outbound_delivery_redeliver(actor=Actor.from_request(request), delivery=delivery)
        delivery.refresh_from_db()
        messages.success(
            request,
            f"Redelivery of {delivery.message_id}: {delivery.get_status_display().lower()}"
            + (f" (HTTP {delivery.last_status_code})" if delivery.last_status_code else ""),
        )
        return redirect("outbound:deliveries")
