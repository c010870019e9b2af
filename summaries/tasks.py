from celery import shared_task
from django.utils import timezone

from summaries.services import summaries_sweep, summary_render


@shared_task(name="summaries.render", queue="pdf", time_limit=300, soft_time_limit=240)
def summary_render_task(summary_id: int) -> None:
    summary_render(summary_id=summary_id)


@shared_task(name="summaries.sweep")
def summaries_sweep_task() -> int:
    return summaries_sweep(now=timezone.now())
