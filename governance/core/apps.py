from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "governance.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from governance.core import json_types

        json_types.install()
