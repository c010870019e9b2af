"""The invitation e-mail: a moderator invites a person into a group role."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from groups.models import Group, Invitation
from outbox.kinds import Kind, register, webhook_card
from outbox.models import Channel, Message, MessageStatus
from outbox.transports import is_slack
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


# --- The group's chat channel (Teams or Slack) ---------------------------------------

WEBHOOK_TEST_KIND = "groups.webhook_test"


def chat_post(*, group, kind: str, key: str, about=None, payload: dict | None = None):
    """An outbox message to the group's chat channel, or None when it has none.

    Posts have their own rows: a refused post is retried and shown, and never holds
    up the e-mail beside it.
    """
    from outbox.services import Outgoing

    if not group.webhook_url:
        return None
    return Outgoing(
        kind=kind,
        key=key,
        address=group.webhook_url,
        name=group.name,
        about=about or group,
        payload={"group": group.pk, **(payload or {})},
    )


def card(message: Message, *, title: str, text: str, path: str, link_label: str) -> dict:
    """The post's body in the chat's own format (Slack, or an Adaptive Card for Teams)."""
    return webhook_card(
        title=title,
        text=text,
        url=settings.SITE_URL + path,
        url_label=link_label,
        slack=is_slack(message.address),
    )


def render_webhook_test(message: Message, cache: dict) -> dict:
    group = Group.objects.get(pk=message.payload["group"])
    with translation.override(message.language):
        return card(
            message,
            title=gettext("Tvärgrupp is connected"),
            text=gettext(
                "%(group)s will post here when its summary goes out, when the post-it "
                "deadline approaches and when follow-ups are overdue."
            )
            % {"group": group.name},
            path=group.get_absolute_url(),
            link_label=gettext("Open the group"),
        )


WEBHOOK_TEST = register(
    Kind(
        name=WEBHOOK_TEST_KIND,
        label=_("Test post to the chat"),
        render=render_webhook_test,
        channel=Channel.WEBHOOK,
    )
)
