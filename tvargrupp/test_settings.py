"""Settings for the test suite: PostgreSQL, Redis and SMTP, as in production.

The service addresses come from DATABASE_URL and REDIS_URL (defaults: the local
PostgreSQL and Redis database 15). The SMTP port is picked once per run and
shared with the Celery worker through EMAIL_PORT.
"""

import os
import socket


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# The loopback SMTP server of the test suite listens here; subprocesses (the
# Celery worker) inherit the variable and so talk to the same server.
os.environ.setdefault("EMAIL_PORT", str(_free_port()))

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tvargrupp")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("SECRET_KEY", "test-secret-key-that-is-long-enough-for-the-checks-0123456789")
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("SECURE_COOKIES", "false")
os.environ.setdefault("ALLOWED_HOSTS", "localhost,127.0.0.1,testserver")
os.environ.setdefault("EMAIL_HOST", "127.0.0.1")
os.environ.setdefault("DISABLE_RATE_LIMITS", "true")
os.environ.setdefault("MAIL_RETRY_SECONDS", "1")  # retries in seconds, not minutes
# Chat posts go to a receiver on loopback (plain HTTP) besides the real chat hosts.
os.environ.setdefault("WEBHOOK_ALLOW_HTTP", "true")
os.environ.setdefault(
    "WEBHOOK_ALLOWED_HOSTS",
    "127.0.0.1,.webhook.office.com,.logic.azure.com,.powerplatform.com,hooks.slack.com",
)

from tvargrupp.settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
