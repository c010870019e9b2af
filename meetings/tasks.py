from celery import shared_task

from meetings.services import periodic_tick


@shared_task(name="meetings.periodic_tick")
def periodic_tick_task() -> dict[str, int]:
    return periodic_tick()
