from celery import shared_task

from topics.services import follow_ups_overdue_post, reminders_queue


@shared_task(name="topics.reminders_queue")
def reminders_queue_task() -> int:
    """Celery beat: the 7- and 2-day reminders to departments without a post-it."""
    return reminders_queue()


@shared_task(name="topics.follow_ups_overdue")
def follow_ups_overdue_task() -> int:
    """Celery beat: overdue follow-ups, posted once each to their group's chat channel."""
    return follow_ups_overdue_post()
