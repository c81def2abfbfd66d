"""The Celery app. Broker and result backend come from REDIS_URL; without it tasks run eagerly."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings.base")

app = Celery("governance")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Beat's scheduler and its sweeper thread (connected to beat_init).
import governance.beat  # noqa: E402, F401
