from celery import shared_task

from topics.services import reminders_queue


@shared_task(name="topics.reminders_queue")
def reminders_queue_task() -> int:
    """Celery beat: the 7- and 2-day reminders to departments without a post-it."""
    return reminders_queue()
