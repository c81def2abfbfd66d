from django.apps import AppConfig


class ControlsConfig(AppConfig):
    name = "governance.controls"
    label = "controls"
