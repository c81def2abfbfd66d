from django.apps import AppConfig


class ReleasesConfig(AppConfig):
    name = "governance.releases"
    label = "releases"
