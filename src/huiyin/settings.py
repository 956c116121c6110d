"""One environment-driven settings module (12-factor).

Every knob is an environment variable; the defaults give the embedded set-up:
SQLite in WAL mode inside ``HUIYIN_DATA_DIR`` and the database task backend.
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent
env = environ.Env()

DATA_DIR = Path(env.str("HUIYIN_DATA_DIR", default=str(Path.cwd() / "var"))).resolve()
DEBUG = env.bool("HUIYIN_DEBUG", default=False)
# The embedded default is a laptop set-up; production must set SECRET_KEY.
SECRET_KEY = env.str("SECRET_KEY", default="huiyin-insecure-development-key-change-me")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "huiyin.core",
    "huiyin.orgs",
    "huiyin.cases",
    "huiyin.policy",
    "huiyin.deadlines",
    "huiyin.supervision",
    "huiyin.handling",
    "huiyin.followup",
    "huiyin.surveys",
    "huiyin.evaluation",
    "huiyin.demo",
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
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "huiyin.urls"
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
        db.setdefault("CONN_MAX_AGE", 60)
        return db
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(DATA_DIR / "huiyin.sqlite3"),
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
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "orgs.Staff"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
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
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",
    },
}

# Serve static files straight from the apps when collectstatic has not run (tests, first start).
WHITENOISE_USE_FINDERS = True

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("HUIYIN_SECURE_COOKIES", default=False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

REDIS_URL = env.str("REDIS_URL", default="")
_task_backend = env.str("HUIYIN_TASK_BACKEND", default="rq" if REDIS_URL else "db")
if _task_backend == "rq":
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    RQ_QUEUES = {"default": {"URL": REDIS_URL or "redis://127.0.0.1:6379/0"}}
    INSTALLED_APPS.append("django_rq")
elif _task_backend == "immediate":
    TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
else:
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

CACHES = (
    {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    if REDIS_URL
    else {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
)

# Attachments (F02): what a clerk may upload and how big it may be.
HUIYIN_ATTACHMENT_MAX_BYTES = env.int("HUIYIN_ATTACHMENT_MAX_BYTES", default=20 * 1024 * 1024)
HUIYIN_ATTACHMENT_TYPES = env.list(
    "HUIYIN_ATTACHMENT_TYPES",
    default=["pdf", "jpg", "jpeg", "png", "doc", "docx", "xls", "xlsx", "txt", "mp3", "wav", "amr"],
)
DATA_UPLOAD_MAX_MEMORY_SIZE = HUIYIN_ATTACHMENT_MAX_BYTES + 1024 * 1024
HUIYIN_TEXT_MAX_CHARS = env.int("HUIYIN_TEXT_MAX_CHARS", default=20000)
# Policy presets (YAML) offered by `huiyin init --preset NAME` and the administrator screens.
HUIYIN_PRESETS_DIR = Path(env.str("HUIYIN_PRESETS_DIR", default=str(BASE_DIR.parents[1] / "presets")))
# Where people check a case's status with their query code (printed on receipts).
HUIYIN_PUBLIC_URL = env.str("HUIYIN_PUBLIC_URL", default="http://127.0.0.1:8000")
HUIYIN_HOTLINE = env.str("HUIYIN_HOTLINE", default="12345")
# Font embedded in PDFs; found automatically among the usual system locations when unset.
HUIYIN_PDF_FONT = env.str("HUIYIN_PDF_FONT", default="")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Control characters in a message or traceback are written escaped, never raw (issue 13).
    "formatters": {"safe": {"()": "huiyin.core.logs.SafeFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "safe"}},
    "root": {"handlers": ["console"], "level": env.str("HUIYIN_LOG_LEVEL", default="INFO")},
    "loggers": {
        # Request lines carry URLs only; personal data never goes into URLs (see cases.urls).
        "django.db.backends": {"level": "WARNING"},
    },
}
