"""News of a board change, for the stream process (`board/stream.py`).

When a board write commits, `publish()` says so on one Redis channel; the stream
process holds the one subscription and pushes the new fragment to its screens. Without
Redis (the zero-setup `make run`) nothing is published and screens poll.
"""

import json
import logging
from functools import cache as once

from django.conf import settings

logger = logging.getLogger(__name__)

CHANNEL = "tvargrupp:board"


@once
def _redis():
    import redis

    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)


def streaming() -> bool:
    """Whether screens can follow a stream: it needs Redis to hear about changes."""
    return bool(settings.REDIS_URL and settings.LIVE_URL)


def publish(meeting_id: int, version: int) -> None:
    """Tell the stream process that a meeting's board has a new version.

    Called after the write commits. A lost message costs a screen nothing worse than
    the fallback poll (or the next change); it never fails the moderator's action.
    """
    if not streaming():
        return
    try:
        _redis().publish(CHANNEL, json.dumps({"m": meeting_id, "v": version}))
    except Exception:  # Redis away for a moment: screens keep their last state
        logger.warning("live: could not publish version %s of meeting %s", version, meeting_id)
