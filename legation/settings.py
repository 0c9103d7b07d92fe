"""Settings, read from environment variables (``LEGATION_*``, ``DATABASE_URL``); secrets also from ``NAME_FILE``.

With nothing set, Legation runs on SQLite in ``./var`` and generates its secret key there on first run.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF

BASE_DIR = Path(__file__).resolve().parent


def envstr(name: str, default: str = "") -> str:
    """Read a setting from ``NAME`` or, for secrets, from the file named by ``NAME_FILE``."""
    path = os.environ.get(f"{name}_FILE")
    if path:
        return Path(path).read_text(encoding="utf-8").strip()
    return os.environ.get(name, default)


def envbool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def envint(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def envlist(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in envstr(name, default).split(",") if item.strip()]


DATA_DIR = Path(os.environ.get("LEGATION_DATA_DIR", "var")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _persistent_secret(name: str, factory: Callable[[], str]) -> str:
    """Return the secret kept in DATA_DIR/name, creating it (mode 0600) on first run."""
    path = DATA_DIR / name
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(factory())
    return path.read_text(encoding="utf-8").strip()


SECRET_KEY = envstr("LEGATION_SECRET_KEY") or _persistent_secret("secret_key", lambda: secrets.token_urlsafe(50))
DEBUG = envbool("LEGATION_DEBUG", False)
ALLOWED_HOSTS = envlist("LEGATION_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = envlist("LEGATION_CSRF_TRUSTED_ORIGINS")
SITE_URL = os.environ.get("LEGATION_SITE_URL", "http://localhost:8000")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "ninja",  # the API docs' Swagger UI from the package's own static files, not from a CDN
    "legation.network",
    "legation.records",
    "legation.worker",
    "legation.web",
    "legation.listening",
    "legation.sandbox",
    "legation.inbox",
    "legation.guidance",
    "legation.publishing",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "legation.web.middleware.PersonLanguageMiddleware",
    "legation.web.middleware.TwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "legation.urls"
WSGI_APPLICATION = "legation.wsgi.application"

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
                "legation.web.context.shell",
            ],
        },
    }
]

DATABASE_URL = envstr("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=envint("LEGATION_DB_CONN_MAX_AGE", 60))}
    DATABASES["default"].setdefault("TEST", {})
    if os.environ.get("LEGATION_TEST_DB_NAME"):
        DATABASES["default"]["TEST"]["NAME"] = os.environ["LEGATION_TEST_DB_NAME"]
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(DATA_DIR / "legation.sqlite3"),
            "OPTIONS": {
                # WAL lets the web process read while the worker writes; IMMEDIATE avoids lock upgrades failing.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "network.Person"
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"

# Sessions and cookies: secure by default; LEGATION_INSECURE_COOKIES=1 only for plain-HTTP local demos.
_secure_cookies = not envbool("LEGATION_INSECURE_COOKIES", False)
SESSION_COOKIE_SECURE = _secure_cookies
CSRF_COOKIE_SECURE = _secure_cookies
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = envint("LEGATION_SESSION_AGE", 12 * 3600)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): scripts, styles, fonts and data only from this site, so an injected
# <script>, on*= handler or style never runs, and nothing reaches a CDN or a third party. Pages carry no inline
# script or style (behaviour is in static files; htmx is told not to eval or inject its indicator styles).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
if envbool("LEGATION_BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = 31536000

# Login rate limiting (django-axes): lock a username+IP pair after repeated failures.
AXES_FAILURE_LIMIT = envint("LEGATION_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = envint("LEGATION_LOGIN_COOLOFF_MINUTES", 15) / 60
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "web/locked_out.html"
AXES_VERBOSE = False

OTP_TOTP_ISSUER = os.environ.get("LEGATION_TOTP_ISSUER", "Legation")

LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", "English"),
    ("fr", "Français"),
    ("ar", "العربية"),
    ("es", "Español"),
    ("fa", "فارسی"),
    ("ur", "اردو"),
    ("id", "Bahasa Indonesia"),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("LEGATION_STATIC_ROOT", DATA_DIR / "static"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Front-end packages come from npm (package.json); collected from node_modules, never from a CDN.
NODE_MODULES = Path(os.environ.get("LEGATION_NODE_MODULES", BASE_DIR.parent / "node_modules"))
STATICFILES_DIRS = [("vendor/htmx", NODE_MODULES / "htmx.org" / "dist")] if (NODE_MODULES / "htmx.org").exists() else []
STATICFILES_DIRS += [  # charts and the offline world map of the listening dashboard
    (prefix, NODE_MODULES / package) for prefix, package in [
        ("vendor/chartjs", "chart.js/dist"), ("vendor/leaflet", "leaflet/dist"),
        ("vendor/topojson", "topojson-client/dist"), ("vendor/world-atlas", "world-atlas"),
    ] if (NODE_MODULES / package).exists()
]
MEDIA_ROOT = Path(os.environ.get("LEGATION_MEDIA_ROOT", DATA_DIR / "media"))
MEDIA_URL = "/media/"
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# Background work: Django's Tasks API (django-tasks backport); the database backend by default,
# RQ on Redis for deployments with several worker machines (LEGATION_TASK_BACKEND=rq).
TASK_BACKEND = os.environ.get("LEGATION_TASK_BACKEND", "database")
REDIS_URL = envstr("LEGATION_REDIS_URL", "redis://127.0.0.1:6379/0")
# RQ's queues are always declared (the connection is lazy), so a deployment switches by one variable.
RQ_QUEUES = {"default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 600}}
INSTALLED_APPS.append("django_rq")
TASKS = {
    "database": {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}},
    "rq": {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}},
    "immediate": {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}},
}[TASK_BACKEND]

# Credential vault: Fernet keys, newest first. From LEGATION_VAULT_KEYS(_FILE) or a key ring in DATA_DIR.
VAULT_KEYS_ENV = envlist("LEGATION_VAULT_KEYS")
VAULT_KEYRING_PATH = DATA_DIR / "vault.keys"

# A data folder `legation demo` seeded without a mail backend set writes e-mails to files for every command run
# on it (the demo's marker file), so a replay beside the demo does not try a mail server that is not there.
DEMO_MAIL_MARK = "demo-mail-to-files"
EMAIL_BACKEND = os.environ.get("LEGATION_EMAIL_BACKEND") or (
    "django.core.mail.backends.filebased.EmailBackend" if (DATA_DIR / DEMO_MAIL_MARK).exists()
    else "django.core.mail.backends.smtp.EmailBackend")
EMAIL_FILE_PATH = os.environ.get("LEGATION_EMAIL_FILE_PATH", str(DATA_DIR / "mail"))  # the file backend's folder
EMAIL_HOST = os.environ.get("LEGATION_SMTP_HOST", "localhost")
EMAIL_PORT = envint("LEGATION_SMTP_PORT", 25)
EMAIL_HOST_USER = envstr("LEGATION_SMTP_USER")
EMAIL_HOST_PASSWORD = envstr("LEGATION_SMTP_PASSWORD")
EMAIL_USE_TLS = envbool("LEGATION_SMTP_STARTTLS", False)
# Seconds a mail server may take to answer: one that does not (a host that drops packets) fails the try, which
# is then retried, instead of holding the process for the system's TCP time-out.
EMAIL_TIMEOUT = envint("LEGATION_SMTP_TIMEOUT", 30)
DEFAULT_FROM_EMAIL = os.environ.get("LEGATION_FROM_EMAIL", "legation@localhost")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LEGATION_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.server": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        # every task start and finish at INFO would drown the worker's own messages
        "django_tasks": {"level": os.environ.get("LEGATION_TASKS_LOG_LEVEL", "WARNING")},
    },
}

# Listening: processes that enrich the next batches of a stream while one is stored (unset: cores - 1, at most 4;
# 0: enrich in the storing process).
if os.environ.get("LEGATION_LISTENING_ENRICH_PROCESSES", "") != "":
    LISTENING_ENRICH_PROCESSES = envint("LEGATION_LISTENING_ENRICH_PROCESSES", 0)
