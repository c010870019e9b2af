import logging
import os

from celery import Celery
from celery.signals import task_failure, task_retry, worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tvargrupp.settings")

app = Celery("tvargrupp")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

task_log = logging.getLogger("tvargrupp.tasks")


@task_failure.connect
def log_task_failure(sender=None, task_id=None, exception=None, args=None, kwargs=None, **_):
    """A task that failed for good: its id, its name and the object it was about.

    Tasks take primitive ids, so the arguments name the row (a delivery, a notice).
    The request id of the request that enqueued it is on the line too.
    """
    task_log.error(
        "task failed: %s",
        getattr(sender, "name", sender),
        extra={
            "task_id": task_id,
            "task": getattr(sender, "name", str(sender)),
            "task_args": list(args or ()),
            "task_kwargs": dict(kwargs or {}),
            "error": f"{type(exception).__name__}: {exception}",
        },
    )


@task_retry.connect
def log_task_retry(sender=None, request=None, reason=None, **_):
    task_log.warning(
        "task will be retried: %s",
        getattr(sender, "name", sender),
        extra={
            "task_id": getattr(request, "id", None),
            "task": getattr(sender, "name", str(sender)),
            "task_args": list(getattr(request, "args", None) or ()),
            "reason": str(reason)[:500],
        },
    )


@worker_ready.connect
def heartbeat_at_start(**_):
    """A worker that has just started is alive: /readyz need not wait for beat's minute."""
    from tvargrupp.health import record_heartbeat

    try:
        record_heartbeat()
    except Exception:  # the cache is Redis; a worker must start even if it hiccups
        task_log.exception("Could not record the worker's heartbeat at start")
