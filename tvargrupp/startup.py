"""Refuse to serve half-configured: what the web server checks before its first request.

Settings already refuse a missing or short SECRET_KEY, an SQLite or missing
DATABASE_URL and a missing REDIS_URL when DEBUG is off. What settings cannot see
is checked here, once, when the WSGI application is loaded: that the static files
were collected (without them every page is a server error) and that the
database answers. Each refusal names its fix.
"""

from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, connections
from django.template.loader import get_template


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


def warm_templates() -> int:
    """Compile the project's own templates now, before the server forks its workers.

    With `preload_app`, gunicorn loads the application once and forks; the template
    cache filled here is inherited by every worker, also those started again after
    `max_requests`, so no one's request waits for the board's templates to compile.
    Returns how many were compiled.
    """
    folders = [Path(folder) for folder in settings.TEMPLATES[0]["DIRS"]]
    folders += [
        Path(config.path) / "templates"
        for config in apps.get_app_configs()
        if Path(config.path).parent == Path(settings.BASE_DIR)  # ours, not installed packages
    ]
    compiled = 0
    for folder in folders:
        for path in sorted(folder.rglob("*.html")) if folder.is_dir() else ():
            get_template(path.relative_to(folder).as_posix())
            compiled += 1
    return compiled
