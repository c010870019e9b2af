"""The periodic jobs of CELERY_BEAT_SCHEDULE, run in this process.

Production runs them with Celery beat and a worker. `manage.py tick` runs each
once and `manage.py clock` keeps running them on their schedule, so the
zero-setup local mode (`make run`) opens meetings, sends reminders and sweeps
outboxes as production does. Jobs are found by their task names in Celery's
registry, so this module imports no app above `meetings`.
"""

import logging
import time
from collections.abc import Callable

from celery import current_app
from django.conf import settings

logger = logging.getLogger(__name__)


def _interval(entry: dict) -> float:
    schedule = entry["schedule"]
    if hasattr(schedule, "total_seconds"):
        return schedule.total_seconds()
    if hasattr(schedule, "run_every"):  # a Celery schedule object
        return schedule.run_every.total_seconds()
    return float(schedule)


class JobFailed(str):
    """The result of a job that raised: its error message (the traceback is logged)."""


def _run(task_name: str):
    """Run one task here and now; an error is logged and returned, never raised."""
    # Import every app's tasks module (Celery discovers them lazily).
    current_app.loader.import_default_modules()
    try:
        return current_app.tasks[task_name].apply(throw=True).get(disable_sync_subtasks=False)
    except Exception as error:
        logger.exception("Periodic job %s failed", task_name)
        return JobFailed(f"failed: {error}")


def run_periodic_tasks() -> dict[str, object]:
    """Every entry of CELERY_BEAT_SCHEDULE once, in order."""
    return {name: _run(entry["task"]) for name, entry in settings.CELERY_BEAT_SCHEDULE.items()}


class Clock:
    """Runs each job when its interval has passed; every job is due at start."""

    def __init__(self, now: Callable[[], float] = time.monotonic):
        self._now = now
        self._next = {name: now() for name in settings.CELERY_BEAT_SCHEDULE}

    def run_due(self) -> dict[str, object]:
        results = {}
        for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
            if self._next[name] <= self._now():
                results[name] = _run(entry["task"])
                self._next[name] = self._now() + _interval(entry)
        return results

    def seconds_to_next(self) -> float:
        return max(0.0, min(self._next.values()) - self._now())
