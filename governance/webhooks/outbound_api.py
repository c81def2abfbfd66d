"""Outbound webhook subscriptions and the delivery log over the API (admins)."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.accounts.permissions import Perm
from governance.core.actor import Actor
from governance.core.filtering import filter_queryset
from governance.core.idempotency import idempotent
from governance.core.pagination import PageNumberPagination
from governance.webhooks.filters import DeliveryFilter
from governance.webhooks.models import (
    OutboundDelivery,
    OutboundEvent,
    WebhookSubscription,
)
from governance.webhooks.outbound import (
    outbound_delivery_redeliver,
    webhook_subscription_create,
    webhook_subscription_set_active,
)


class SubscriptionOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookSubscription
        fields = ["id", "name", "url", "events", "active", "created_by", "created_at"]


class SubscriptionCreatedSerializer(SubscriptionOutputSerializer):
    class Meta(SubscriptionOutputSerializer.Meta):
        fields = [*SubscriptionOutputSerializer.Meta.fields, "secret"]


class DeliveryOutputSerializer(serializers.ModelSerializer):
    subscription = serializers.CharField(source="subscription.name")

    class Meta:
        model = OutboundDelivery
        fields = [
            "message_id",
            "subscription",
            "event",
            "status",
            "attempts",
            "last_status_code",
            "last_error",
            "last_attempt_at",
            "next_retry_at",
            "delivered_at",
            "created_at",
            "payload",
        ]


class SubscriptionListCreateApi(APIView):
    """Outbound webhook subscriptions. The secret (whsec_...) is shown in the POST answer only."""

    required_permission = Perm.WEBHOOKS_MANAGE

    class SubscriptionInput(serializers.Serializer):
        name = serializers.CharField(max_length=100)
        url = serializers.URLField(max_length=500)
        events = serializers.ListField(
            child=serializers.ChoiceField(choices=OutboundEvent.choices), allow_empty=False
        )

    @extend_schema(responses=SubscriptionOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(
            WebhookSubscription.objects.order_by("name"), request, view=self
        )
        return paginator.get_paginated_response(SubscriptionOutputSerializer(page, many=True).data)

    @extend_schema(request=SubscriptionInput, responses={201: SubscriptionCreatedSerializer})
    @idempotent
    def post(self, request: Request) -> Response:
        data = self.SubscriptionInput(data=request.data)
        data.is_valid(raise_exception=True)
        subscription = webhook_subscription_create(
            actor=Actor.from_request(request), **data.validated_data
        )
        return Response(
            SubscriptionCreatedSerializer(subscription).data, status=status.HTTP_201_CREATED
        )


class SubscriptionActiveApi(APIView):
    """Pause (``active: false``) or resume a subscription."""

    required_permission = Perm.WEBHOOKS_MANAGE

    class ActiveInput(serializers.Serializer):
        active = serializers.BooleanField()
        reason = serializers.CharField(max_length=2000, required=False, allow_blank=True)

    @extend_schema(request=ActiveInput, responses=SubscriptionOutputSerializer)
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        subscription = get_object_or_404(WebhookSubscription, pk=pk)
        data = self.ActiveInput(data=request.data)
        data.is_valid(raise_exception=True)
        subscription = webhook_subscription_set_active(
            actor=Actor.from_request(request),
            subscription=subscription,
            active=data.validated_data["active"],
            reason=data.validated_data.get("reason", ""),
        )
        return Response(SubscriptionOutputSerializer(subscription).data)


class DeliveryListApi(APIView):
    """The delivery log, newest first: each attempt's last status code and the next retry."""

    required_permission = Perm.WEBHOOKS_MANAGE
    filterset_class = DeliveryFilter

    @extend_schema(responses=DeliveryOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        deliveries = filter_queryset(
            request=request,
            view=self,
            queryset=OutboundDelivery.objects.select_related("subscription"),
        )
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(deliveries.order_by("-created_at"), request, view=self)
        return paginator.get_paginated_response(DeliveryOutputSerializer(page, many=True).data)


class DeliveryRedeliverApi(APIView):
    """Send a delivery again now, with the same webhook-id."""

    required_permission = Perm.WEBHOOKS_MANAGE

    @extend_schema(request=None, responses=DeliveryOutputSerializer)
    @idempotent
    def post(self, request: Request, message_id: str) -> Response:
        delivery = get_object_or_404(OutboundDelivery, message_id=message_id)
        delivery = outbound_delivery_redeliver(actor=Actor.from_request(request), delivery=delivery)
        delivery.refresh_from_db()
        return Response(DeliveryOutputSerializer(delivery).data)
