"""The invitation e-mail: a moderator invites a person into a group role."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from groups.models import Invitation
from outbox.kinds import Kind, register
from outbox.models import Message, MessageStatus
from tvargrupp.mail import header_safe

INVITATION_KIND = "groups.invitation"


def render_invitation(message: Message, cache: dict) -> EmailMultiAlternatives:
    invitation = Invitation.objects.select_related("group", "invited_by").get(
        pk=message.payload["invitation"]
    )
    if invitation.accepted_at is not None or invitation.revoked_at is not None:
        raise Invitation.DoesNotExist("the invitation was used or withdrawn")
    inviter = invitation.invited_by
    context = {
        "invitation": invitation,
        "group": invitation.group,
        "inviter_name": inviter.display_name if inviter else "",
        "accept_url": settings.SITE_URL + invitation.get_absolute_url(),
    }
    with translation.override(message.language):
        context["role"] = invitation.get_role_display()
        subject = gettext("You are invited to %(group)s") % {"group": invitation.group.name}
        text = render_to_string("groups/email/invitation.txt", context)
        html = render_to_string("groups/email/invitation.html", context)
    email = EmailMultiAlternatives(
        subject=header_safe(settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + subject),
        body=text,
        to=[message.address],
        reply_to=[header_safe(inviter.email)] if inviter else [],
    )
    email.attach_alternative(html, "text/html")
    return email


def _mark_sent(messages: list[Message]) -> None:
    """The invitation records when its e-mail went (the members page shows it)."""
    sent = [m.payload["invitation"] for m in messages if m.status == MessageStatus.SENT]
    Invitation.objects.filter(pk__in=sent).update(sent_at=timezone.now())


INVITATION = register(
    Kind(
        name=INVITATION_KIND,
        label=_("Invitation to the group"),
        render=render_invitation,
        finished=_mark_sent,
    )
)
