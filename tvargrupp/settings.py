"""Settings for Tvärgrupp, read from the environment (see `.env.example`).

With no environment at all the app runs in its zero-setup local mode: SQLite
under `var/`, Celery tasks executed in-process, e-mail written to `var/mail/`
and DEBUG on. Production sets DATABASE_URL, REDIS_URL, SECRET_KEY, ALLOWED_HOSTS
and the SMTP variables.
"""

from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from django_guid.integrations import CeleryIntegration

from tvargrupp.env import (
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_str,
    env_time_zone,
    env_url,
    openid_connect_settings,
    origin,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))

if env_str("DATABASE_URL").startswith("sqlite"):
    raise ImproperlyConfigured(
        "DATABASE_URL must be a PostgreSQL URL (postgres://user:password@host:5432/name). "
        "SQLite is only the local default: leave DATABASE_URL empty for `make run`."
    )
DATABASE_URL = env_url("DATABASE_URL", "", schemes=("postgres", "postgresql"))
REDIS_URL = env_url("REDIS_URL", "", schemes=("redis", "rediss"))
LOCAL_DEFAULT = not DATABASE_URL

DEBUG = env_bool("DEBUG", LOCAL_DEFAULT)

# With DEBUG off nothing may start half-configured: each refusal names its fix.
_GENERATE_KEY = (
    'Generate one with: python3 -c "import secrets; print(secrets.token_urlsafe(50))" '
    "and set it in .env."
)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(f"SECRET_KEY must be set when DEBUG is off. {_GENERATE_KEY}")
    # Only with DEBUG on (zero-setup local mode); production refuses to start without one.
    SECRET_KEY = "local-development-only-not-secret"  # noqa: S105 # nosec B105
elif not DEBUG and len(SECRET_KEY) < 50:
    raise ImproperlyConfigured(
        f"SECRET_KEY must be at least 50 characters long (it has {len(SECRET_KEY)}). "
        + _GENERATE_KEY
    )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "ALLOWED_HOSTS must list the host names the app is served under, "
        "e.g. ALLOWED_HOSTS=tvargrupp.example.se."
    )
if not DEBUG and not DATABASE_URL:
    raise ImproperlyConfigured(
        "DATABASE_URL must be set when DEBUG is off: production runs on PostgreSQL "
        "(postgres://user:password@host:5432/name). SQLite is only for `make run` with DEBUG on."
    )
if not DEBUG and not REDIS_URL:
    raise ImproperlyConfigured(
        "REDIS_URL must be set when DEBUG is off (e.g. redis://redis:6379/0): Redis carries "
        "the background tasks and the cache that sign-in limits share across processes."
    )
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# The address people reach the app under; used for links in e-mails.
SITE_URL = env_url("SITE_URL", "http://127.0.0.1:8000", schemes=("http", "https")).rstrip("/")

# The live stream (`make live`, board/stream.py): where screens open it. A path under
# this site (the reverse proxy sends /live/ to the stream process), or a full address
# on another port (then the stream answers only the origins below). Needs REDIS_URL;
# "off" makes every screen poll.
LIVE_URL = env_str("LIVE_URL", "/live/")
if LIVE_URL == "off":
    LIVE_URL = ""
elif LIVE_URL and not LIVE_URL.endswith("/"):
    LIVE_URL += "/"
# Pages on these origins may open the stream from another port or host.
LIVE_ALLOWED_ORIGINS = [SITE_URL, *CSRF_TRUSTED_ORIGINS]
# An idle stream gets a comment this often, so proxies and browsers keep it open.
LIVE_KEEPALIVE_SECONDS = env_int("LIVE_KEEPALIVE_SECONDS", 15, minimum=1, maximum=300)
# Threads (each with its own database connection) the stream checks and renders on.
LIVE_DB_THREADS = env_int("LIVE_DB_THREADS", 4, minimum=1, maximum=32)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_htmx",
    "template_partials",
    "csp",
    "django_guid",
    "tvargrupp",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "outbox",
    "accounts",
    "groups",
    "meetings",
    "topics",
    "summaries",
    "board",
    "insights",
    "demo",
]

MIDDLEWARE = [
    "django_guid.middleware.guid_middleware",
    "tvargrupp.middleware.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "tvargrupp.middleware.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "tvargrupp.middleware.PrivateResponsesMiddleware",
    "accounts.middleware.LanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accounts.middleware.SignInMethodsMiddleware",
]

ROOT_URLCONF = "tvargrupp.urls"
WSGI_APPLICATION = "tvargrupp.wsgi.application"
ASGI_APPLICATION = "tvargrupp.asgi.application"

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
                "accounts.context_processors.signin",
            ],
        },
    },
]

if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL,
            conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 600, maximum=86400),
            conn_health_checks=True,
        )
    }
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = 5
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    # `make run` writes from two processes (the server and `manage.py clock`): WAL lets
    # readers go on while one writes, and writers wait for each other instead of failing.
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "db.sqlite3",
            "OPTIONS": {
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "meetings:home"
LOGOUT_REDIRECT_URL = "account_login"

# django-allauth: e-mail is the login; heads sign in with a one-time code.
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGIN_BY_CODE_ENABLED = True  # the URLs exist; SIGNIN_EMAIL_CODE decides per request
ACCOUNT_FORMS = {"login": "accounts.forms.LoginForm"}
ACCOUNT_LOGIN_BY_CODE_TIMEOUT = 900
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Tvärgrupp] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if SITE_URL.startswith("https") else "http"
if env_bool("DISABLE_RATE_LIMITS", False):
    ACCOUNT_RATE_LIMITS = False
# Ways to sign in, each of which an installation can turn off (at least one stays).
SIGNIN_PASSWORD = env_bool("SIGNIN_PASSWORD", True)
SIGNIN_EMAIL_CODE = env_bool("SIGNIN_EMAIL_CODE", True)

# Organisation sign-in: one OpenID Connect provider (Microsoft Entra ID, Keycloak,
# Google Workspace, …), configured only here, from the environment. People are
# matched by verified e-mail to their account or their invitations; nobody else
# gets in (groups/signin.py).
OIDC_SERVER_URL = env_url("OIDC_SERVER_URL", "", schemes=("https", "http")).rstrip("/")
OIDC_CLIENT_ID = env_str("OIDC_CLIENT_ID")
OIDC_CLIENT_SECRET = env_str("OIDC_CLIENT_SECRET")
OIDC_NAME = env_str("OIDC_NAME")
OIDC_TRUSTED_EMAIL_DOMAINS = [d.lower() for d in env_list("OIDC_TRUSTED_EMAIL_DOMAINS", [])]
if OIDC_SERVER_URL and not OIDC_CLIENT_ID:
    raise ImproperlyConfigured(
        "OIDC_CLIENT_ID must be set with OIDC_SERVER_URL: the client (application) id "
        "the identity provider gave this installation."
    )
SIGNIN_OIDC = bool(OIDC_SERVER_URL)
if not (SIGNIN_PASSWORD or SIGNIN_EMAIL_CODE or SIGNIN_OIDC):
    raise ImproperlyConfigured(
        "SIGNIN_PASSWORD and SIGNIN_EMAIL_CODE are both off and OIDC_SERVER_URL is not set: "
        "nobody could sign in. Turn one of them on."
    )
SOCIALACCOUNT_ADAPTER = "groups.signin.SocialAccountAdapter"
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False  # matching is ours: groups/signin.py
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_LOGIN_ON_GET = False  # the sign-in button posts, so no page can start a sign-in
SOCIALACCOUNT_PROVIDERS = (
    openid_connect_settings(
        server_url=OIDC_SERVER_URL,
        client_id=OIDC_CLIENT_ID,
        secret=OIDC_CLIENT_SECRET,
        name=OIDC_NAME,
        trusted_domains=OIDC_TRUSTED_EMAIL_DOMAINS,
    )
    if SIGNIN_OIDC
    else {"openid_connect": {"APPS": []}}
)

# Behind a reverse proxy every request comes from the proxy: the client is the
# address the Nth proxy from the right put in X-Forwarded-For. allauth's sign-in
# limits and our logs read the client address the same way (tvargrupp.http).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, maximum=10)
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT

LANGUAGE_CODE = env_choice("LANGUAGE_CODE", "sv", {"sv", "en"})
LANGUAGES = [("sv", _("Swedish")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "tvargrupp_language"
TIME_ZONE = env_time_zone("TIME_ZONE", "Europe/Stockholm")
# Dates as each language writes them: "tisdag 1 december", "24 nov 08.23" in Swedish.
FORMAT_MODULE_PATH = ["tvargrupp.formats"]
USE_I18N = True
USE_TZ = True

MEDIA_ROOT = VAR_DIR / "media"  # summary PDFs; served only through permission-checked views
MEDIA_URL = "/media-not-served/"
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# E-mail: SMTP when EMAIL_HOST is set, otherwise one file per message in var/mail/.
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1, maximum=65535)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL cannot both be true.")
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30, minimum=1, maximum=600)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Tvärgrupp <tvargrupp@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = VAR_DIR / "mail"

# The outbox (every e-mail and chat post): e-mails per minute across all workers
# (0 = as fast as possible; Exchange Online allows about 30 a minute per mailbox),
# the first retry delay (doubling after each transient refusal), the attempts
# before a message is marked failed, how long a worker's claim on a message
# lasts before another may take it, how many drain tasks one wake-up starts, and
# how often the clock looks for messages a lost broker or a killed worker left.
MAIL_RATE_PER_MINUTE = env_int("MAIL_RATE_PER_MINUTE", 0, maximum=100_000)
MAIL_RETRY_SECONDS = env_int("MAIL_RETRY_SECONDS", 30, minimum=1, maximum=3600)
OUTBOX_MAX_ATTEMPTS = env_int("OUTBOX_MAX_ATTEMPTS", 8, minimum=1, maximum=30)
OUTBOX_LEASE_SECONDS = env_int("OUTBOX_LEASE_SECONDS", max(60, 2 * EMAIL_TIMEOUT), minimum=2)
OUTBOX_PARALLEL = env_int("OUTBOX_PARALLEL", 4, minimum=1, maximum=64)
OUTBOX_PUMP_SECONDS = env_int("OUTBOX_PUMP_SECONDS", 30, minimum=1, maximum=3600)

# Chat webhooks (Microsoft Teams workflows, Slack): only these hosts, HTTPS only
# unless WEBHOOK_ALLOW_HTTP is set (a receiver on loopback in tests).
WEBHOOK_ALLOWED_HOSTS = env_list(
    "WEBHOOK_ALLOWED_HOSTS",
    [".webhook.office.com", ".logic.azure.com", ".powerplatform.com", "hooks.slack.com"],
)
WEBHOOK_ALLOW_HTTP = env_bool("WEBHOOK_ALLOW_HTTP", False)
WEBHOOK_TIMEOUT = env_int("WEBHOOK_TIMEOUT", 10, minimum=1, maximum=120)

# The cache: Redis in production, shared by every web process and worker, so a
# sign-in limit of 5 is 5 whatever the number of processes; per process locally.
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "tvargrupp",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Celery: Redis in production, tasks run in-process when REDIS_URL is not set.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"  # mail and pdf queues are named on their tasks
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_WORKER_MAX_MEMORY_PER_CHILD = 300_000  # KiB: recycle a worker process above ~300 MB
# Unacknowledged tasks return to the queue after this long (a killed worker's tasks).
CELERY_VISIBILITY_TIMEOUT = env_int("CELERY_VISIBILITY_TIMEOUT", 3600, minimum=60)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Celery beat: create meetings from schedules, open them, remind; re-render lost
# PDFs; wake the workers for outbox messages a lost broker or a dead worker left.
# `manage.py tick` runs every entry once; `manage.py clock` runs them on this schedule.
CELERY_BEAT_SCHEDULE = {
    "periodic-tick": {"task": "meetings.periodic_tick", "schedule": 300.0},
    "post-it-reminders": {"task": "topics.reminders_queue", "schedule": 300.0},
    "overdue-follow-ups": {"task": "topics.follow_ups_overdue", "schedule": 3600.0},
    "status-requests": {"task": "topics.status_requests", "schedule": 900.0},
    "overdue-reminders": {"task": "topics.overdue_reminders", "schedule": 3600.0},
    "summary-sweep": {"task": "summaries.sweep", "schedule": 120.0},
    "heartbeat": {"task": "tvargrupp.heartbeat", "schedule": 60.0, "options": {"expires": 60}},
    "outbox-pump": {"task": "outbox.pump", "schedule": float(OUTBOX_PUMP_SECONDS)},
}

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = False
    SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SILENCED_SYSTEM_CHECKS = ["security.W021"]  # HSTS preload is the operator's decision

# Content-Security-Policy (django-csp 4): no inline scripts or styles anywhere.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        # The live stream may be on another port or host (LIVE_URL).
        "connect-src": [SELF, origin(LIVE_URL)] if "://" in LIVE_URL else [SELF],
        # The organisation sign-in button posts, then redirects to the provider.
        "form-action": [SELF, origin(OIDC_SERVER_URL)] if SIGNIN_OIDC else [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    },
}

# Logs go to stdout: one JSON object a line in production, readable text locally.
# Every line carries the request id (X-Request-ID, made up when the request has
# none, returned in the response, and carried into the tasks a request enqueues).
DJANGO_GUID = {
    "GUID_HEADER_NAME": "X-Request-ID",
    "VALIDATE_GUID": True,
    "INTEGRATIONS": [CeleryIntegration(use_django_logging=True)],
}
LOG_FORMAT = env_choice("LOG_FORMAT", "text" if DEBUG else "json", {"text", "json"})
LOG_LEVEL = env_choice("LOG_LEVEL", "INFO", {"DEBUG", "INFO", "WARNING", "ERROR"})
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {
            "()": "django_guid.log_filters.CorrelationId",
            "correlation_id_field": "request_id",
        }
    },
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            "timestamp": False,
        },
        "text": {"format": "%(asctime)s %(levelname)-7s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django_guid": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
