from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "governance.webhooks"
    label = "webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        from governance.webhooks import schema  # noqa: F401 - registers the OpenAPI extension
