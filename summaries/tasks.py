from celery import shared_task
from django.conf import settings

from summaries.services import DeliveryRetry, deliveries_sweep, delivery_send, summary_render


@shared_task(name="summaries.render", queue="pdf", time_limit=300, soft_time_limit=240)
def summary_render_task(summary_id: int) -> None:
    summary_render(summary_id=summary_id)


@shared_task(bind=True, name="summaries.delivery_send", queue="mail", max_retries=None)
def delivery_send_task(self, delivery_id: int) -> None:
    """Send one delivery; a refusal is retried with exponential backoff (the row counts)."""
    try:
        delivery_send(delivery_id=delivery_id)
    except DeliveryRetry as error:
        countdown = settings.MAIL_RETRY_SECONDS * 2 ** min(self.request.retries, 10)
        raise self.retry(exc=error, countdown=countdown) from error


@shared_task(name="summaries.sweep")
def deliveries_sweep_task() -> int:
    from django.utils import timezone

    return deliveries_sweep(now=timezone.now())
