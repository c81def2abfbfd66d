"""Outbound webhooks: admin pages and API."""

from django.urls import path

from governance.webhooks import outbound_api, outbound_views

app_name = "outbound"
urlpatterns = [
    path(
        "settings/webhooks/",
        outbound_views.SubscriptionListView.as_view(),
        name="subscriptions",
    ),
    path(
        "settings/webhooks/<int:pk>/toggle",
        outbound_views.SubscriptionToggleView.as_view(),
        name="subscription-toggle",
    ),
    path(
        "settings/webhooks/deliveries/",
        outbound_views.DeliveryLogView.as_view(),
        name="deliveries",
    ),
    path(
        "settings/webhooks/deliveries/<str:message_id>/redeliver",
        outbound_views.DeliveryRedeliverView.as_view(),
        name="redeliver",
    ),
]
api_urlpatterns = [
    path(
        "webhooks/subscriptions",
        outbound_api.SubscriptionListCreateApi.as_view(),
        name="webhook-subscriptions",
    ),
    path(
        "webhooks/subscriptions/<int:pk>/active",
        outbound_api.SubscriptionActiveApi.as_view(),
        name="webhook-subscription-active",
    ),
    path("webhooks/deliveries", outbound_api.DeliveryListApi.as_view(), name="webhook-deliveries"),
    path(
        "webhooks/deliveries/<str:message_id>/redeliver",
        outbound_api.DeliveryRedeliverApi.as_view(),
        name="webhook-redeliver",
    ),
]
