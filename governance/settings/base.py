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
    "axes",
    "governance.core",
    "governance.accounts",
    "governance.audit",
    "governance.inventory",
    "governance.artifacts",
    "governance.controls",
    "governance.policy",
    "governance.webhooks",
    "governance.incidents",
    "governance.runtime",
    "governance.reports",
    "governance.releases",
    "governance.integrations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "governance.core.middleware.RequestContextMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, so it sees the lockout flag the sign-in view's authentication set.
    "axes.middleware.AxesMiddleware",
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

# --- Content-Security-Policy (django-csp) ----------------------------------------------------
# No inline script or style anywhere: behaviour lives in static/js, looks in static/css.
# Swagger UI draws its icons from data: URIs.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "object-src": ["'none'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "img-src": ["'self'", "data:"],
    }
}

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
# No request waits on Redis longer than this: connect and socket timeouts of the broker, the
# cache and the kill switch pub/sub (a frozen Redis accepts connections and never answers).
REDIS_TIMEOUT_MS = env_int("REDIS_TIMEOUT_MS", 500)
_REDIS_TIMEOUT = REDIS_TIMEOUT_MS / 1000
# The longest a task may run (report rendering is the longest); the broker's visibility timeout
# is a minute more, so a message is only handed out again once its first run must be over.
TASK_TIME_LIMIT_SECONDS = env_int("TASK_TIME_LIMIT_SECONDS", 900)
CELERY_BROKER_URL = REDIS_URL or "memory://"
# Nothing reads task results: the database rows (reports, step executions, deliveries) are
# the outcome. No result backend, so tasks never write to Redis on the way out.
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
# Without a broker the tasks run in the web process, so `make run` works on a bare machine.
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_TASK_TIME_LIMIT = TASK_TIME_LIMIT_SECONDS
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = _REDIS_TIMEOUT
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_timeout": _REDIS_TIMEOUT,
    "socket_connect_timeout": _REDIS_TIMEOUT,
    "visibility_timeout": TASK_TIME_LIMIT_SECONDS + 60,
}
# A publish is retried twice, briefly; after that the outbox sweeper publishes it again.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
# Beat sends again, every few seconds, a scheduled task the broker refused (it was down).
CELERY_BEAT_SCHEDULER = "governance.beat:CatchUpScheduler"
# The sweeper (a thread in Celery beat) publishes queued work again and fails stale reports.
OUTBOX_SWEEP_SECONDS = env_int("OUTBOX_SWEEP_SECONDS", 10)
# A message published this long ago and still unclaimed is published again.
OUTBOX_REPUBLISH_SECONDS = env_int("OUTBOX_REPUBLISH_SECONDS", 60)
# Work waiting longer than this is overdue: shown as "queued too long", and retryable.
OUTBOX_OVERDUE_SECONDS = env_int("OUTBOX_OVERDUE_SECONDS", 300)
CELERY_BEAT_SCHEDULE = {
    "verify-audit-chain": {
        "task": "governance.audit.tasks.audit_chain_verify_task",
        "schedule": env_int("AUDIT_VERIFY_INTERVAL_SECONDS", 3600),
    },
    "sign-audit-checkpoint": {
        "task": "governance.audit.tasks.audit_checkpoint_task",
        "schedule": env_int("AUDIT_CHECKPOINT_INTERVAL_SECONDS", 3600),
    },
    "purge-expired-reports": {
        "task": "governance.reports.tasks.report_retention_purge_task",
        "schedule": 3600,
    },
    "expire-release-approvals": {
        "task": "governance.releases.tasks.releases_expire_task",
        "schedule": env_int("RELEASE_EXPIRY_INTERVAL_SECONDS", 300),
    },
    "retry-github-reviews": {
        "task": "governance.webhooks.tasks.github_deliveries_due_task",
        "schedule": 30,
    },
    "retry-outbound-webhooks": {
        "task": "governance.webhooks.tasks.outbound_deliveries_due_task",
        "schedule": 60,
    },
    # Registry aliases of systems whose kill switch is engaged are taken off (integrations/).
    "reconcile-registry-aliases": {
        "task": "governance.integrations.tasks.registry_aliases_reconcile_task",
        "schedule": env_int("INTEGRATIONS_RECONCILE_SECONDS", 60),
    },
    # Release decisions on SageMaker model packages go back as ModelApprovalStatus; due retries.
    "sync-registry-approvals": {
        "task": "governance.integrations.tasks.registry_approvals_sync_task",
        "schedule": env_int("INTEGRATIONS_RECONCILE_SECONDS", 60),
    },
}
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {
                "socket_connect_timeout": _REDIS_TIMEOUT,
                "socket_timeout": _REDIS_TIMEOUT,
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Kill switches -------------------------------------------------------------------------
# Flips fan out to the streams of every web worker through Redis pub/sub; without Redis the
# streams poll the database (the source of truth) every KILL_SWITCH_STREAM_POLL_SECONDS.
KILL_SWITCH_PUBSUB_URL = REDIS_URL
KILL_SWITCH_REDIS_TIMEOUT_SECONDS = _REDIS_TIMEOUT
KILL_SWITCH_STREAM_POLL_SECONDS = 1.0
KILL_SWITCH_STREAM_RETRY_MS = 1000
# A stream ends after this long; the client reconnects with Last-Event-ID and misses nothing.
KILL_SWITCH_STREAM_MAX_SECONDS = env_int("KILL_SWITCH_STREAM_MAX_SECONDS", 300)
KILL_SWITCH_STREAM_HEARTBEAT_SECONDS = env_int("KILL_SWITCH_STREAM_HEARTBEAT_SECONDS", 15)
# Event streams one API token (AI service replicas share one) or one person may hold open.
KILL_SWITCH_STREAMS_PER_TOKEN = env_int("KILL_SWITCH_STREAMS_PER_TOKEN", 200)
KILL_SWITCH_STREAMS_PER_USER = env_int("KILL_SWITCH_STREAMS_PER_USER", 8)
# Stream requests one ASGI worker authenticates at once (each holds a database connection).
KILL_SWITCH_STREAM_OPENING_CONCURRENCY = env_int("KILL_SWITCH_STREAM_OPENING_CONCURRENCY", 4)
# OFREP evaluations one token (or user) may make per minute; over it, 429 with Retry-After.
OFREP_RATE_LIMIT_PER_MINUTE = env_int("OFREP_RATE_LIMIT_PER_MINUTE", 1200)

# --- Policy engine --------------------------------------------------------------------------
# Empty: Rego is evaluated in-process by regopy. Set: policies run on that OPA server.
OPA_URL = env_str("OPA_URL")
POLICY_DIR = BASE_DIR / "policies"
# An engine that has not decided by then has failed, and the answer is deny (fail closed).
POLICY_TIMEOUT_MS = env_int("POLICY_TIMEOUT_MS", 2000)
# Embedded Rego runs in evaluation processes (per web process) that a timeout kills; one that
# grows past POLICY_ENGINE_MEMORY_MB is killed too. When all are busy for POLICY_ENGINE_WAIT_MS
# the decision is denied at once (fail closed) instead of queueing behind a runaway policy.
POLICY_ENGINE_PROCESSES = env_int("POLICY_ENGINE_PROCESSES", 2)
POLICY_ENGINE_MEMORY_MB = env_int("POLICY_ENGINE_MEMORY_MB", 512)
POLICY_ENGINE_WAIT_MS = env_int("POLICY_ENGINE_WAIT_MS", 20)
# A version with this many timeouts within an hour is flagged on the policy page and audited.
POLICY_TIMEOUT_ALERT_COUNT = env_int("POLICY_TIMEOUT_ALERT_COUNT", 3)
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

# --- SageMaker Model Registry (integrations/) -----------------------------------------------
# The region SageMaker calls are signed for when the endpoint's host does not name one. The keys
# (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN) are read from the environment
# at call time, never from settings or the database.
AWS_REGION = env_str("AWS_REGION", env_str("AWS_DEFAULT_REGION"))
# Attempts of one approval status write-back before it is marked failed (doubling backoff).
SAGEMAKER_WRITEBACK_MAX_ATTEMPTS = env_int("SAGEMAKER_WRITEBACK_MAX_ATTEMPTS", 8)
SAGEMAKER_WRITEBACK_BACKOFF_SECONDS = env_int("SAGEMAKER_WRITEBACK_BACKOFF_SECONDS", 30)

# --- Releases and outbound webhooks -----------------------------------------------------------
# Approvals (and requests left waiting) expire after this many hours.
RELEASE_APPROVAL_TTL_HOURS = env_int("RELEASE_APPROVAL_TTL_HOURS", 72)
# Break-glass approval by an admin: off unless switched on; always needs a reason, always flagged.
RELEASE_BREAK_GLASS_ENABLED = env_bool("RELEASE_BREAK_GLASS_ENABLED", False)
# Outbound deliveries: attempts before giving up, first retry delay (doubling), request timeout.
OUTBOUND_WEBHOOK_MAX_ATTEMPTS = env_int("OUTBOUND_WEBHOOK_MAX_ATTEMPTS", 8)
OUTBOUND_WEBHOOK_BACKOFF_SECONDS = env_int("OUTBOUND_WEBHOOK_BACKOFF_SECONDS", 30)
OUTBOUND_WEBHOOK_TIMEOUT_SECONDS = env_int("OUTBOUND_WEBHOOK_TIMEOUT_SECONDS", 10)
# The one outbound HTTP client (governance.core.outbound) refuses internal addresses; these hosts,
# addresses or networks (e.g. "mlflow.internal,10.20.0.0/16") may be called on purpose.
OUTBOUND_ALLOWED_NETWORKS = env_list("OUTBOUND_ALLOWED_NETWORKS", [])
OUTBOUND_TIMEOUT_SECONDS = env_int("OUTBOUND_TIMEOUT_SECONDS", 10)

# --- Audit log --------------------------------------------------------------------------------
# Events are written with their change and sealed into the chain (numbered, hashed) as it
# commits, so writers queue on the chain head only for their commit ("at_commit", PostgreSQL).
# "in_transaction" seals each event as it is recorded, holding the head until the transaction
# ends: what SQLite always does, and what tests that never commit need.
AUDIT_SEAL = "at_commit"

# --- Audit checkpoints (signed tree heads) ----------------------------------------------------
# The log's name in every checkpoint (C2SP tlog-checkpoint origin line): a schema-less URL.
AUDIT_LOG_ORIGIN = env_str("AUDIT_LOG_ORIGIN", "governance.localhost/audit-log")
# The Ed25519 signing key (PRIVATE+KEY+name+id+base64, see `manage.py audit_keygen`) or a file
# holding it. Never in the database.
AUDIT_SIGNING_KEY = env_str("AUDIT_SIGNING_KEY")
AUDIT_SIGNING_KEY_FILE = env_str("AUDIT_SIGNING_KEY_FILE")
# Embedded default: without either, a development key is created here on first use.
AUDIT_DEV_SIGNING_KEY_FILE = BASE_DIR / "var" / "audit-signing.key"
# Explicitly run without checkpoints (production refuses to start without a key otherwise).
AUDIT_SIGNING_DISABLED = env_bool("AUDIT_SIGNING_DISABLED", False)
# Verifier keys (name+id+base64) of earlier signing keys that stay trusted after a rotation.
AUDIT_TRUSTED_KEYS = env_list("AUDIT_TRUSTED_KEYS", [])
AUDIT_CHECKPOINT_INTERVAL_SECONDS = env_int("AUDIT_CHECKPOINT_INTERVAL_SECONDS", 3600)
# Optional RFC 3161 time-stamping authority for every checkpoint, and the CA (PEM) that its
# tokens must chain to.
AUDIT_TSA_URL = env_str("AUDIT_TSA_URL")
AUDIT_TSA_CA_FILE = env_str("AUDIT_TSA_CA_FILE")
# Optional witnesses: each new checkpoint is POSTed (text/plain signed note) to these URLs.
AUDIT_WITNESS_URLS = env_list("AUDIT_WITNESS_URLS", [])

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
# Login throttling (django-axes): after LOGIN_FAILURE_LIMIT failures an IP address or a
# username is locked out for LOGIN_LOCKOUT_SECONDS, doubling with each lockout in a day; the
# sign-in page answers 429 with Retry-After meanwhile.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
LOGIN_LOCKOUT_SECONDS = env_int("LOGIN_LOCKOUT_SECONDS", 60)
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
AXES_COOLOFF_TIME = "governance.accounts.login_throttle.login_cooloff"
AXES_LOCKOUT_CALLABLE = "governance.accounts.login_throttle.login_lockout_response"
AXES_CLIENT_IP_CALLABLE = "governance.core.middleware.client_ip"
AXES_RESET_ON_SUCCESS = True
# Attempts during a lockout are refused without being stored, so they cannot grow any table.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_DISABLE_ACCESS_LOG = True
AXES_ENABLE_ADMIN = False
AXES_VERBOSE = False
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
    "DEFAULT_PARSER_CLASSES": ["governance.core.parsers.JsonParser"],
    "DEFAULT_PAGINATION_CLASS": "governance.core.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["governance.core.filtering.StrictFilterBackend"],
    "EXCEPTION_HANDLER": "governance.core.problems.problem_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "governance.core.openapi.GovernanceAutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # Machine tokens have a per-minute budget for policy checks and for reads (429 beyond it).
    "DEFAULT_THROTTLE_CLASSES": ["governance.accounts.throttling.TokenRateThrottle"],
}
# Requests per minute per API token (0: unlimited), counted in the cache (Redis when set).
TOKEN_RATE_LIMITS = {
    "policy_check": env_int("TOKEN_RATE_LIMIT_POLICY_CHECK", 600),
    # The API server's own token: a rollout sends every Pod create, and a 429 is a refusal.
    "admission": env_int("TOKEN_RATE_LIMIT_ADMISSION", 6000),
    "read": env_int("TOKEN_RATE_LIMIT_READ", 1200),
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
        "KillSwitchStateEnum": "governance.runtime.models.SwitchState",
        "RuntimeControlKindEnum": "governance.runtime.models.ControlKind",
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
# A GitHub review that meets a 5xx, a 429 or a timeout is tried again after this many seconds,
# doubling each time, until this many attempts; then the delivery is failed (retry by hand).
GITHUB_RETRY_BACKOFF_SECONDS = env_int("GITHUB_RETRY_BACKOFF_SECONDS", 10)
GITHUB_REVIEW_MAX_ATTEMPTS = env_int("GITHUB_REVIEW_MAX_ATTEMPTS", 6)
# JSON nested deeper than this is a 400 (the decoder recurses once per level).
JSON_MAX_DEPTH = env_int("JSON_MAX_DEPTH", 100)
# Kubernetes sends object and oldObject in one UPDATE review: the API server's own request
# limit (3 MiB) applies to admission bodies, the general limit to everything else.
K8S_ADMISSION_MAX_BODY_BYTES = env_int("K8S_ADMISSION_MAX_BODY_BYTES", 3 * 1024 * 1024)
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
    "filters": {"database_unreachable": {"()": "governance.core.logs.DatabaseUnreachable"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["database_unreachable"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # WeasyPrint logs every layout step at INFO; its warnings (bad CSS, missing fonts) stay.
    # Axes logs each sign-in check at INFO; its lockout warnings stay.
    "loggers": {
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}
