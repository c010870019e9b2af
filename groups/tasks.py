from celery import shared_task

from groups.models import Invitation
from groups.services import invitation_send


@shared_task(
    name="groups.invitation_send",
    queue="mail",
    autoretry_for=(OSError,),
    retry_backoff=30,
    retry_kwargs={"max_retries": 8},
)
def invitation_send_task(invitation_id: int) -> None:
    invitation = (
        Invitation.objects.select_related("group", "invited_by").filter(pk=invitation_id).first()
    )
    if invitation is None:
        return
    invitation_send(invitation=invitation)
