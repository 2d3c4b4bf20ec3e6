"""Settings for the field-dispatch service.

Everything that differs between a laptop and production is read from the
environment (see README, "Production"). The embedded defaults need no server:
SQLite in ``var/db.sqlite3`` and a filesystem Celery broker in ``var/broker/``.
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from .env import env_bool, env_date, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("DISPATCH_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", default=False)

_DEV_SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG and not env_bool("DISPATCH_ALLOW_DEV_SECRET", default=False):
        raise ImproperlyConfigured(
            "SECRET_KEY must be set in the environment when DEBUG is off "
            "(set DEBUG=1 for local development)."
        )
    SECRET_KEY = _DEV_SECRET_KEY

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "accounts",
    "sites",
    "dispatch",
    "api",
    "web",
    "support",
    "axes",
    "audit",
    "demo",
    "webhooks",
    "django_celery_beat",  # issue 25: optional DatabaseScheduler, periodic tasks in the admin
    "django_prometheus",  # issue 25: /metrics (observability.views)
    "observability",  # issue 25: domain metrics, JSON logs, request ids
    "stamps",  # issue 25: change counters that keep cached answers exact
]

MIDDLEWARE = [
    # First and (almost) last: request counts and latencies for /metrics (issue 25).
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    # A request id on every log line of the request, an access log line (observability).
    "observability.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Scripts only from /static/, never inline (stored XSS stays inert).
    "config.csp.ContentSecurityPolicyMiddleware",
    "config.cache_control.NoStoreMiddleware",  # customers' data: no cache keeps a copy
    "config.unavailable.DatabaseUnavailableMiddleware",  # pages: 503, not 500, in an outage
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "audit.middleware.AuditActorMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
    # Last, so it sees a lockout flagged during authentication and answers it.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

# --- Database ---------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'db.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL,
        conn_max_age=env_int("DB_CONN_MAX_AGE", 0),
        # A persistent connection broken by a database restart is replaced at the
        # start of the next request instead of failing it.
        conn_health_checks=env_bool("DB_CONN_HEALTH_CHECKS", default=True),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    # The web server and the embedded worker write to the same file: WAL lets
    # readers proceed during a write, IMMEDIATE takes the write lock at BEGIN
    # so two writers queue on the busy timeout instead of failing mid-transaction.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# fields.W161 compares a TimeField's fixed default (shifts at 08:30, lunch from 11:30)
# with the current UTC time of day and fires when `check` runs within 10 s of it: a
# false positive for times of day that made `check --deploy` fail at 13:30:05 UTC.
# Date and datetime fields with a fixed default (what it is meant to catch) are
# refused by tests/reliability/test_deploy_settings.py instead.
SILENCED_SYSTEM_CHECKS = ["fields.W161"]

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Axes checks every sign-in (web form, API login, admin) before the password does.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
# Password reset requests per client address (web/password_reset.py): each one may
# send an email, so a flood would spam our users and our mail relay's reputation.
PASSWORD_RESET_RATE = env_str("THROTTLE_PASSWORD_RESET", "5/hour")

# --- Email (password reset links) -----------------------------------------------
# The console backend prints the mail to the web server's log: right for `make run`;
# production sets EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend and EMAIL_HOST.
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "dispatch@localhost")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)  # seconds; a dead relay must not hang a worker

# --- Maps --------------------------------------------------------------------
# Leaflet tile URL template, e.g. "https://tile.openstreetmap.org/{z}/{x}/{y}.png".
# Empty (the default): maps draw points and routes on a plain background, so
# the board works offline and in tests.
MAP_TILE_URL = env_str("MAP_TILE_URL", "")
MAP_TILE_ATTRIBUTION = env_str("MAP_TILE_ATTRIBUTION", "")
LOGOUT_REDIRECT_URL = "web:login"

# --- Internationalisation ----------------------------------------------------
LANGUAGE_CODE = env_str("LANGUAGE_CODE", "en")
LANGUAGES = [("en", _("English")), ("ja", _("Japanese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Asia/Tokyo")
USE_I18N = True
USE_TZ = True

# --- Planning calendar ---------------------------------------------------------
# New work goes on today or later (in TIME_ZONE): optimizing, dragging and
# publishing leave the days gone by as the field left them (docs/SCHEDULE.md).
# Unset in production. A training copy or the test suite pins "today" with
# DISPATCH_PLANNING_TODAY=2026-01-01 so that plans of fixed weeks stay plannable.
PLANNING_TODAY = env_date("DISPATCH_PLANNING_TODAY")


# --- Support hand-offs ---------------------------------------------------------
# Targets per call category, in minutes from the hand-off: acknowledge within /
# finish within. "no_connection=30,slow=240" overrides those categories; the
# others keep the defaults of support.inbox.DEFAULT_ACKNOWLEDGE_MINUTES and
# DEFAULT_DONE_MINUTES (docs/SUPPORT.md). Wall-clock time, shown in TIME_ZONE.
def _minutes_by_category(name: str) -> dict[str, int]:
    pairs = (item.partition("=") for item in env_list(name))
    try:
        return {key.strip(): int(value) for key, _sep, value in pairs}
    except ValueError as exc:
        raise ValueError(f"{name} must read like 'no_connection=30,slow=240'") from exc


SUPPORT_HANDOFF_ACKNOWLEDGE_MINUTES = _minutes_by_category("SUPPORT_HANDOFF_ACKNOWLEDGE_MINUTES")
SUPPORT_HANDOFF_DONE_MINUTES = _minutes_by_category("SUPPORT_HANDOFF_DONE_MINUTES")

# --- Visit slots offered during a call (dispatch/slots.py, docs/SUPPORT.md) ----
# Days searched from tomorrow; the promised arrival window is the planned start
# +/- SLOT_WINDOW_MINUTES; SLOT_BOOKING_PUBLISHES=1 puts a booked slot on the
# live schedule at once instead of waiting for a coordinator to confirm it.
SLOT_OFFER_DAYS = env_int("SLOT_OFFER_DAYS", 14)
SLOT_WINDOW_MINUTES = env_int("SLOT_WINDOW_MINUTES", 30)
SLOT_BOOKING_PUBLISHES = env_bool("SLOT_BOOKING_PUBLISHES", default=False)

# --- Static files ------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES: dict[str, dict[str, object]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# --- Photos (sites/photos.py, docs/CREWS.md "Photos") ------------------------
# Crews' photos are private: they are served only through /api/v1/photos/{id}/image/
# (and thumbnail/), which check who asks; MEDIA_URL is never routed. Files go to the
# "photos" storage: the filesystem under var/media by default, or an S3-compatible
# bucket with PHOTO_STORAGE=s3 (django-storages; its AWS_* / PHOTO_S3_* variables below).
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "/media/"
PHOTO_STORAGE = env_str("PHOTO_STORAGE", "filesystem")  # "filesystem" or "s3"
if PHOTO_STORAGE == "s3":
    STORAGES["photos"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env_str("PHOTO_S3_BUCKET"),
            "endpoint_url": env_str("PHOTO_S3_ENDPOINT_URL") or None,  # MinIO, R2, Wasabi...
            "region_name": env_str("PHOTO_S3_REGION") or None,
            "location": env_str("PHOTO_S3_PREFIX", "photos"),
            "default_acl": "private",
            "querystring_auth": True,  # signed URLs only; the bucket stays private
            "querystring_expire": env_int("PHOTO_S3_URL_SECONDS", 300),
            "file_overwrite": False,
        },
    }
    # Credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or an instance role), read
    # by boto3 from the environment.
elif PHOTO_STORAGE == "filesystem":
    STORAGES["photos"] = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT / "photos"), "base_url": None},
    }
else:
    raise ImproperlyConfigured("PHOTO_STORAGE must be 'filesystem' or 's3'")
# With S3, answer the image URLs with a redirect to a short-lived signed URL instead of
# streaming the bytes through the app (add the bucket's host to the CSP's img-src then).
PHOTO_REDIRECT_TO_STORAGE = env_bool("PHOTO_REDIRECT_TO_STORAGE", default=False)
PHOTO_MAX_BYTES = env_int("PHOTO_MAX_BYTES", 10 * 1024 * 1024)
PHOTO_MIN_SIDE = env_int("PHOTO_MIN_SIDE", 64)
PHOTO_MAX_SIDE = env_int("PHOTO_MAX_SIDE", 12_000)
PHOTO_MAX_PIXELS = env_int("PHOTO_MAX_PIXELS", 50_000_000)
PHOTO_THUMBNAIL_SIDE = env_int("PHOTO_THUMBNAIL_SIDE", 320)
PHOTO_JPEG_QUALITY = env_int("PHOTO_JPEG_QUALITY", 88)
# A partner's crew may add photos to a job from the day of its visit (live, or reported
# not finished) until this many days after it.
PHOTO_UPLOAD_DAYS_AFTER_VISIT = env_int("PHOTO_UPLOAD_DAYS_AFTER_VISIT", 14)

# --- REST framework ----------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.RolePermission"],
    "DEFAULT_PARSER_CLASSES": [
        "api.parsers.SafeJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.Pagination",
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "login": env_str("THROTTLE_LOGIN", "10/min"),
        "tokens": env_str("THROTTLE_TOKENS", "30/min"),
        "calendar": env_str("THROTTLE_CALENDAR", "120/min"),
    },
    # JSON only in production: Accept: text/html never gets the browsable API page.
    "DEFAULT_RENDERER_CLASSES": ["api.renderers.FastJSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # Rate limits key on the client's address. X-Forwarded-For is written by
    # whoever sends the request, so it counts only behind this many proxies we
    # run ourselves (0: the socket's address, whatever the header says).
    "NUM_PROXIES": env_int("TRUSTED_PROXIES", 0),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "ISP field dispatch API",
    "DESCRIPTION": (
        "Plans, routes and reports for delivery coordinators, partner crews and support. "
        "Every error has the shape {error: {status, code, message, fields?}}."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.local_time_of_day",
        "api.schema.document_errors",
    ],
    "ENUM_NAME_OVERRIDES": {
        "JobStatusEnum": "dispatch.states.JobStatus",
        "JobKindEnum": "dispatch.states.JobKind",
        "PlanStatusEnum": "dispatch.models.PlanStatus",
        "RunStatusEnum": "dispatch.models.RunStatus",
        "ReportKindEnum": "dispatch.models.ReportKind",
        "ChangeKindEnum": "dispatch.models.ChangeKind",
        "IncompleteReasonEnum": "dispatch.models.IncompleteReason",
        "PermissionStatusEnum": "sites.models.PermissionStatus",
        "ContractStatusEnum": "sites.models.ContractStatus",
        "BillingStatusEnum": "sites.models.BillingStatus",
        "PhotoKindEnum": "sites.models.PhotoKind",
        "HandoffTeamEnum": "support.models.HandoffTeam",
        "HandoffStatusEnum": "support.models.HandoffStatus",
        # An event is a step a receiver takes: acknowledged or done (never "open").
        "HandoffStepEnum": [("acknowledged", "Acknowledged"), ("done", "Done")],
    },
}
# Oversized payloads are refused before they are parsed (413 in the API's error shape).
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 1024 * 1024)

# --- Cache (login throttling counters, cached answers; Redis shares them) -----
CACHE_URL = env_str("CACHE_URL")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
        if CACHE_URL
        # Per process: enough for every crew's day of a large partner network.
        else {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "OPTIONS": {"MAX_ENTRIES": 5000},
        }
    )
}
# Cached answers (api.representations): keyed by change counters, so never served
# stale; the lifetime only bounds a process dying between its commit and its bump.
# 0 turns a cache off (the answer is built every time; ETag and 304 still work).
ROUTE_CACHE_SECONDS = env_int("ROUTE_CACHE_SECONDS", 600)
SEARCH_CACHE_SECONDS = env_int("SEARCH_CACHE_SECONDS", 300)
# Checked API tokens kept in each process's memory (accounts.tokens), same rule.
API_TOKEN_CACHE_SECONDS = env_int("API_TOKEN_CACHE_SECONDS", 300)

# --- Celery --------------------------------------------------------------------
BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or "filesystem://"
if CELERY_BROKER_URL == "filesystem://":
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
    for _folder in ("queue", "control"):
        (BROKER_DIR / _folder).mkdir(parents=True, exist_ok=True)
# An unreachable broker must fail an optimize request in seconds (503), not hang it.
CELERY_BROKER_CONNECTION_TIMEOUT = env_int("CELERY_BROKER_CONNECTION_TIMEOUT", 3)
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5}
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": CELERY_BROKER_CONNECTION_TIMEOUT}
CELERY_TASK_IGNORE_RESULT = True  # progress and outcomes live in our own tables
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 30 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 25 * 60)
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# Processes one optimization may use: large weeks search several regions at
# once (scheduler.decompose), small ones run independent searches side by side.
PLANNER_WORKERS = max(1, env_int("PLANNER_WORKERS", 1))
# Travel times everywhere (planner, slot offers, edits, the leg home): straight
# lines by default, or an OSRM server's road table (dispatch/travel.py,
# docs/TRAVEL.md). `manage.py check` refuses osrm without an http(s) URL.
TRAVEL_PROVIDER = env_str("TRAVEL_PROVIDER", "straight_line").strip().lower()
TRAVEL_OSRM_URL = env_str("TRAVEL_OSRM_URL").strip()
TRAVEL_OSRM_PROFILE = env_str("TRAVEL_OSRM_PROFILE", "driving").strip()
TRAVEL_OSRM_TIMEOUT_S = env_int("TRAVEL_OSRM_TIMEOUT_S", 10)
TRAVEL_OSRM_CHUNK = env_int("TRAVEL_OSRM_CHUNK", 100)
CELERY_TIMEZONE = TIME_ZONE
# A running optimization silent this long has lost its worker; the sweep runs
# this often (Celery beat: `celery -A config beat`, or `worker -B`), so a dead
# run frees its plan within RUN_STALE_AFTER_SECONDS + RUN_SWEEP_INTERVAL_SECONDS.
RUN_STALE_AFTER_SECONDS = env_int("RUN_STALE_AFTER_SECONDS", 40)
RUN_SWEEP_INTERVAL_SECONDS = env_int("RUN_SWEEP_INTERVAL_SECONDS", 15)
CELERY_BEAT_SCHEDULE = {
    "sweep-stale-runs": {
        "task": "dispatch.sweep_stale_runs",
        "schedule": float(RUN_SWEEP_INTERVAL_SECONDS),
    },
}

# --- Geocoding -------------------------------------------------------------------
GEOCODER = {
    "NAME": env_str("GEOCODER_NAME", "nominatim"),
    "DOMAIN": env_str("GEOCODER_DOMAIN", "nominatim.openstreetmap.org"),
    "SCHEME": env_str("GEOCODER_SCHEME", "https"),
    "USER_AGENT": env_str("GEOCODER_USER_AGENT", "isp-field-dispatch/0.1"),
    "TIMEOUT_SECONDS": env_int("GEOCODER_TIMEOUT_SECONDS", 5),
    "COUNTRY_CODES": env_str("GEOCODER_COUNTRY_CODES", "jp"),
}

# --- Security (tightened in production by DEBUG=0) ----------------------------------
# Every default is the production one when DEBUG is off; `make run` (DEBUG=1,
# plain http on 127.0.0.1) gets the development ones. `manage.py check --deploy`
# is clean with DEBUG=0 and a real SECRET_KEY (tests/reliability/test_deploy_settings.py).
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
# Trust X-Forwarded-Proto only from a proxy that always overwrites it; set
# SECURE_PROXY_SSL_HEADER="" when the app is reached without such a proxy.
_PROXY_SSL_HEADER = env_str("SECURE_PROXY_SSL_HEADER", "HTTP_X_FORWARDED_PROTO")
SECURE_PROXY_SSL_HEADER = (_PROXY_SSL_HEADER, "https") if _PROXY_SSL_HEADER else None
# No CORS middleware on purpose: browsers allow the API to same-origin pages only.

# --- Brute-force protection (django-axes) ---------------------------------------------
# A username that fails AXES_FAILURE_LIMIT times from one address is locked for
# AXES_COOLOFF_MINUTES (web form and API alike, 429); a successful sign-in resets it.
AXES_ENABLED = env_bool("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_MINUTES", 15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_HTTP_RESPONSE_CODE = 429
AXES_LOCKOUT_CALLABLE = "api.lockout.lockout_response"

# --- API tokens -----------------------------------------------------------------------
# Every token expires; a client may ask for a shorter life (expires_in_days), never a
# longer one, and rotates before the end (POST /api/v1/auth/tokens/{id}/rotate/).
API_TOKEN_LIFETIME_DAYS = max(1, env_int("API_TOKEN_LIFETIME_DAYS", 90))


# --- Health and periodic work (issue 25) ---------------------------------------------
# Readiness (/api/v1/health/ready/, config/health.py): a worker must answer a control
# ping within this many seconds (the filesystem broker polls once a second: keep >= 2);
# the disk holding uploaded photos must keep this much free.
HEALTH_WORKER_PING_TIMEOUT_SECONDS = max(1, env_int("HEALTH_WORKER_PING_TIMEOUT_SECONDS", 2))
HEALTH_DISK_MIN_FREE_MB = env_int("HEALTH_DISK_MIN_FREE_MB", 500)
# Periodic work. The schedule lives here, in code; beat reads it from a local file
# scheduler by default (`make run`: the worker's embedded beat) or, with
# CELERY_BEAT_SCHEDULER=django_celery_beat.schedulers:DatabaseScheduler, from the
# database, where the admin can pause or re-time an entry (docs/OPERATIONS.md).
CELERY_BEAT_SCHEDULER = env_str("CELERY_BEAT_SCHEDULER", "celery.beat:PersistentScheduler")
# Revoked or expired API tokens and revoked calendar feeds are deleted this many days
# after they stopped working (until then a client hears "expired", not "unknown").
CREDENTIAL_PURGE_AFTER_DAYS = max(0, env_int("CREDENTIAL_PURGE_AFTER_DAYS", 30))
CREDENTIAL_PURGE_INTERVAL_SECONDS = env_int("CREDENTIAL_PURGE_INTERVAL_SECONDS", 6 * 3600)
RECURRING_REFRESH_INTERVAL_SECONDS = env_int("RECURRING_REFRESH_INTERVAL_SECONDS", 3600)
CELERY_BEAT_SCHEDULE.update(
    {
        "purge-expired-api-tokens": {
            "task": "accounts.purge_expired_tokens",
            "schedule": float(CREDENTIAL_PURGE_INTERVAL_SECONDS),
        },
        "purge-revoked-calendar-feeds": {
            "task": "dispatch.purge_revoked_calendar_feeds",
            "schedule": float(CREDENTIAL_PURGE_INTERVAL_SECONDS),
        },
        "refresh-recurring-issues": {
            "task": "support.refresh_recurring_issues",
            "schedule": float(RECURRING_REFRESH_INTERVAL_SECONDS),
        },
        # Webhook deliveries a lost message or a broker outage left pending are sent again.
        "webhooks-sweep": {"task": "webhooks.sweep", "schedule": 60.0},
    }
)
# dispatch/tasks.py is not ours to extend: the worker imports the periodic module too.
CELERY_IMPORTS = ("dispatch.periodic",)

# --- Metrics and logs (issue 25) -------------------------------------------------------
# docs/OPERATIONS.md, "Metrics and logs". /metrics answers scrapers on METRICS_ALLOWED_IPS
# (addresses or CIDR blocks; loopback by default, "" for none) or presenting
# "Authorization: Bearer $METRICS_TOKEN"; everyone else gets 403. Prometheus scrapes
# over plain http inside the network, so /metrics is exempt from the https redirect.
METRICS_ALLOWED_IPS = env_list("METRICS_ALLOWED_IPS", ["127.0.0.1/32", "::1/128"])
METRICS_TOKEN = env_str("METRICS_TOKEN")
METRICS_CELERY_QUEUES = env_list("METRICS_CELERY_QUEUES", ["celery"])
SECURE_REDIRECT_EXEMPT = [r"^metrics$"]
# LOG_FORMAT=json (one JSON object per line, the default with DEBUG off) or console
# (readable lines, the default with DEBUG on, e.g. `make run`); LOG_LEVEL as before.
# Replaces the plain LOGGING of before: same single stderr handler on the root logger.
from observability.logs import logging_config  # noqa: E402 - kept inside this block

LOG_FORMAT = env_str("LOG_FORMAT", "console" if DEBUG else "json").strip().lower()
if LOG_FORMAT not in {"json", "console"}:
    raise ImproperlyConfigured("LOG_FORMAT must be 'json' or 'console'")
LOGGING = logging_config(json_format=LOG_FORMAT == "json", level=env_str("LOG_LEVEL", "INFO"))
