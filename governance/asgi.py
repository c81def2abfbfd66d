"""ASGI entry point, for the streaming endpoints to come (kill switch Server-Sent Events)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings.base")
application = get_asgi_application()
