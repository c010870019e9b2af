from django.core.management.base import BaseCommand, CommandError

from meetings.clock import JobFailed, run_periodic_tasks


class Command(BaseCommand):
    help = (
        "Run every periodic job once, in this process: create meetings from schedules, "
        "open them, queue reminders, re-send stuck e-mail. Celery beat runs them on the "
        "schedule in CELERY_BEAT_SCHEDULE; `manage.py clock` does so without Celery."
    )

    def handle(self, *args, **options):
        results = run_periodic_tasks()
        for name, result in results.items():
            self.stdout.write(f"{name}: {result}")
        if any(isinstance(result, JobFailed) for result in results.values()):
            raise CommandError("A periodic job failed; see the log above.")
