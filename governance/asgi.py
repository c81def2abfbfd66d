"""ASGI entry point (gunicorn with uvicorn workers): event streams are coroutines here."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings.base")
application = get_asgi_application()
