from celery import shared_task

from topics.services import (
    follow_ups_overdue_post,
    overdue_reminders_queue,
    reminders_queue,
    status_requests_queue,
)


@shared_task(name="topics.reminders_queue")
def reminders_queue_task() -> int:
    """Celery beat: the 7- and 2-day reminders to departments without a post-it."""
    return reminders_queue()


@shared_task(name="topics.follow_ups_overdue")
def follow_ups_overdue_task() -> int:
    """Celery beat: overdue follow-ups, posted once each to their group's chat channel."""
    return follow_ups_overdue_post()


@shared_task(name="topics.status_requests")
def status_requests_task() -> int:
    """Celery beat: "Vad har hänt sedan sist?" to owners, the group's days before a meeting."""
    return status_requests_queue()


@shared_task(name="topics.overdue_reminders")
def overdue_reminders_task() -> int:
    """Celery beat: owners of overdue follow-ups and micro-projects, at most once a week."""
    return overdue_reminders_queue()
