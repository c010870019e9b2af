"""A Celery worker that starts sweeps the outbox at once, instead of waiting for the clock."""

import logging

from celery.signals import worker_ready
from django.db import close_old_connections, connections

logger = logging.getLogger(__name__)


@worker_ready.connect
def _sweep_on_start(sender=None, **kwargs) -> None:
    from outbox.services import outbox_pump, outbox_release_worker

    hostname = getattr(sender, "hostname", "") or ""
    close_old_connections()
    try:
        released = outbox_release_worker(worker=hostname) if hostname else 0
        due = outbox_pump()
        logger.info("Outbox at start: %s claim(s) released, %s message(s) due", released, due)
    except Exception:  # a worker must start even if the database is not there yet
        logger.exception("Outbox sweep at worker start failed")
    finally:
        # Pool processes forked later must not share this process's connection.
        connections.close_all()
