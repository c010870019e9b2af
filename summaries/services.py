"""Writes for summaries: closing a meeting, editing, rendering the PDF, sending it.

Sending writes one outbox message per recipient (summaries/messages.py says how
each is made) in the transaction that freezes the summary; the outbox does the
rest. Until the PDF exists the messages wait; the render releases them.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from board.services import board_end
from groups.access import Role
from groups.messages import chat_post
from groups.models import Group
from meetings.models import Meeting, MeetingStatus
from outbox.models import IN_FLIGHT, Message
from outbox.services import Outgoing, messages_queue, messages_release
from summaries.messages import (
    IT_PERSPECTIVE_KIND,
    SUMMARY_KIND,
    SUMMARY_POST_KIND,
    summary_key,
)
from summaries.models import Summary, SummaryStatus
from summaries.pdf import render_pdf
from summaries.selectors import (
    extra_addresses,
    it_perspective_recipients,
    summary_document,
    summary_messages,
    summary_recipients,
)
from topics.models import ITPerspective, Solution
from topics.selectors import follow_up_lane
from tvargrupp.mail import header_safe

logger = logging.getLogger(__name__)

PDF_WAIT = timedelta(minutes=10)  # messages wait this long for their PDF, then look again
RENDER_LOST_AFTER = timedelta(minutes=10)
CLOSABLE = [MeetingStatus.OPEN, MeetingStatus.LIVE]


@transaction.atomic
def meeting_close(*, meeting: Meeting) -> Summary:
    """End the meeting; its summary is assembled from the board, as a draft."""
    closed = Meeting.objects.filter(pk=meeting.pk, status__in=CLOSABLE).update(
        status=MeetingStatus.CLOSED, updated_at=timezone.now()
    )
    meeting.refresh_from_db()
    if not closed and meeting.status != MeetingStatus.CLOSED:
        raise ValidationError(_("Only an open or running meeting can be closed."))
    if closed:
        board_end(meeting=meeting)  # the timer stops and every open screen shows the end
    summary, _created = Summary.objects.get_or_create(meeting=meeting)
    return summary


def _editable(summary: Summary) -> Summary:
    summary = Summary.objects.select_for_update().select_related("meeting").get(pk=summary.pk)
    if summary.status != SummaryStatus.DRAFT:
        raise ValidationError(_("The summary has been sent and can no longer be changed."))
    return summary


@transaction.atomic
def summary_update(
    *,
    summary: Summary,
    intro: str,
    topic_summaries: dict[str, str],
    extra_recipients: str,
) -> Summary:
    summary = _editable(summary)
    _valid, invalid = extra_addresses(extra_recipients)
    if invalid:
        raise ValidationError(
            {
                "extra_recipients": _("Not an e-mail address: %(lines)s")
                % {"lines": ", ".join(invalid)}
            }
        )
    topics = [
        topic
        for topic in summary.meeting.topics.filter(code__in=topic_summaries)
        if topic.summary != topic_summaries[topic.code]
    ]
    # Only what the PDF shows makes a new version (and a new PDF): a save that changes
    # nothing, or only the recipients, keeps the PDF already made.
    changed = bool(topics) or summary.intro != intro
    summary.intro = intro
    summary.extra_recipients = extra_recipients
    if changed:
        summary.content_version = F("content_version") + 1
    summary.full_clean(exclude=["content_version"])
    summary.save()
    for topic in topics:
        topic.summary = topic_summaries[topic.code]
        topic.full_clean()
        topic.save(update_fields=["summary", "updated_at"])
    summary.refresh_from_db()
    return summary


@transaction.atomic
def summary_set_recipient(*, summary: Summary, email: str, include: bool) -> Summary:
    summary = _editable(summary)
    excluded = {e.lower() for e in summary.excluded}
    (excluded.discard if include else excluded.add)(email.lower())
    summary.excluded = sorted(excluded)
    summary.save(update_fields=["excluded", "updated_at"])
    return summary


def summary_pdf_html(*, summary: Summary) -> str:
    """The HTML the PDF is rendered from; the preview shows exactly this."""
    meeting = summary.meeting
    with timezone.override(meeting.group.time_zone):
        return render_to_string(
            "summaries/pdf.html",
            {
                "summary": summary,
                "page": summary_document(meeting=meeting),
                "lane": follow_up_lane(meeting=meeting),
                "for_pdf": True,
            },
        )


def summary_render(*, summary_id: int) -> bool:
    """Render the PDF for the summary's current content, once. True if rendered now."""
    summary = Summary.objects.select_related("meeting__group").filter(pk=summary_id).first()
    if summary is None or summary.pdf_version == summary.content_version:
        return False
    version = summary.content_version
    with translation.override(settings.LANGUAGE_CODE):
        pdf = render_pdf(summary_pdf_html(summary=summary))
    name = f"tvargrupp-{summary.meeting.code}-v{version}.pdf"
    with transaction.atomic():
        locked = Summary.objects.select_for_update().get(pk=summary.pk)
        if locked.content_version != version:
            return False  # edited while rendering: the newer render will come
        locked.pdf.save(name, ContentFile(pdf), save=False)
        locked.pdf_version = version
        locked.save(update_fields=["pdf", "pdf_version", "updated_at"])
        if locked.status == SummaryStatus.SENDING:
            messages_release(messages=summary_messages(summary=locked, with_chat_post=True))
    return True


def summary_request_pdf(*, summary: Summary, again: bool = True) -> None:
    """Have the PDF of the current version made, unless it exists.

    With `again` false a render already asked for is not asked for twice (a page
    polling for its PDF); rendering twice is harmless, only wasted.
    """
    from summaries.tasks import summary_render_task

    if summary.pdf_version == summary.content_version:
        return
    if not again and summary.pdf_requested_version == summary.content_version:
        return
    Summary.objects.filter(pk=summary.pk).update(pdf_requested_version=summary.content_version)
    transaction.on_commit(lambda: summary_render_task.delay(summary.pk))


@transaction.atomic
def summary_send(*, summary: Summary, by: User) -> list[Message]:
    """Freeze the summary and queue one message per recipient; the PDF is rendered if needed."""
    summary = _editable(summary)
    recipients = summary_recipients(summary=summary)
    if not recipients:
        raise ValidationError(_("There is nobody to send the summary to."))
    ready = summary.pdf_version == summary.content_version
    # Without its PDF a message waits; the render releases it at once.
    hold = None if ready else timezone.now() + PDF_WAIT
    meeting = summary.meeting
    post = chat_post(
        group=meeting.group,
        kind=SUMMARY_POST_KIND,
        key=f"{SUMMARY_POST_KIND}:{summary.pk}",
        about=meeting,
        payload={"summary": summary.pk, "recipients": len(recipients)},
    )
    if post is not None:
        post.not_before = hold
    messages = messages_queue(
        outgoing=[
            Outgoing(
                kind=SUMMARY_KIND,
                key=summary_key(summary=summary, email=recipient.email),
                address=recipient.email,
                name=header_safe(recipient.name, 150),
                language=recipient.language,
                recipient=recipient.user,
                about=summary.meeting,
                payload={"summary": summary.pk},
                not_before=hold,
            )
            for recipient in recipients
        ]
        + ([post] if post else [])
    )
    summary.status = SummaryStatus.SENDING
    summary.sent_by = by
    summary.save(update_fields=["status", "sent_by", "updated_at"])
    if not ready:
        summary_request_pdf(summary=summary)
    return messages


def summary_settle(*, summary_id: int) -> bool:
    """Mark the summary sent once none of its messages is still on its way.

    The summary row is locked first, so the last two messages finishing at the
    same moment cannot each see the other as still on its way.
    """
    with transaction.atomic():
        summary = (
            Summary.objects.select_for_update()
            .filter(pk=summary_id, status=SummaryStatus.SENDING)
            .first()
        )
        if (
            summary is None
            or summary_messages(summary=summary).filter(status__in=IN_FLIGHT).exists()
        ):
            return False
        now = timezone.now()
        Summary.objects.filter(pk=summary.pk).update(
            status=SummaryStatus.SENT, sent_at=now, updated_at=now
        )
        Meeting.objects.filter(pk=summary.meeting_id, status=MeetingStatus.CLOSED).update(
            status=MeetingStatus.SUMMARY_SENT, updated_at=now
        )
    return True


def summaries_sweep(*, now: datetime) -> int:
    """Render what a lost broker forgot, and mark sent the summaries whose messages are done."""
    from summaries.tasks import summary_render_task

    lost = 0
    for pk in (
        Summary.objects.filter(status=SummaryStatus.SENDING, updated_at__lt=now - RENDER_LOST_AFTER)
        .exclude(pdf_version=F("content_version"))
        .values_list("pk", flat=True)
    ):
        summary_render_task.delay(pk)
        lost += 1
    for pk in Summary.objects.filter(status=SummaryStatus.SENDING).values_list("pk", flat=True):
        summary_settle(summary_id=pk)
    return lost


# --- The IT perspective's PDF and e-mail ----------------------------------------------------


@transaction.atomic
def it_perspective_send(
    *, meeting: Meeting, by: User, role: Role, extra_recipients: str, now=None
) -> list[Message]:
    """E-mail the IT perspective, its PDF attached, to the group's IT role and the group's
    list of extra addresses (kept for next time): one outbox message per recipient."""
    now = now or timezone.now()
    if role < Role.MODERATOR:
        raise PermissionDenied
    valid, invalid = extra_addresses(extra_recipients)
    if invalid:
        raise ValidationError(
            {
                "extra_recipients": _("Not e-mail addresses: %(lines)s")
                % {"lines": ", ".join(invalid)}
            }
        )
    perspective = ITPerspective.objects.filter(meeting=meeting).first()
    if perspective is None or not Solution.objects.filter(topic__meeting=meeting).exists():
        raise ValidationError(_("Write at least one solution before sending."))
    group = Group.objects.select_for_update().get(pk=meeting.group_id)
    group.it_perspective_recipients = "\n".join(
        f"{name} <{address}>" if name else address for name, address in valid
    )
    group.full_clean()
    group.save(update_fields=["it_perspective_recipients", "updated_at"])
    meeting.group = group
    recipients = it_perspective_recipients(meeting=meeting)
    if not recipients:
        raise ValidationError(
            _("Nobody to send it to: give someone the IT role, or add addresses.")
        )
    sent = int(now.timestamp())
    return messages_queue(
        outgoing=[
            Outgoing(
                kind=IT_PERSPECTIVE_KIND,
                key=f"{IT_PERSPECTIVE_KIND}:{perspective.pk}:{sent}:{r.email}",
                address=r.email,
                name=r.name,
                language=r.language,
                recipient=r.user,
                about=meeting,
                payload={"meeting": meeting.pk},
            )
            for r in recipients
        ]
    )
