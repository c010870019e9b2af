"""Refuse to serve half-configured: what the web server checks before its first request.

Settings already refuse a missing or short SECRET_KEY, an SQLite or missing
DATABASE_URL and a missing REDIS_URL when DEBUG is off. What settings cannot see
is checked here, once, when the WSGI application is loaded: that the static files
were collected (without them every page is a server error) and that the
database answers. Each refusal names its fix.
"""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, connections


def check_static_files() -> None:
    manifest = settings.STATIC_ROOT / "staticfiles.json"
    backend = settings.STORAGES["staticfiles"]["BACKEND"]
    if "Manifest" in backend and not manifest.exists():
        raise ImproperlyConfigured(
            f"Static files have not been collected into {settings.STATIC_ROOT} "
            f"(no {manifest.name}). Run `python manage.py collectstatic --no-input` "
            "(the Docker image does this when it is built), or set VAR_DIR to where they are."
        )


def check_database() -> None:
    db = settings.DATABASES["default"]
    where = f"{db.get('HOST') or 'localhost'}:{db.get('PORT') or 5432}/{db.get('NAME')}"
    try:
        connections["default"].ensure_connection()
    except DatabaseError as error:
        reason = " ".join(str(error).split())
        raise ImproperlyConfigured(
            f"The database at {where} cannot be reached ({reason}). Check DATABASE_URL and "
            "that PostgreSQL is running and accepts connections from this host."
        ) from None
    finally:
        # The server forks its workers after this: none may inherit the connection.
        connections.close_all()


def check_ready_to_serve() -> None:
    if settings.DEBUG:
        return
    check_static_files()
    check_database()
