"""Readiness: can this installation do its work? Each check answers in a few ms.

`/healthz` is liveness (the process answers); `/readyz` runs these checks and
answers 200 when all pass, 503 when one fails, with a JSON body saying which.
"""

import time
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.utils import timezone

HEARTBEAT_KEY = "worker-heartbeat"
HEARTBEAT_STALE = 180  # seconds; beat asks for a heartbeat every 60
OUTBOX_STUCK_AFTER = timedelta(hours=1)  # a message due this long ago and still pending


@dataclass
class Check:
    ok: bool
    detail: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"ok": self.ok, **self.detail}


def check_database() -> Check:
    started = time.monotonic()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        return Check(False, {"error": " ".join(str(error).split())[:300]})
    return Check(True, {"ms": round((time.monotonic() - started) * 1000, 1)})


def check_redis() -> Check:
    if not settings.REDIS_URL:
        return Check(True, {"skipped": "REDIS_URL is not set: tasks run in-process"})
    import redis

    started = time.monotonic()
    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2
        )
        client.ping()
    except redis.RedisError as error:
        return Check(False, {"error": str(error)[:300]})
    return Check(True, {"ms": round((time.monotonic() - started) * 1000, 1)})


def record_heartbeat() -> None:
    cache.set(HEARTBEAT_KEY, time.time(), timeout=None)


def check_worker() -> Check:
    if not settings.REDIS_URL:
        return Check(True, {"skipped": "REDIS_URL is not set: tasks run in-process"})
    try:
        beat = cache.get(HEARTBEAT_KEY)
    except Exception as error:  # the cache is Redis: its error is reported by check_redis
        return Check(False, {"error": str(error)[:300]})
    if beat is None:
        return Check(False, {"error": "no heartbeat yet: is a worker and beat running?"})
    age = round(time.time() - beat)
    detail = {"last_heartbeat_seconds_ago": age}
    if age > HEARTBEAT_STALE:
        detail["error"] = f"no heartbeat for {age} s: is a worker and beat running?"
        return Check(False, detail)
    return Check(True, detail)


def check_outbox() -> Check:
    from outbox.selectors import outbox_backlog

    now = timezone.now()
    try:
        backlog = outbox_backlog(now=now)
    except DatabaseError as error:
        return Check(False, {"error": " ".join(str(error).split())[:300]})
    pending, oldest = backlog.pending + backlog.sending, backlog.oldest_due
    age = round((now - oldest).total_seconds()) if oldest else 0
    detail = {
        "pending": pending,
        "oldest_pending_seconds": age,
        "failed_last_day": backlog.failed_last_day,
    }
    if oldest and now - oldest > OUTBOX_STUCK_AFTER:
        detail["error"] = f"a message has waited {age} s to be sent: see the worker's log"
        return Check(False, detail)
    return Check(True, detail)


CHECKS = {
    "database": check_database,
    "redis": check_redis,
    "worker": check_worker,
    "outbox": check_outbox,
}


def readiness() -> tuple[bool, dict]:
    results = {name: check() for name, check in CHECKS.items()}
    ok = all(result.ok for result in results.values())
    return ok, {name: result.as_dict() for name, result in results.items()}
