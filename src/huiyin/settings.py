"""One environment-driven settings module (12-factor).

Every knob is an environment variable; the defaults give the embedded set-up:
SQLite in WAL mode inside ``HUIYIN_DATA_DIR`` and the database task backend.
"""

import contextlib
import hashlib
import hmac
import ipaddress
import os
import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from huiyin.access.deploy import resolve_secret_key

BASE_DIR = Path(__file__).resolve().parent
env = environ.Env()

DATA_DIR = Path(env.str("HUIYIN_DATA_DIR", default=str(Path.cwd() / "var"))).resolve()


def private_dir(path: Path) -> Path:
    """Create ``path`` readable by this account only (0700), or take group and other
    rights off an existing one: the data directory holds personal data (F81)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o077:
        with contextlib.suppress(PermissionError):  # someone else's: left as its owner set it
            path.chmod(0o700)
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` empty with mode 0600 if missing, or make an existing one 0600."""
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    if path.stat().st_mode & 0o077:
        with contextlib.suppress(PermissionError):
            path.chmod(0o600)
    return path


private_dir(DATA_DIR)
# Triage's model files (one per organisation and version; never in the repository):
# HUIYIN_DATA_DIR/triage unless set.
HUIYIN_TRIAGE_DIR = env.str("HUIYIN_TRIAGE_DIR", default="")

DEBUG = env.bool("HUIYIN_DEBUG", default=False)
# Production mode: a strong SECRET_KEY is required, HTTPS-only settings and the second factor
# rule default to on (README, "Production"). Off, the embedded laptop/demo set-up.
PRODUCTION = env.bool("HUIYIN_PRODUCTION", default=False)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("Refusing to start: HUIYIN_DEBUG must be off when HUIYIN_PRODUCTION is on.")
# Without SECRET_KEY a non-production install uses a random key kept in HUIYIN_DATA_DIR/secret_key;
# a weak or public key is refused unless DEBUG (huiyin.access.deploy).
SECRET_KEY = resolve_secret_key(
    configured=env.str("SECRET_KEY", default=""), production=PRODUCTION, debug=DEBUG, data_dir=DATA_DIR
)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "huiyin.administration.operator_apps.OperatorAdminConfig",  # django.contrib.admin, superusers only
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "csp",
    "huiyin.core",
    "huiyin.orgs",
    "huiyin.access",
    "huiyin.cases",
    "huiyin.policy",
    "huiyin.deadlines",
    "huiyin.supervision",
    "huiyin.handling",
    "huiyin.followup",
    "huiyin.surveys",
    "huiyin.evaluation",
    "huiyin.reports",
    "huiyin.administration",
    "huiyin.demo",
    "huiyin.ops",
    "huiyin.portal",
    "huiyin.notifications",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "huiyin.api",
    "huiyin.reception",
    "huiyin.frontoffice",
    "huiyin.triage",
    "huiyin.knowledge",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Control characters out of every query and form value and file name (issue 13).
    "huiyin.core.middleware.CleanInputMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "huiyin.administration.middleware.PasswordChangeRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # huiyin.access: no-store on every page, session lifetime, the second factor; axes last.
    "huiyin.access.middleware.NoStoreMiddleware",
    "huiyin.access.middleware.SessionLifetimeMiddleware",
    "huiyin.access.middleware.SecondFactorMiddleware",
    "axes.middleware.AxesMiddleware",
]
# The public portal refuses an oversized request before anything reads its body (the input
# cleaning and the CSRF check would): placed before CleanInputMiddleware.
MIDDLEWARE.insert(
    MIDDLEWARE.index("huiyin.core.middleware.CleanInputMiddleware"), "huiyin.portal.middleware.BodyLimitMiddleware"
)
# The same for /api/ and /open311/, with the API's error body (huiyin.api.middleware).
MIDDLEWARE.insert(
    MIDDLEWARE.index("huiyin.core.middleware.CleanInputMiddleware"), "huiyin.api.middleware.BodyLimitMiddleware"
)

ROOT_URLCONF = "huiyin.urls"
CSRF_FAILURE_VIEW = "huiyin.portal.handlers.csrf_failure"  # the portal's page under /portal/, the site's elsewhere
WSGI_APPLICATION = "huiyin.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "huiyin.navigation.navigation",
            ],
        },
    },
]


def _database() -> dict:
    url = env.str("DATABASE_URL", default="")
    if url:
        db = env.db_url_config(url)
        if db["ENGINE"] == "django.db.backends.sqlite3":  # another SQLite file: the same locking
            return _sqlite(db["NAME"])
        db.setdefault("CONN_MAX_AGE", 60)
        return db
    private_dir(DATA_DIR)
    # Created 0600 before SQLite opens it; its -wal and -shm files take the same mode.
    return _sqlite(str(private_file(DATA_DIR / "huiyin.sqlite3")))


def _sqlite(name: str) -> dict:
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": name,
        "OPTIONS": {
            # IMMEDIATE takes the write lock when a transaction starts, so two
            # writers queue on busy_timeout instead of failing to upgrade a read
            # lock ("database is locked") halfway through a registration.
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=30000;"
            ),
        },
        # A file, not shared-cache memory: concurrency tests need real locking between threads.
        "TEST": {"NAME": str(DATA_DIR / "test-huiyin.sqlite3")},
    }


DATABASES = {"default": _database()}
# A read replica for the dashboard and the reports (huiyin.core.replica): a streaming
# replica of the primary. Tests mirror it onto the test database (a second connection).
_replica_url = env.str("DATABASE_REPLICA_URL", default="")
if _replica_url:
    DATABASES["replica"] = {**env.db_url_config(_replica_url), "CONN_MAX_AGE": 60, "TEST": {"MIRROR": "default"}}
DATABASE_ROUTERS = ["huiyin.core.replica.ReplicaRouter"]
HUIYIN_REPORTS_GAP_SECONDS = env.int("HUIYIN_REPORTS_GAP_SECONDS", default=3600)
# The dashboard ranks handling times exactly up to this many closed cases in a period, and
# estimates the quantile from the roll-ups' histogram above it (the reports always rank).
HUIYIN_REPORTS_EXACT_QUANTILE_MAX = env.int("HUIYIN_REPORTS_EXACT_QUANTILE_MAX", default=200_000)
# Exports of any list (core/exports.py): up to HUIYIN_EXPORT_INLINE_ROWS rows streamed in the
# response; longer ones written by a background task with their progress shown, the file kept
# HUIYIN_EXPORT_KEEP_HOURS for the person who asked.
HUIYIN_EXPORT_INLINE_ROWS = env.int("HUIYIN_EXPORT_INLINE_ROWS", default=5_000)
HUIYIN_EXPORT_KEEP_HOURS = env.float("HUIYIN_EXPORT_KEEP_HOURS", default=24.0)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "orgs.Staff"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
# Django's validators; their messages come in Chinese from Django's zh_Hans catalogue (the length
# message from huiyin.access.passwords: Django 5.2's catalogue lacks it).
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("username", "full_name", "first_name", "last_name", "email")},
    },
    {
        "NAME": "huiyin.access.passwords.MinimumLengthValidator",
        "OPTIONS": {"min_length": env.int("HUIYIN_PASSWORD_MIN_LENGTH", default=10)},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Axes first: it refuses a locked-out username + address before the password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "huiyin.access.backends.StaffBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "cases:desk"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# The case event bus's subscriber table (huiyin/subscribers.py): kinds, subscribers, guards.
HUIYIN_EVENT_TABLE = "huiyin.subscribers"

TIME_ZONE = env.str("HUIYIN_TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
MEDIA_ROOT = Path(env.str("HUIYIN_MEDIA_ROOT", default=str(DATA_DIR / "media")))
MEDIA_URL = "media/"
# Attachments and their folders are private to the account the service runs as (F81).
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",
    },
}

# Serve static files straight from the apps when collectstatic has not run (tests, first start).
WHITENOISE_USE_FINDERS = True

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("HUIYIN_SECURE_COOKIES", default=PRODUCTION)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# --- Login and deployment hardening (huiyin.access; README, "Production") ---
# HTTPS: redirect, HSTS, and the header a TLS-terminating proxy sets (e.g. X-Forwarded-Proto).
SECURE_SSL_REDIRECT = env.bool("HUIYIN_SSL_REDIRECT", default=PRODUCTION)
SECURE_HSTS_SECONDS = env.int("HUIYIN_HSTS_SECONDS", default=31536000 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("HUIYIN_HSTS_INCLUDE_SUBDOMAINS", default=PRODUCTION)
SECURE_HSTS_PRELOAD = env.bool("HUIYIN_HSTS_PRELOAD", default=PRODUCTION)
_proxy_ssl_header = env.str("HUIYIN_PROXY_SSL_HEADER", default="")
if _proxy_ssl_header:
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _proxy_ssl_header.upper().replace("-", "_"), "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Scripts and styles only from our own static files: no inline <script>, <style>, style= or on*=
# in templates (tests/access/test_headers.py scans them).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],  # Bootstrap's form icons are data: SVGs
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
# Sessions end after HUIYIN_SESSION_IDLE_MINUTES without a request and HUIYIN_SESSION_MAX_HOURS
# after the login, whatever happens; by default also when the browser closes.
SESSION_COOKIE_AGE = env.int("HUIYIN_SESSION_IDLE_MINUTES", default=120) * 60
HUIYIN_SESSION_MAX_AGE = env.int("HUIYIN_SESSION_MAX_HOURS", default=12) * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = env.bool("HUIYIN_SESSION_EXPIRE_AT_BROWSER_CLOSE", default=True)
# Login throttling (django-axes, in the database: one lock for every worker process): after
# HUIYIN_LOGIN_FAILURE_LIMIT failures a username is locked from that address for the cool-off.
AXES_FAILURE_LIMIT = env.int("HUIYIN_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("HUIYIN_LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Attempts while locked are refused unchecked and do not push the end of the lock further out.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_VERBOSE = False  # no start-up banner on every command
AXES_LOCKOUT_CALLABLE = "huiyin.access.views.locked_out"
AXES_CLIENT_IP_CALLABLE = "huiyin.access.network.client_ip"
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "token"]  # masked in logs and records; passwords always
# Behind N reverse proxies the client's address is the N-th from the right in X-Forwarded-For.
HUIYIN_PROXY_COUNT = env.int("HUIYIN_PROXY_COUNT", default=0)
# Second factor (TOTP, django-otp): who must enrol. Capability names (huiyin.orgs.roles.Cap) and
# "admin_site" (accounts that can enter Django's admin). Default: everyone with the personal-data
# right, organisation administrators and admin-site accounts in production; nobody otherwise
# (the demo logs in with a password only). Anyone who has enrolled is always asked for a code.
HUIYIN_REQUIRE_2FA_FOR = env.list(
    "HUIYIN_REQUIRE_2FA_FOR", default=["view_pii", "administer", "admin_site"] if PRODUCTION else []
)
OTP_TOTP_ISSUER = env.str("HUIYIN_OTP_ISSUER", default="回音 Huiyin")

REDIS_URL = env.str("REDIS_URL", default="")
_task_backend = env.str("HUIYIN_TASK_BACKEND", default="rq" if REDIS_URL else "db")
if _task_backend == "rq":
    # django_tasks_rq's backend with RQ retries (huiyin.ops.rq).
    TASKS = {"default": {"BACKEND": "huiyin.ops.rq.RetryingRQBackend", "QUEUES": ["default"]}}
    RQ_QUEUES = {"default": {"URL": REDIS_URL or "redis://127.0.0.1:6379/0"}}
    INSTALLED_APPS.append("django_rq")
    # No django-rq dashboard in the operator's admin: its pages query a table that does not
    # exist and 500 on a missing job; queue health is on /system/ and `huiyin tasks status`.
    RQ_SHOW_ADMIN_LINK = False
elif _task_backend == "immediate":
    TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
else:
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

# Background tasks survive their worker (huiyin.ops.taskqueue): attempts per task, the
# silence after which a worker counts as dead and its running task is re-queued, the
# longest a task may run before it counts as stuck, the first retry's wait (doubling).
HUIYIN_TASK_MAX_ATTEMPTS = env.int("HUIYIN_TASK_MAX_ATTEMPTS", default=5)
HUIYIN_TASK_WORKER_DEAD_AFTER = env.float("HUIYIN_TASK_WORKER_DEAD_AFTER", default=60.0)
HUIYIN_TASK_STUCK_AFTER = env.float("HUIYIN_TASK_STUCK_AFTER", default=900.0)
HUIYIN_TASK_RETRY_BACKOFF = env.float("HUIYIN_TASK_RETRY_BACKOFF", default=5.0)
HUIYIN_TASK_KEEP_DAYS = env.float("HUIYIN_TASK_KEEP_DAYS", default=7.0)  # successful tasks, then deleted
HUIYIN_SMS_BACKEND = env.str("HUIYIN_SMS_BACKEND", default="huiyin.core.notify.FileSmsBackend")

# Without Redis, files under HUIYIN_DATA_DIR shared by every process on the machine
# (huiyin.core.cache): the portal's limits hold across all the web workers.
CACHES = (
    {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    if REDIS_URL
    else {
        "default": {
            "BACKEND": "huiyin.core.cache.SharedFileCache",
            "LOCATION": str(DATA_DIR / "cache"),
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        }
    }
)

# Attachments (F02): what a clerk may upload and how big it may be.
HUIYIN_ATTACHMENT_MAX_BYTES = env.int("HUIYIN_ATTACHMENT_MAX_BYTES", default=20 * 1024 * 1024)
HUIYIN_ATTACHMENT_TYPES = env.list(
    "HUIYIN_ATTACHMENT_TYPES",
    default=["pdf", "jpg", "jpeg", "png", "doc", "docx", "xls", "xlsx", "txt", "mp3", "wav", "amr"],
)
DATA_UPLOAD_MAX_MEMORY_SIZE = HUIYIN_ATTACHMENT_MAX_BYTES + 1024 * 1024
HUIYIN_TEXT_MAX_CHARS = env.int("HUIYIN_TEXT_MAX_CHARS", default=20000)
# The REST API (huiyin.api, /api/v1/): keys or staff sessions, one error body, a rate per key,
# Idempotency-Key records kept HUIYIN_API_IDEMPOTENCY_HOURS (`huiyin api_cleanup`).
HUIYIN_API_IDEMPOTENCY_HOURS = env.int("HUIYIN_API_IDEMPOTENCY_HOURS", default=24)
HUIYIN_API_RATE = env.str("HUIYIN_API_RATE", default="600/min")  # requests per key
if not re.fullmatch(r"\s*\d+\s*/\s*[smhd][a-z]*\s*", HUIYIN_API_RATE):
    raise ImproperlyConfigured(f"HUIYIN_API_RATE is a count per s, min, hour or day, like 600/min: {HUIYIN_API_RATE!r}")
# Open311 (huiyin.api.open311): on, every service is of type "batch": a POST is answered with a
# token and registered by the task queue (GET tokens/<token> gives the number).
HUIYIN_OPEN311_DEFERRED = env.bool("HUIYIN_OPEN311_DEFERRED", default=False)
# Webhook receivers (huiyin.api.webhooks) must be public addresses: this machine, private and
# link-local networks (a cloud's metadata service) are refused unless listed here, as CIDR
# networks ("10.20.0.0/16,192.168.5.10/32") for receivers on the installation's own network.
HUIYIN_WEBHOOK_ALLOWED_NETWORKS = env.list("HUIYIN_WEBHOOK_ALLOWED_NETWORKS", default=[])
for _network in HUIYIN_WEBHOOK_ALLOWED_NETWORKS:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError as _exc:
        raise ImproperlyConfigured(f"HUIYIN_WEBHOOK_ALLOWED_NETWORKS: not a network: {_network!r}") from _exc
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "huiyin.api.auth.ApiKeyAuthentication",
        "huiyin.api.auth.StaffSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["huiyin.api.auth.IsActor"],
    "DEFAULT_THROTTLE_CLASSES": ["huiyin.api.auth.KeyRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "huiyin.api.parsers.JsonParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "huiyin.api.exceptions.exception_handler",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Huiyin API",
    "DESCRIPTION": "Cases, their history and actions, for systems with an API key (Authorization: Bearer hy_...).",
    "VERSION": "1",
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "CaseStateEnum": "huiyin.cases.workflow.CaseState",
        "ActorKindEnum": "huiyin.orgs.actors.ActorKind",
    },
    # The Idempotency-Key header on every POST and the links from a created case to its operations.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "huiyin.api.schema.add_links_and_headers",
    ],
}
# Personal data at rest (F81, huiyin.core.crypto): Fernet keys for the encrypted fields,
# newest first (the first encrypts, every one decrypts: rotate, then `huiyin reencrypt`),
# and keys of the keyed hashes that find a phone or ID number. Unset: derived from
# SECRET_KEY, for a laptop only (`check --deploy` says so).
HUIYIN_FIELD_KEYS = env.list("HUIYIN_FIELD_KEYS", default=[])
HUIYIN_LOOKUP_KEYS = env.list("HUIYIN_LOOKUP_KEYS", default=[])
# Policy presets (YAML) offered by `huiyin init --preset NAME` and the administrator screens.
HUIYIN_PRESETS_DIR = Path(env.str("HUIYIN_PRESETS_DIR", default=str(BASE_DIR.parents[1] / "presets")))
# Where people check a case's status with their query code (printed on receipts).
HUIYIN_PUBLIC_URL = env.str("HUIYIN_PUBLIC_URL", default="http://127.0.0.1:8000")
HUIYIN_HOTLINE = env.str("HUIYIN_HOTLINE", default="12345")
# The SMS gateway (outside the product): the default writes an outbox file for the operator.
HUIYIN_SMS_BACKEND = env.str("HUIYIN_SMS_BACKEND", default="huiyin.core.notify.FileSmsBackend")
# --- Notifications (F62) and the e-mail channel (F01), huiyin.notifications (README, Configuration) ---
# An HTTP SMS gateway (HUIYIN_SMS_BACKEND=huiyin.notifications.backends.HttpSmsBackend): its URL and
# credentials (HTTP Basic, or a bearer token), and how long to wait for its answer.
HUIYIN_SMS_GATEWAY_URL = env.str("HUIYIN_SMS_GATEWAY_URL", default="")
HUIYIN_SMS_GATEWAY_USER = env.str("HUIYIN_SMS_GATEWAY_USER", default="")
HUIYIN_SMS_GATEWAY_PASSWORD = env.str("HUIYIN_SMS_GATEWAY_PASSWORD", default="")
HUIYIN_SMS_GATEWAY_TOKEN = env.str("HUIYIN_SMS_GATEWAY_TOKEN", default="")
HUIYIN_SMS_GATEWAY_TIMEOUT = env.float("HUIYIN_SMS_GATEWAY_TIMEOUT", default=10.0)
# E-mail out: a file per message under HUIYIN_DATA_DIR/outbox/mail by default; "smtp" (with the
# HUIYIN_SMTP_* settings), "console", or a dotted path of a Django e-mail backend.
_email_backend = env.str("HUIYIN_EMAIL_BACKEND", default="file")
EMAIL_BACKEND = {
    "file": "django.core.mail.backends.filebased.EmailBackend",
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "console": "django.core.mail.backends.console.EmailBackend",
}.get(_email_backend, _email_backend)
EMAIL_FILE_PATH = str(DATA_DIR / "outbox" / "mail")
EMAIL_HOST = env.str("HUIYIN_SMTP_HOST", default="localhost")
EMAIL_PORT = env.int("HUIYIN_SMTP_PORT", default=25)
EMAIL_HOST_USER = env.str("HUIYIN_SMTP_USER", default="")
EMAIL_HOST_PASSWORD = env.str("HUIYIN_SMTP_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("HUIYIN_SMTP_STARTTLS", default=False)
EMAIL_USE_SSL = env.bool("HUIYIN_SMTP_SSL", default=False)
EMAIL_TIMEOUT = env.int("HUIYIN_SMTP_TIMEOUT", default=30)
DEFAULT_FROM_EMAIL = env.str("HUIYIN_MAIL_FROM", default="回音 <huiyin@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Where complainants' answers to our e-mail go (the complaint mailbox); empty: the sender.
HUIYIN_MAIL_REPLY_TO = env.str("HUIYIN_MAIL_REPLY_TO", default="")
# E-mail in: the complaint mailbox over IMAP (empty host: no e-mail channel), polled every
# HUIYIN_MAIL_POLL_SECONDS by `huiyin mail poll --every` (a `huiyin serve` child when set).
HUIYIN_IMAP_HOST = env.str("HUIYIN_IMAP_HOST", default="")
HUIYIN_IMAP_PORT = env.int("HUIYIN_IMAP_PORT", default=0)  # 0: 993 with ssl, else 143
HUIYIN_IMAP_SECURITY = env.str("HUIYIN_IMAP_SECURITY", default="ssl")  # ssl | starttls | none (loopback only)
HUIYIN_IMAP_USER = env.str("HUIYIN_IMAP_USER", default="")
HUIYIN_IMAP_PASSWORD = env.str("HUIYIN_IMAP_PASSWORD", default="")
HUIYIN_IMAP_MAILBOX = env.str("HUIYIN_IMAP_MAILBOX", default="INBOX")
HUIYIN_IMAP_DONE_MAILBOX = env.str("HUIYIN_IMAP_DONE_MAILBOX", default="")  # empty: taken mail stays, read
HUIYIN_IMAP_TIMEOUT = env.float("HUIYIN_IMAP_TIMEOUT", default=30.0)
HUIYIN_MAIL_ORGANIZATION = env.str("HUIYIN_MAIL_ORGANIZATION", default="")  # code; needed with several
HUIYIN_MAIL_MAX_BYTES = env.int("HUIYIN_MAIL_MAX_BYTES", default=30 * 1024 * 1024)
# More files than this in one mail (forwarded mails included) and it is parked for a clerk.
HUIYIN_MAIL_MAX_ATTACHMENTS = env.int("HUIYIN_MAIL_MAX_ATTACHMENTS", default=20)
HUIYIN_MAIL_NATURE = env.str("HUIYIN_MAIL_NATURE", default="complaint")
HUIYIN_MAIL_POLL_SECONDS = env.float("HUIYIN_MAIL_POLL_SECONDS", default=60.0)
# Font embedded in PDFs; found automatically among the usual system locations when unset.
HUIYIN_PDF_FONT = env.str("HUIYIN_PDF_FONT", default="")

# --- The public portal (huiyin.portal, /portal/) ---
# The address the public reaches the portal at, for links sent by SMS or e-mail
# (portal.links.public_case_link), and how many days such a link works.
HUIYIN_PUBLIC_LINK_DAYS = env.int("HUIYIN_PUBLIC_LINK_DAYS", default=90)
# The organisation /portal/ opens when several share the installation (code); unset: the only one.
HUIYIN_PORTAL_ORGANIZATION = env.str("HUIYIN_PORTAL_ORGANIZATION", default="")
# Fixed-window limits, "count/seconds", on the cache: submissions per client address and per
# phone number, status look-ups per address, wrong query codes per case number (then it is
# locked for the window, whether the number exists or not) and per address, letter downloads
# per address; submissions without JavaScript per address and for the whole site, and wrong
# answers to their question per address.
HUIYIN_PORTAL_LIMITS = {
    "submit_ip": env.str("HUIYIN_PORTAL_LIMIT_SUBMIT_IP", default="30/600"),
    "submit_phone": env.str("HUIYIN_PORTAL_LIMIT_SUBMIT_PHONE", default="5/86400"),
    "lookup_ip": env.str("HUIYIN_PORTAL_LIMIT_LOOKUP_IP", default="120/600"),
    "code_number": env.str("HUIYIN_PORTAL_LIMIT_CODE_NUMBER", default="5/900"),
    "code_ip": env.str("HUIYIN_PORTAL_LIMIT_CODE_IP", default="30/3600"),
    "act_ip": env.str("HUIYIN_PORTAL_LIMIT_ACT_IP", default="60/600"),
    "download_ip": env.str("HUIYIN_PORTAL_LIMIT_DOWNLOAD_IP", default="60/600"),
    # Category suggestions while the person types on the submission page.
    "suggest_ip": env.str("HUIYIN_PORTAL_LIMIT_SUGGEST_IP", default="120/600"),
    # Without JavaScript (a question instead of the proof of work): the slower path.
    "submit_nojs_ip": env.str("HUIYIN_PORTAL_LIMIT_SUBMIT_NOJS_IP", default="5/3600"),
    "submit_nojs_all": env.str("HUIYIN_PORTAL_LIMIT_SUBMIT_NOJS_ALL", default="120/3600"),
    "nojs_wrong_ip": env.str("HUIYIN_PORTAL_LIMIT_NOJS_WRONG_IP", default="10/3600"),
    # Visits booked on the portal (huiyin.reception): per address, and per phone number a day.
    "book_ip": env.str("HUIYIN_PORTAL_LIMIT_BOOK_IP", default="20/600"),
    "book_phone": env.str("HUIYIN_PORTAL_LIMIT_BOOK_PHONE", default="3/86400"),
    # Open311 GeoReport requests without an API key (huiyin.api.open311), per address.
    "open311_ip": env.str("HUIYIN_PORTAL_LIMIT_OPEN311_IP", default="300/600"),
}
# The submission form's proof of work: leading zero bits of SHA-256 the browser must find
# (16: some 65,000 hashes, well under a second on a phone), and how long a challenge lasts.
HUIYIN_PORTAL_POW_BITS = env.int("HUIYIN_PORTAL_POW_BITS", default=16)
HUIYIN_PORTAL_CHALLENGE_SECONDS = env.int("HUIYIN_PORTAL_CHALLENGE_SECONDS", default=3 * 3600)
# Size limits: the whole request, each file, the number of files, the text, an image's longer side.
HUIYIN_PORTAL_REQUEST_MAX_BYTES = env.int("HUIYIN_PORTAL_REQUEST_MAX_BYTES", default=32 * 1024 * 1024)
HUIYIN_PORTAL_FILE_MAX_BYTES = env.int("HUIYIN_PORTAL_FILE_MAX_BYTES", default=8 * 1024 * 1024)
HUIYIN_PORTAL_FILES_MAX = env.int("HUIYIN_PORTAL_FILES_MAX", default=5)
HUIYIN_PORTAL_TEXT_MAX_CHARS = env.int("HUIYIN_PORTAL_TEXT_MAX_CHARS", default=5000)
HUIYIN_PORTAL_IMAGE_MAX_SIDE = env.int("HUIYIN_PORTAL_IMAGE_MAX_SIDE", default=2048)
# A map to place a pin on, only where a tile server is configured: its URL template
# ("https://tiles.example.org/{z}/{x}/{y}.png"), the map's centre ("lat,lng") and zoom.
HUIYIN_PORTAL_TILE_URL = env.str("HUIYIN_PORTAL_TILE_URL", default="")
HUIYIN_PORTAL_MAP_CENTER = env.str("HUIYIN_PORTAL_MAP_CENTER", default="30.27,120.15")
HUIYIN_PORTAL_MAP_ZOOM = env.int("HUIYIN_PORTAL_MAP_ZOOM", default=15)
if HUIYIN_PORTAL_TILE_URL:  # the tiles are images from that server: the policy must allow them
    _tiles = urlsplit(HUIYIN_PORTAL_TILE_URL)
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["img-src"].append(f"{_tiles.scheme}://{_tiles.netloc}")


def _audit_key() -> str:
    """The audit trail's key (keyed event hashes, the anchor log's signatures): outside the
    database, never changed once events exist. Production (HUIYIN_PRODUCTION) must set
    HUIYIN_AUDIT_KEY; a laptop or demo derives one from SECRET_KEY."""

    configured = env.str("HUIYIN_AUDIT_KEY", default="")
    if env.bool("HUIYIN_PRODUCTION", default=False) and (len(configured) < 32 or configured == SECRET_KEY):
        raise ImproperlyConfigured(
            "Refusing to start: HUIYIN_PRODUCTION needs HUIYIN_AUDIT_KEY, at least 32 characters "
            "and not the SECRET_KEY (README, Production)."
        )
    if configured:
        return configured
    return hmac.new(SECRET_KEY.encode(), b"huiyin audit key", hashlib.sha256).hexdigest()


HUIYIN_AUDIT_KEY = _audit_key()
# Signed chain heads, appended outside the database (cases.anchors); default DATA_DIR/audit/anchors.jsonl.
HUIYIN_AUDIT_ANCHOR_LOG = env.str("HUIYIN_AUDIT_ANCHOR_LOG", default="")
# The sweeper anchors every N seconds (0: never; then run `huiyin audit anchor` from a timer),
# leaving events younger than the lag for the next run.
HUIYIN_AUDIT_ANCHOR_SECONDS = env.float("HUIYIN_AUDIT_ANCHOR_SECONDS", default=60.0)
HUIYIN_AUDIT_ANCHOR_LAG = env.float("HUIYIN_AUDIT_ANCHOR_LAG", default=60.0)

# What an operator needs at the default level (INFO): start-up, warnings, errors with their
# traceback, one line per failed background task. Not: a line per task run, per request
# or per refused request (HUIYIN_LOG_LEVEL=DEBUG shows those too).
LOG_LEVEL = env.str("HUIYIN_LOG_LEVEL", default="INFO").upper()
_CHATTY = LOG_LEVEL if LOG_LEVEL == "DEBUG" else "WARNING"  # loggers that speak for every task
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Control characters in a message or traceback are written escaped, never raw (issue 13).
    "formatters": {"safe": {"()": "huiyin.core.logs.SafeFormatter"}},
    "filters": {
        "expected_client_errors": {"()": "huiyin.core.logs.ExpectedClientErrors"},
        "one_line_task_failures": {"()": "huiyin.core.logs.OneLineTaskFailures"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "safe",
            "filters": ["expected_client_errors", "one_line_task_failures"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Request lines carry URLs only; personal data never goes into URLs (see cases.urls).
        "django.db.backends": {"level": "WARNING"},
        # Login failures and lockouts are warnings; every successful login would be four info lines.
        "axes": {"level": "WARNING"},
        # "Task … RUNNING / SUCCESSFUL" for every task the worker runs, and RQ's "Job OK".
        "django_tasks": {"level": _CHATTY},
        "django_tasks_db": {"level": _CHATTY},
        "rq.worker": {"level": _CHATTY},
    },
}
