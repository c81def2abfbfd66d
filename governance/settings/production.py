"""Production: fail fast on missing secrets, secure cookies, HSTS, hashed static files.

`manage.py check --deploy --fail-level WARNING --settings=governance.settings.production` is clean.
"""

from django.core.exceptions import ImproperlyConfigured

from governance.settings.base import *  # noqa: F403
from governance.settings.env import env_bool, env_int, env_str

SECRET_KEY = env_str("SECRET_KEY")
if len(SECRET_KEY) < 50:
    raise ImproperlyConfigured(
        "SECRET_KEY must be set to a random value of at least 50 characters in production "
        "(python -c 'import secrets; print(secrets.token_urlsafe(64))')."
    )
DEBUG = env_bool("DEBUG", False)

# Checkpoints are signed with a key the operator provides; no development key is made here.
AUDIT_DEV_SIGNING_KEY_FILE = None
if not (AUDIT_SIGNING_KEY or AUDIT_SIGNING_KEY_FILE or AUDIT_SIGNING_DISABLED):  # noqa: F405
    raise ImproperlyConfigured(
        "Set AUDIT_SIGNING_KEY or AUDIT_SIGNING_KEY_FILE (make one with `manage.py audit_keygen "
        "--name example.com/audit`), or AUDIT_SIGNING_DISABLED=true to run without signed "
        "audit checkpoints."
    )

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # container health checks speak plain HTTP
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
X_FRAME_OPTIONS = "DENY"

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
