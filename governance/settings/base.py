"""Settings for every environment, driven by environment variables.

With nothing set the product runs on its embedded defaults: SQLite, Celery tasks run eagerly in
the web process, Rego evaluated in-process. DATABASE_URL, REDIS_URL and OPA_URL switch each part
to the real service. production.py tightens this for deployment.
"""

from pathlib import Path

import dj_database_url

from governance.settings.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent

# Development only; production.py refuses to start without a real SECRET_KEY.
SECRET_KEY = env_str("SECRET_KEY") or "django-insecure-development-only-never-deploy-this-key"
DEBUG = env_bool("DEBUG", True)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# How many reverse proxies stand in front of the app; their X-Forwarded-For entries are trusted
# for the client IP recorded in audit events. 0 means REMOTE_ADDR is the client.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_htmx",
    "governance.core",
    "governance.accounts",
    "governance.audit",
    "governance.inventory",
    "governance.controls",
    "governance.policy",
    "governance.webhooks",
    "governance.incidents",
    "governance.reports",
    "governance.releases",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "governance.core.middleware.RequestContextMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "governance.urls"
WSGI_APPLICATION = "governance.wsgi.application"
ASGI_APPLICATION = "governance.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "governance.core.context_processors.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # IMMEDIATE takes the write lock at BEGIN, so two writers queue instead of failing with
        # "database is locked" halfway through (the audit chain append reads, then writes).
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, Celery, cache -------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
# Without a broker the tasks run in the web process, so `make run` works on a bare machine.
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE = {
    "verify-audit-chain": {
        "task": "governance.audit.tasks.audit_chain_verify_task",
        "schedule": env_int("AUDIT_VERIFY_INTERVAL_SECONDS", 3600),
    },
    # Reports whose worker died mid-render are marked failed (and retryable).
    "fail-stale-reports": {
        "task": "governance.reports.tasks.report_stale_fail_task",
        "schedule": 60,
    },
    "purge-expired-reports": {
        "task": "governance.reports.tasks.report_retention_purge_task",
        "schedule": 3600,
    },
    "expire-release-approvals": {
        "task": "governance.releases.tasks.releases_expire_task",
        "schedule": env_int("RELEASE_EXPIRY_INTERVAL_SECONDS", 300),
    },
    "retry-outbound-webhooks": {
        "task": "governance.webhooks.tasks.outbound_deliveries_due_task",
        "schedule": 60,
    },
}
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Kill switches -------------------------------------------------------------------------
# Flips fan out to the streams of every web worker through Redis pub/sub; without Redis the
# streams poll the database (the source of truth) every KILL_SWITCH_STREAM_POLL_SECONDS.
KILL_SWITCH_PUBSUB_URL = REDIS_URL
KILL_SWITCH_REDIS_TIMEOUT_SECONDS = 0.5
KILL_SWITCH_STREAM_POLL_SECONDS = 1.0
KILL_SWITCH_STREAM_RETRY_MS = 1000
# A stream ends after this long; the client reconnects with Last-Event-ID and misses nothing.
KILL_SWITCH_STREAM_MAX_SECONDS = env_int("KILL_SWITCH_STREAM_MAX_SECONDS", 300)
KILL_SWITCH_STREAM_HEARTBEAT_SECONDS = env_int("KILL_SWITCH_STREAM_HEARTBEAT_SECONDS", 15)

# --- Policy engine --------------------------------------------------------------------------
# Empty: Rego is evaluated in-process by regopy. Set: policies run on that OPA server.
OPA_URL = env_str("OPA_URL")
POLICY_DIR = BASE_DIR / "policies"
# An engine that has not decided by then has failed, and the answer is deny (fail closed).
POLICY_TIMEOUT_MS = env_int("POLICY_TIMEOUT_MS", 2000)
# Endpoints (api, k8s, github) that allow when the engine fails; each such decision is audited.
POLICY_FAIL_OPEN = env_list("POLICY_FAIL_OPEN", [])
# Input fields whose names contain any of these are masked in the decision log.
POLICY_MASKED_FIELDS = env_list(
    "POLICY_MASKED_FIELDS",
    [
        "password",
        "secret",
        "token",
        "api_key",
        "apikey",
        "authorization",
        "credential",
        "private_key",
    ],
)

# --- Inbound webhooks -----------------------------------------------------------------------
# Standard Webhooks secret (whsec_...) for signed POST /api/v1/policy/check calls.
POLICY_CHECK_WEBHOOK_SECRET = env_str("POLICY_CHECK_WEBHOOK_SECRET")
GITHUB_WEBHOOK_SECRET = env_str("GITHUB_WEBHOOK_SECRET")
GITHUB_APP_ID = env_str("GITHUB_APP_ID")
GITHUB_APP_PRIVATE_KEY = env_str("GITHUB_APP_PRIVATE_KEY")
GITHUB_API_URL = env_str("GITHUB_API_URL", "https://api.github.com")

# --- Releases and outbound webhooks -----------------------------------------------------------
# Approvals (and requests left waiting) expire after this many hours.
RELEASE_APPROVAL_TTL_HOURS = env_int("RELEASE_APPROVAL_TTL_HOURS", 72)
# Break-glass approval by an admin: off unless switched on; always needs a reason, always flagged.
RELEASE_BREAK_GLASS_ENABLED = env_bool("RELEASE_BREAK_GLASS_ENABLED", False)
# Outbound deliveries: attempts before giving up, first retry delay (doubling), request timeout.
OUTBOUND_WEBHOOK_MAX_ATTEMPTS = env_int("OUTBOUND_WEBHOOK_MAX_ATTEMPTS", 8)
OUTBOUND_WEBHOOK_BACKOFF_SECONDS = env_int("OUTBOUND_WEBHOOK_BACKOFF_SECONDS", 30)
OUTBOUND_WEBHOOK_TIMEOUT_SECONDS = env_int("OUTBOUND_WEBHOOK_TIMEOUT_SECONDS", 10)

# --- Auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:dashboard"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600)

# --- API ------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "governance.accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Deny by default: an API view that names no permission is closed to everyone.
    "DEFAULT_PERMISSION_CLASSES": ["governance.accounts.permissions.HasPermission"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "governance.core.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "EXCEPTION_HANDLER": "governance.core.problems.problem_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Governance control plane API",
    "DESCRIPTION": "AI system inventory, NIST AI RMF controls, policy checks, approvals, "
    "kill switches and a tamper-evident audit log.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",  # tags by resource: audit, systems, datasets…
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # A kill switch's state and its safe state share one set of values.
    "ENUM_NAME_OVERRIDES": {
        "KillSwitchStateEnum": "governance.incidents.models.SwitchState",
        "PolicyVersionStatusEnum": "governance.policy.models.VersionStatus",
        "ReportKindEnum": "governance.reports.models.ReportKind",
        "ReportStatusEnum": "governance.reports.models.ReportStatus",
        "EnvironmentEnum": "governance.inventory.models.Environment",
        "OutboundEventEnum": "governance.webhooks.models.OutboundEvent",
        "ReleaseStateEnum": "governance.releases.models.ReleaseState",
    },
}
# Bodies larger than this get 413 problem+json.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("MAX_REQUEST_BODY_BYTES", 1024 * 1024)
IDEMPOTENCY_KEY_TTL_HOURS = env_int("IDEMPOTENCY_KEY_TTL_HOURS", 24)
# Evidence files larger than this are refused.
EVIDENCE_MAX_BYTES = env_int("EVIDENCE_MAX_BYTES", 10 * 1024 * 1024)
MEDIA_ROOT = env_str("MEDIA_ROOT") or str(BASE_DIR / "media")

# --- Compliance reports ---------------------------------------------------------------------
# Requests that would print more audit events than this are refused (filter, or export CSV).
REPORT_MAX_EVENTS = env_int("REPORT_MAX_EVENTS", 5000)
# Finished PDFs are removed after this many days; their record (SHA-256, chain head) stays.
REPORT_RETENTION_DAYS = env_int("REPORT_RETENTION_DAYS", 90)
# A rendering report silent for this long lost its worker: it is marked failed, retryable.
REPORT_STALE_SECONDS = env_int("REPORT_STALE_SECONDS", 600)

# --- I18N, static ---------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # WeasyPrint logs every layout step at INFO; its warnings (bad CSS, missing fonts) stay.
    "loggers": {"weasyprint": {"level": "WARNING"}, "fontTools": {"level": "WARNING"}},
}
