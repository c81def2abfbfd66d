"""Test settings: the base settings (so DATABASE_URL / REDIS_URL choose the services) made fast."""

from governance.settings.base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Static files come from the finders (no collectstatic before tests).
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# Each test process signs checkpoints with a throwaway key of its own (never a file on disk).
if not AUDIT_SIGNING_KEY and not AUDIT_SIGNING_KEY_FILE:  # noqa: F405
    from governance.audit.signing import generate_signing_key

    AUDIT_SIGNING_KEY = generate_signing_key("tests.governance.localhost/audit-log").skey
AUDIT_DEV_SIGNING_KEY_FILE = None
# The tests' peers (stand-ins for GitHub, webhook receivers, registries) listen on loopback; the
# SSRF tests put back the production default (nothing internal allowed).
OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8", "::1/128", "localhost"]
# Most tests run inside a transaction that is rolled back, never committed: seal as events are
# recorded. Tests that commit for real seal at commit, as the product does (tests/conftest.py).
AUDIT_SEAL = "in_transaction"
