import logging
import os
import time

from django.core.management.base import BaseCommand

from meetings.clock import Clock

logger = logging.getLogger(__name__)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Command(BaseCommand):
    help = (
        "The periodic jobs of CELERY_BEAT_SCHEDULE on their schedule, in this process: "
        "what Celery beat and a worker do in production, for `make run`."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--while-pid",
            type=int,
            default=0,
            help="Stop when the process with this id has gone (the shell of `make run`).",
        )
        parser.add_argument(
            "--once", action="store_true", help="Run every job once and stop (like `tick`)."
        )

    def handle(self, *args, while_pid: int, once: bool, **options):
        clock = Clock()
        self.stdout.write("Clock started: periodic jobs run in this process.")
        while True:
            for name, result in clock.run_due().items():
                logger.info("clock: %s → %s", name, result)
            if once:
                return
            deadline = time.monotonic() + max(1.0, clock.seconds_to_next())
            while time.monotonic() < deadline:
                if while_pid and not _alive(while_pid):
                    return
                time.sleep(min(2.0, max(0.1, deadline - time.monotonic())))
