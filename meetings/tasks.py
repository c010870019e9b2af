from celery import shared_task

from meetings.services import notice_send, periodic_tick


@shared_task(
    name="meetings.notice_send",
    queue="mail",
    autoretry_for=(OSError,),
    retry_backoff=30,
    retry_backoff_max=1800,
    retry_kwargs={"max_retries": 8},
)
def notice_send_task(notice_id: int) -> None:
    notice_send(notice_id=notice_id)


@shared_task(name="meetings.periodic_tick")
def periodic_tick_task() -> dict[str, int]:
    return periodic_tick()
