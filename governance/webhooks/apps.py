from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "governance.webhooks"
    label = "webhooks"
    verbose_name = "Webhooks"
