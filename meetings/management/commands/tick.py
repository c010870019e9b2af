from django.core.management.base import BaseCommand

from meetings.services import periodic_tick


class Command(BaseCommand):
    help = (
        "Run the clock-driven jobs once: create meetings from schedules, open them, "
        "queue reminders, re-send stuck e-mail. Celery beat does this every 5 minutes."
    )

    def handle(self, *args, **options):
        result = periodic_tick()
        self.stdout.write(", ".join(f"{name}: {count}" for name, count in result.items()))
