from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "governance.integrations"
    verbose_name = "Registry integrations"

    def ready(self) -> None:
        from governance.integrations.sagemaker_writeback import release_changed_write_back
        from governance.releases.signals import release_changed

        release_changed.connect(release_changed_write_back, dispatch_uid="sagemaker-write-back")
