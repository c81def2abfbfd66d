from django.apps import AppConfig


class RuntimeConfig(AppConfig):
    name = "governance.runtime"
    label = "runtime"
    verbose_name = "Runtime controls and kill switches"
