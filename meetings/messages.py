"""The meeting's e-mail: invitation, change, cancellation, reminders and nudges.

One outbox kind per `NoticeKind` ("meetings.invitation", …), all made by
`render_notice`: the text in the person's language, and for invitations,
changes and cancellations two calendar files (the meeting, the deadline).
"""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from groups.models import Department
from meetings.answers import answer_url
from meetings.calendar import deadline_ics, meeting_invitation_ics
from meetings.models import Attendance, Meeting, NoticeKind
from outbox.kinds import Kind, register
from outbox.models import Message, Priority
from tvargrupp.mail import header_safe

SUBJECTS = {
    NoticeKind.INVITATION: _("Invitation: %(group)s %(date)s – post-its by %(deadline)s"),
    NoticeKind.UPDATE: _("Changed: %(group)s %(date)s"),
    NoticeKind.CANCELLATION: _("Cancelled: %(group)s %(date)s"),
    NoticeKind.REMINDER_7: _("Reminder: your post-it for %(group)s %(date)s"),
    NoticeKind.REMINDER_2: _("Two days left: your post-it for %(group)s %(date)s"),
    NoticeKind.NUDGE: _("Your post-it for %(group)s %(date)s"),
}
WITH_CALENDAR = {NoticeKind.INVITATION, NoticeKind.UPDATE, NoticeKind.CANCELLATION}
# The invitation and a changed meeting ask whether the person comes (meetings/answers.py).
WITH_ANSWER_LINKS = {NoticeKind.INVITATION, NoticeKind.UPDATE}


def notice_kind_name(kind: str) -> str:
    """The outbox kind of a meeting notice: "meetings.invitation", "meetings.nudge", …"""
    return f"meetings.{kind}"


def notice_key(*, meeting: Meeting, user, kind: str, sequence: int) -> str:
    """Unique per meeting, person, kind and revision: "never the same reminder twice"."""
    return f"{notice_kind_name(kind)}:{meeting.pk}:{user.pk}:{sequence}"


def _meeting(message: Message, cache: dict) -> Meeting:
    key = ("meeting", message.payload["meeting"])
    if key not in cache:
        cache[key] = (
            Meeting.objects.select_related("group")
            .prefetch_related("group__moderators")
            .get(pk=message.payload["meeting"])
        )
    return cache[key]


def render_notice(message: Message, cache: dict) -> EmailMultiAlternatives:
    kind = message.kind.removeprefix("meetings.")
    meeting, user = _meeting(message, cache), message.recipient
    if user is None:
        raise User.DoesNotExist("the person no longer exists")
    zone = meeting.group.time_zone
    writes_postits = Department.heads.through.objects.filter(
        user_id=user.pk, department__group_id=meeting.group_id
    ).exists()
    notice = {"kind": kind, "sequence": message.payload.get("sequence", 0)}
    context = {
        "notice": notice,
        "meeting": meeting,
        "user": user,
        "zone": zone,
        "meeting_url": settings.SITE_URL + meeting.get_absolute_url(),
        "form_url": settings.SITE_URL + reverse("topics:postit", args=[meeting.code])
        if writes_postits
        else "",
    }
    attendance = Attendance.objects.filter(meeting=meeting, user=user).first()
    if kind in WITH_ANSWER_LINKS and attendance and meeting.accepts_answers(timezone.now()):
        context["yes_url"] = settings.SITE_URL + answer_url(attendance, "yes")
        context["no_url"] = settings.SITE_URL + answer_url(attendance, "no")
    with translation.override(message.language), timezone.override(zone):
        params = {
            "group": meeting.group.name,
            "date": formats.date_format(timezone.localtime(meeting.starts_at), "DATE_FORMAT"),
            "deadline": formats.date_format(
                timezone.localtime(meeting.submission_deadline), "SHORT_DATETIME_FORMAT"
            ),
        }
        subject = str(SUBJECTS[kind]) % params
        text = render_to_string("meetings/email/notice.txt", context)
        html = render_to_string("meetings/email/notice.html", context)
        calendar_files = _calendar_files(meeting, user, kind)
    moderators = list(meeting.group.moderators.all())
    email = EmailMultiAlternatives(
        subject=header_safe(settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + subject),
        body=text,
        to=[message.address],
        reply_to=[header_safe(m.email) for m in moderators[:1]],
    )
    email.attach_alternative(html, "text/html")
    for name, content, method in calendar_files:
        email.attach(name, content, f"text/calendar; charset=utf-8; method={method}")
    return email


def _calendar_files(meeting: Meeting, user, kind: str) -> list[tuple[str, bytes, str]]:
    """The meeting as an invitation (or its cancellation), and the deadline event."""
    if kind not in WITH_CALENDAR:
        return []
    cancelled = kind == NoticeKind.CANCELLATION
    method = "CANCEL" if cancelled else "REQUEST"
    return [
        ("mote.ics", meeting_invitation_ics(meeting, attendee=user), method),
        ("deadline.ics", deadline_ics(meeting), method if cancelled else "PUBLISH"),
    ]


LABELS = {
    NoticeKind.INVITATION: _("Meeting invitation"),
    NoticeKind.UPDATE: _("Changed meeting"),
    NoticeKind.CANCELLATION: _("Cancelled meeting"),
    NoticeKind.REMINDER_7: _("Reminder a week before the deadline"),
    NoticeKind.REMINDER_2: _("Reminder two days before the deadline"),
    NoticeKind.NUDGE: _("Nudge from the moderator"),
}

NOTICE_KINDS = {
    kind: register(
        Kind(
            name=notice_kind_name(kind),
            label=LABELS[kind],
            render=render_notice,
            priority=Priority.NORMAL,
        )
    )
    for kind in NoticeKind.values
}
