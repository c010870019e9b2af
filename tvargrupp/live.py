"""The live stream process: `uvicorn tvargrupp.live:application` (see `make live`).

Its own process beside gunicorn; the reverse proxy sends /live/ here (docs/deployment.md).
"""

import os

import django
from django.core.exceptions import ImproperlyConfigured

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tvargrupp.settings")
django.setup()

from django.conf import settings  # noqa: E402 (after setup)

if not settings.REDIS_URL:
    raise ImproperlyConfigured(
        "The live stream hears of board changes through Redis: set REDIS_URL "
        "(without it, screens poll and this process is not needed)."
    )

from board.stream import application  # noqa: E402

__all__ = ["application"]
