from celery import shared_task

from outbox.services import outbox_drain, outbox_pump


@shared_task(bind=True, name="outbox.drain", queue="mail", ignore_result=True)
def drain_task(self) -> int:
    """Send what is due. Carries no data: the outbox rows are the record of work."""
    return outbox_drain(worker=self.request.hostname or "")


@shared_task(name="outbox.pump", ignore_result=True)
def pump_task() -> int:
    return outbox_pump()
