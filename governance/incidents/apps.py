from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "governance.incidents"
    label = "incidents"
    verbose_name = "Incidents and kill switches"
