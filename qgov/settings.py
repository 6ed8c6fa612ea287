"""qgov settings: one module, driven by environment variables (see .env.example).

With nothing configured qgov runs on SQLite in the project folder and runs Celery
tasks in-process, so `make run` works on a fresh machine. Production sets
DATABASE_URL, CELERY_BROKER_URL and friends and turns DJANGO_DEBUG off.
"""

import hashlib
import importlib.util
import os
from datetime import timedelta
from pathlib import Path

import environ
import xstatic.pkg.bootstrap
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

INSECURE_DEFAULT_SECRET_KEY = "django-insecure-qgov-development-only-key"
INSECURE_DEFAULT_AUDIT_KEY = "qgov-insecure-development-only-audit-key"

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env("DJANGO_SECRET_KEY", default=INSECURE_DEFAULT_SECRET_KEY)
# Earlier keys, only to check signatures made with them (portal links stay valid across a rotation).
SECRET_KEY_FALLBACKS = env.list("DJANGO_SECRET_KEY_FALLBACKS", default=[])
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
# The audit chain's HMAC key (never stored in the database); see docs/audit.md for rotation.
QGOV_AUDIT_KEY = env("QGOV_AUDIT_KEY", default="") or INSECURE_DEFAULT_AUDIT_KEY
QGOV_AUDIT_KEY_ID = env("QGOV_AUDIT_KEY_ID", default="")  # default: first 8 hex of the key's SHA-256
QGOV_AUDIT_OLD_KEYS = env.list("QGOV_AUDIT_OLD_KEYS", default=[])  # retired keys, only to verify

if not DEBUG:
    # A production process must never run on the published development key.
    if SECRET_KEY == INSECURE_DEFAULT_SECRET_KEY or len(SECRET_KEY) < 50:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY must be set to a random value of at least 50 characters when DJANGO_DEBUG is off."
        )
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must be set when DJANGO_DEBUG is off.")
    if QGOV_AUDIT_KEY == INSECURE_DEFAULT_AUDIT_KEY or len(QGOV_AUDIT_KEY) < 32:
        raise ImproperlyConfigured(
            "QGOV_AUDIT_KEY must be set to a random value of at least 32 characters when DJANGO_DEBUG is off."
        )

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_tables2",
    "qgov",
    # Domain apps: each registers its navigation, routes, panels, beat entries and loaders itself
    # (qgov.registry); listing it here is all the core needs.
    "risks",
    "certification",
    "procurement",
    "incidents",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "qgov.middleware.RequestContextMiddleware",
    # Ends sessions past their idle or absolute limit (qgov.identity); inside the audit context.
    "qgov.identity.middleware.SessionLimitMiddleware",
    "qgov.middleware.ActiveAgencyMiddleware",
    # Answers a refused sign-in with 429 whichever view asked (qgov.identity.lockout).
    "qgov.identity.lockout.LockoutMiddleware",
]

ROOT_URLCONF = "qgov.urls"
WSGI_APPLICATION = "qgov.wsgi.application"

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
                "qgov.context_processors.qgov",
            ],
        },
    },
]

DATABASES = {
    "default": env.db(
        "DATABASE_URL",
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
    )
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Django's backend, its placeholder rewrite done once per SQL text (qgov/backends/sqlite3).
    DATABASES["default"]["ENGINE"] = "qgov.backends.sqlite3"
    # A file, not memory, so that a Celery worker started by the tests sees the test database.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "test.sqlite3")}
    # Transactions take SQLite's write lock at BEGIN, where waiting (up to `timeout` s) is safe: begun
    # deferred, a transaction that reads and then writes while another connection commits fails at
    # once with "database is locked" (tests/core/test_sqlite_transactions.py).
    DATABASES["default"].setdefault("OPTIONS", {}).update(timeout=20, transaction_mode="IMMEDIATE")
else:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Connections outlive a request on SQLite too: a new SQLite connection parses the schema and starts
# with an empty page cache, 2.6 ms of a 4.3 ms API page (benchmarks/results/national-analysis.md).
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# ModelBackend with each password check inside a lockout slot; not beside ModelBackend, which would check again.
AUTHENTICATION_BACKENDS = ["qgov.identity.lockout.LockoutModelBackend"]

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]

# Passwords (NIST SP 800-63B): at least 15 characters and a blocklist (common passwords, the user's own
# details, the service's and the agencies' names); no composition rules, so no NumericPasswordValidator.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 15}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "qgov.identity.passwords.ContextWordsValidator", "OPTIONS": {"min_length": 15}},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

# The default cache holds rate-limit counters (qgov.ratelimit): with several web processes, point it
# at a shared cache (e.g. CACHE_URL=redis://127.0.0.1:6379/1) so that they count together.
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}
# Pages reached by a one-time link without signing in (docs/rate-limits.md): requests per hour
# for one link, and for one client address across links.
QGOV_LINK_REQUESTS_PER_TOKEN = env.int("QGOV_LINK_REQUESTS_PER_TOKEN", default=300)
QGOV_LINK_REQUESTS_PER_IP = env.int("QGOV_LINK_REQUESTS_PER_IP", default=600)
QGOV_LINK_RATE_WINDOW_SECONDS = env.int("QGOV_LINK_RATE_WINDOW_SECONDS", default=3600)

# Failed sign-ins (qgov.identity.lockout, docs/rate-limits.md): password checks per username and client
# address per window; a window lasts QGOV_LOGIN_LOCKOUT_MINUTES after its last check. From addresses
# where the user has not signed in within QGOV_LOGIN_KNOWN_ADDRESS_DAYS, checks of the username also
# count against QGOV_LOGIN_USERNAME_FAILURE_LIMIT, whatever the address.
QGOV_LOGIN_FAILURE_LIMIT = env.int("QGOV_LOGIN_FAILURE_LIMIT", default=5)
QGOV_LOGIN_LOCKOUT_MINUTES = env.int("QGOV_LOGIN_LOCKOUT_MINUTES", default=15)
QGOV_LOGIN_USERNAME_FAILURE_LIMIT = env.int("QGOV_LOGIN_USERNAME_FAILURE_LIMIT", default=20)
QGOV_LOGIN_KNOWN_ADDRESS_DAYS = env.int("QGOV_LOGIN_KNOWN_ADDRESS_DAYS", default=90)
# Words a password may not be built from (besides the agencies' names and codes): qgov.identity.passwords.
QGOV_PASSWORD_CONTEXT_WORDS = env.list("QGOV_PASSWORD_CONTEXT_WORDS", default=["qgov", "quantum", "qkd"])

# How many reverse proxies stand in front of qgov. With N, the client address is the Nth entry from the
# right of X-Forwarded-For (each proxy appends the address it was reached from); with 0 (the default)
# it is REMOTE_ADDR and X-Forwarded-For is ignored, since any client can send one.
QGOV_TRUSTED_PROXIES = env.int("QGOV_TRUSTED_PROXIES", default=0)

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
# ISO 8601 dates and 24-hour times for every list and page (qgov/formats/en/formats.py).
FORMAT_MODULE_PATH = ["qgov.formats"]
TIME_ZONE = "UTC"
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("bootstrap", xstatic.pkg.bootstrap.BASE_DIR),
    # Tom Select (searchable multi-selects), as vendored by django-tomselect; only its static files are used.
    ("tomselect", Path(importlib.util.find_spec("django_tomselect").origin).parent / "static" / "django_tomselect"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Evidence files: MEDIA_ROOT/private/evidence/, never given a URL (docs/evidence.md).
    "evidence": {"BACKEND": "qgov.evidence.storage.EvidenceStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG and env.bool("QGOV_MANIFEST_STATIC", default=True)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = env.bool("QGOV_STATIC_FINDERS", default=DEBUG)
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(BASE_DIR / "media")))
MEDIA_URL = "/media/"

# The report signing key and certificate (PEM files; docs in qgov/reports/signing.py). `make run` creates a
# self-signed development pair there; production installs the platform's own (system check qgov.E101).
QGOV_REPORT_SIGNING_KEY = Path(env("QGOV_REPORT_SIGNING_KEY",
                                   default=str(BASE_DIR / "var" / "report-signing" / "key.pem")))
QGOV_REPORT_SIGNING_CERT = Path(env("QGOV_REPORT_SIGNING_CERT",
                                    default=str(BASE_DIR / "var" / "report-signing" / "certificate.pem")))
QGOV_REPORT_SIGNING_KEY_PASSWORD = env("QGOV_REPORT_SIGNING_KEY_PASSWORD", default="")
# Processes that lay out a large report PDF's volumes side by side (qgov/reports/pdf.py; 1: in the worker
# process itself). By default one per core, up to 4: a 10,000-risk register takes about 100 s of layout,
# split between them (benchmarks/RESULTS-reports.md). A report of one volume never forks.
QGOV_REPORT_PDF_PROCESSES = env.int("QGOV_REPORT_PDF_PROCESSES", default=min(os.cpu_count() or 1, 4))

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="qgov <noreply@qgov.invalid>")
# Where qgov is reached, e.g. https://qgov.example.gov: put before the links in reminders, so that
# emailed links work outside the browser. Empty: links are paths.
QGOV_SITE_URL = env("QGOV_SITE_URL", default="")

# Webhooks (docs/integrating.md). Receivers allowed although on intranet addresses, plain http
# included: host names or CIDRs, comma-separated (e.g. "hooks.intra,10.20.0.0/16").
QGOV_WEBHOOK_ALLOWED_HOSTS = env.list("QGOV_WEBHOOK_ALLOWED_HOSTS", default=[])
# Seals the endpoints' signing secrets at rest; empty: a key derived from SECRET_KEY.
QGOV_WEBHOOK_SECRET_KEY = env("QGOV_WEBHOOK_SECRET_KEY", default="")
# Deliveries one sender task makes side by side (PostgreSQL; one at a time on SQLite).
QGOV_WEBHOOK_SENDER_THREADS = env.int("QGOV_WEBHOOK_SENDER_THREADS", default=4)

# Agency identity providers (docs/identity-providers.md). An http:// issuer on 127.0.0.1, ::1 or
# localhost is accepted only with this flag, meant for test providers; otherwise issuers are https.
QGOV_OIDC_ALLOW_HTTP_LOOPBACK = env.bool("QGOV_OIDC_ALLOW_HTTP_LOOPBACK", default=False)
# Sign-in through a provider (qgov.identity.oidc): the timeout of each request to it (connect, read), and
# how long its discovery document and signing keys are cached (a key it rotated in is fetched at once).
QGOV_OIDC_HTTP_TIMEOUT_SECONDS = env.float("QGOV_OIDC_HTTP_TIMEOUT_SECONDS", default=10.0)
QGOV_OIDC_CACHE_SECONDS = env.int("QGOV_OIDC_CACHE_SECONDS", default=3600)
# Seal the providers' client secrets at rest, comma-separated: the first seals, every one opens (put a
# new key first to rotate; `manage.py reseal_identity_secrets` re-seals). Empty: derived from SECRET_KEY.
QGOV_IDENTITY_SECRET_KEYS = env.list("QGOV_IDENTITY_SECRET_KEYS", default=[])

# Transport security: on by default in production, off for the local development server.
HTTPS = env.bool("DJANGO_HTTPS", default=not DEBUG)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_HTTPONLY = True
# Sessions (qgov.identity): stored under a hash of the cookie's key; ended on the server after the idle
# or absolute limit (an agency may set stricter ones); Lax cookies, and over HTTPS `__Host-` names, which
# browsers accept only from this exact host, Secure, for path "/" (no domain, so no sibling host sets them).
SESSION_ENGINE = "qgov.identity.store"
QGOV_SESSION_IDLE_SECONDS = env.int("QGOV_SESSION_IDLE_SECONDS", default=3600)
QGOV_SESSION_ABSOLUTE_SECONDS = env.int("QGOV_SESSION_ABSOLUTE_SECONDS", default=12 * 3600)
# A page view writes the session's last-seen time at most this often (idle time is counted from it).
QGOV_SESSION_TOUCH_SECONDS = env.int("QGOV_SESSION_TOUCH_SECONDS", default=60)
# Issuing a token or changing a session policy needs a sign-in or re-authentication this recent.
QGOV_REAUTH_SECONDS = env.int("QGOV_REAUTH_SECONDS", default=300)
# Passkeys (qgov.identity.mfa.passkeys): the WebAuthn relying party; empty: the request's host, and its
# scheme and host as the only origin.
QGOV_WEBAUTHN_RP_ID = env.str("QGOV_WEBAUTHN_RP_ID", default="")
QGOV_WEBAUTHN_ORIGINS = env.list("QGOV_WEBAUTHN_ORIGINS", default=[])
SESSION_COOKIE_AGE = QGOV_SESSION_ABSOLUTE_SECONDS
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_PATH = CSRF_COOKIE_PATH = "/"
SESSION_COOKIE_DOMAIN = CSRF_COOKIE_DOMAIN = None
SESSION_COOKIE_NAME = "__Host-sessionid" if HTTPS else "sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken" if HTTPS else "csrftoken"
if not 0 < QGOV_SESSION_IDLE_SECONDS <= QGOV_SESSION_ABSOLUTE_SECONDS:
    raise ImproperlyConfigured("QGOV_SESSION_IDLE_SECONDS must be positive and at most QGOV_SESSION_ABSOLUTE_SECONDS.")
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
X_FRAME_OPTIONS = "DENY"

# Celery: eager in-process execution unless a broker is configured.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="memory://")
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL.startswith("memory://")
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env(
    "CELERY_RESULT_BACKEND",
    default=CELERY_BROKER_URL if CELERY_BROKER_URL.startswith("redis") else None,
)
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_RESULT_EXPIRES = 3600
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TIMEZONE = "UTC"
# The core's beat entries; each domain app adds its own when it registers (qgov.registry).
CELERY_BEAT_SCHEDULE = {
    "verify-audit-chain-nightly": {
        "task": "qgov.tasks.verify_audit_chain",
        "schedule": crontab(hour=1, minute=30),
    },
    "write-audit-checkpoints-daily": {
        "task": "qgov.tasks.write_audit_checkpoints",
        "schedule": crontab(hour=1, minute=45),
    },
    # After the apps' nightly state changes (e.g. risk acceptances lapse at 02:00), so that what
    # lapsed overnight is not reminded about.
    "send-due-date-reminders-daily": {
        "task": "qgov.tasks.send_due_date_reminders",
        "schedule": crontab(hour=6, minute=0),
    },
    # Deadlines in hours (regulator clocks: 4, 24, 72 hours) cannot wait for the daily run; a run
    # with nothing due costs one query per deadline declared in hours.
    "send-hour-reminders-every-5-minutes": {
        "task": "qgov.tasks.send_hour_reminders",
        "schedule": crontab(minute="*/5"),
    },
    # The agencies' report schedules, and report runs whose worker vanished (queued again).
    "run-due-report-schedules": {
        "task": "qgov.reports.tasks.report_schedules_run_due",
        "schedule": crontab(minute="*/5"),
    },
    "requeue-lost-report-runs": {
        "task": "qgov.reports.tasks.report_runs_requeue",
        "schedule": crontab(minute="*/5"),
    },
    # Idempotency keys past their retention (QGOV_IDEMPOTENCY_KEY_HOURS); a key may be reused after.
    # Login attempt rows past their window whose address is no longer known (qgov.identity.lockout).
    "purge-expired-login-attempts-hourly": {
        "task": "qgov.identity.lockout.login_attempts_purge_expired",
        "schedule": crontab(minute=17),
    },
    # Browser session records past their idle or absolute limit whose browser never came back, and
    # expired stored sessions (qgov.identity.sessions.user_sessions_end_expired).
    "end-expired-user-sessions": {
        "task": "qgov.tasks.end_expired_user_sessions",
        "schedule": crontab(minute="*/15"),
    },
    "purge-expired-idempotency-keys-hourly": {
        "task": "qgov.integrations.idempotency.tasks.idempotency_keys_purge_expired",
        "schedule": crontab(minute=20),
    },
    # The webhook outbox: sends what is due (new deliveries are also queued when they commit;
    # this catches retries and whatever a lost worker or broker dropped).
    "send-due-webhooks": {
        "task": "qgov.integrations.webhooks.tasks.webhooks_send_due",
        "schedule": 5.0,
    },
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "qgov.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["qgov.api.permissions.RolePermission"],
    "DEFAULT_THROTTLE_CLASSES": ["qgov.api.throttling.ApiTokenRateThrottle"],
    "DEFAULT_PAGINATION_CLASS": "qgov.api.pagination.QgovPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "qgov.api.filters.QgovFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "qgov.api.schema.QgovAutoSchema",
    "EXCEPTION_HANDLER": "qgov.api.exceptions.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["qgov.api.renderers.QgovJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["qgov.api.parsers.JSONParser"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "qgov.api.negotiation.QgovContentNegotiation",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DEFAULT_VERSIONING_CLASS": None,
}
if DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"].append("rest_framework.renderers.BrowsableAPIRenderer")

SPECTACULAR_SETTINGS = {
    "TITLE": "qgov API",
    "DESCRIPTION": "Governance and risk register for quantum communications in government networks.\n\n"
                   "Connecting an agency system (tokens, generated clients, sync, idempotent writes, webhooks): "
                   "[Integrating with qgov](/api/guide/).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # A choice that may be unset is a nullable enum (qgov.api.fields.OptionalChoiceField), not one with
    # "" or null members (BlankEnum, NullEnum), which generated clients cannot name.
    "ENUM_ADD_EXPLICIT_BLANK_NULL_CHOICE": False,
    # The base classes' docstrings are for developers, not descriptions of every schema component.
    "GET_LIB_DOC_EXCLUDES": "qgov.api.schema.lib_doc_excludes",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": "/api/",
    # Core choice sets that several serializers use (an app's own: QgovApp.api_enum_names).
    "ENUM_NAME_OVERRIDES": {"RoleEnum": "qgov.choices.RoleChoices",
                            "AuditActionEnum": "qgov.choices.AuditActionChoices",
                            "ImportRunStatusEnum": "qgov.choices.ImportRunStatusChoices",
                            "ReportKindEnum": "qgov.reports.choices.ReportKindChoices",
                            "ReportMarkingEnum": "qgov.reports.choices.ReportMarkingChoices",
                            "ReportFormatEnum": "qgov.reports.choices.ReportFormatChoices",
                            "PageSizeEnum": "qgov.reports.choices.PageSizeChoices",
                            "ScheduleFrequencyEnum": "qgov.reports.choices.ScheduleFrequencyChoices",
                            # Identity: a membership's source beside the audit event's (which keeps its name).
                            "SourceEnum": "qgov.choices.AuditSourceChoices",
                            "MembershipSourceEnum": "qgov.choices.MembershipSourceChoices",
                            "IdentityProviderProtocolEnum":
                                "qgov.identity.providers.choices.IdentityProviderProtocolChoices"},
}

# Lists count exactly up to this many records; past it, on PostgreSQL, the planner's estimate is shown
# (flagged as such) instead of a COUNT(*) of the whole result on every page (docs/api.md).
QGOV_EXACT_COUNT_LIMIT = env.int("QGOV_EXACT_COUNT_LIMIT", default=10_000)
QGOV_API_TOKEN_TTL = timedelta(days=env.int("QGOV_API_TOKEN_TTL_DAYS", default=30))
# How long an API write's Idempotency-Key and its stored answer are kept (docs/integrating.md).
QGOV_IDEMPOTENCY_KEY_HOURS = env.int("QGOV_IDEMPOTENCY_KEY_HOURS", default=72)
if not timedelta(days=1) <= QGOV_API_TOKEN_TTL <= timedelta(days=366):
    raise ImproperlyConfigured("QGOV_API_TOKEN_TTL_DAYS must be from 1 to 366: no token lives longer than 366 days.")
# The key of the keyed hash API token secrets are stored under (qgov.tokens). Changing it invalidates
# every token; by default it is derived from SECRET_KEY, so rotating that does too.
QGOV_TOKEN_HASH_KEY = env("QGOV_TOKEN_HASH_KEY", default="") or hashlib.sha256(
    f"qgov-api-token-hash:{SECRET_KEY}".encode()).hexdigest()
# Requests per window (seconds) for each API token, "600/60"; empty: no limit. Counted in the default
# cache (CACHE_URL), which must be shared (Redis) when several processes serve the API.
QGOV_API_TOKEN_RATE_LIMIT = env("QGOV_API_TOKEN_RATE_LIMIT", default="600/60")
# How far back a change-feed cursor may point (days); an older one is a 410 and the client resyncs from
# the lists. Audit events are kept regardless: this is a promise of /api/changes/ only.
QGOV_CHANGE_FEED_RETENTION_DAYS = env.int("QGOV_CHANGE_FEED_RETENTION_DAYS", default=90)

# Imports (CSV, XLSX): the largest file accepted, and the most data rows one import may hold.
QGOV_IMPORT_MAX_BYTES = env.int("QGOV_IMPORT_MAX_BYTES", default=20 * 1024 * 1024)
QGOV_IMPORT_MAX_ROWS = env.int("QGOV_IMPORT_MAX_ROWS", default=50_000)

# Evidence files: the largest upload accepted, and the file types (extensions) allowed.
QGOV_EVIDENCE_MAX_BYTES = env.int("QGOV_EVIDENCE_MAX_BYTES", default=25 * 1024 * 1024)
QGOV_EVIDENCE_ALLOWED_TYPES = [
    extension.strip().lower().lstrip(".")
    for extension in env.list("QGOV_EVIDENCE_ALLOWED_TYPES", default=[
        "pdf", "png", "jpg", "jpeg", "txt", "csv", "json", "xml", "xlsx", "docx", "zip"])
    if extension.strip()
]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="WARNING")},
}
