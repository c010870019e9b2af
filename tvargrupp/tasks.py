from celery import shared_task

from tvargrupp.health import record_heartbeat


@shared_task(name="tvargrupp.heartbeat", ignore_result=True)
def heartbeat() -> None:
    """Run by a worker every minute on beat's clock; `/readyz` reads its time."""
    record_heartbeat()
