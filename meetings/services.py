"""Writes for meetings: schedules, opening, moving, cancelling, and meeting e-mail (the outbox)."""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Prefetch
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from groups.models import Department, Group
from meetings.calendar import deadline_ics, meeting_invitation_ics
from meetings.models import (
    Attendance,
    Meeting,
    MeetingStatus,
    Notice,
    NoticeKind,
    NoticeStatus,
    Schedule,
)
from tvargrupp.mail import header_safe

logger = logging.getLogger(__name__)

UPCOMING_MEETINGS = 3
NOTICE_MAX_ATTEMPTS = 8
NOTICE_STUCK_AFTER = timedelta(minutes=10)
ACTIVE_STATUSES = [MeetingStatus.PLANNED, MeetingStatus.OPEN]


# --- Schedules ---------------------------------------------------------------


@transaction.atomic
def schedule_save(
    *,
    group: Group,
    allow_read_ahead: bool | None = None,
    now: datetime | None = None,
    **fields,
) -> Schedule:
    """Create or change a group's schedule, then make sure the next meetings exist."""
    if allow_read_ahead is not None and group.allow_read_ahead != allow_read_ahead:
        group.allow_read_ahead = allow_read_ahead
        group.full_clean()
        group.save(update_fields=["allow_read_ahead", "updated_at"])
    schedule = Schedule.objects.filter(group=group).first() or Schedule(group=group)
    for name, value in fields.items():
        setattr(schedule, name, value)
    schedule.full_clean()
    schedule.save()
    now = now or timezone.now()
    # Planned meetings nobody has been invited to or moved by hand follow the new
    # rule: they are replanned. Open ones stay; the moderator moves them by hand.
    Meeting.objects.filter(
        group=group,
        status=MeetingStatus.PLANNED,
        schedule_date__isnull=False,
        sequence=0,
        starts_at__gt=now,
        attendances__isnull=True,
        topics__isnull=True,
    ).delete()
    meetings_ensure_upcoming(schedule=schedule, now=now)
    return schedule


def meetings_ensure_upcoming(*, schedule: Schedule, now: datetime) -> list[Meeting]:
    """Create the schedule's next three meetings that do not exist yet.

    A meeting belongs to the month of its schedule date, which it keeps when
    moved; a cancelled one is not recreated.
    """
    if not schedule.active:
        return []
    created = []
    # Only dates whose post-it deadline is still ahead: a meeting nobody can prepare
    # for is no use.
    after = now + timedelta(hours=schedule.deadline_hours_before)
    for day in schedule.next_dates(after=after, count=UPCOMING_MEETINGS):
        # The rule is monthly: a month that has a meeting from the schedule (moved,
        # cancelled or planned under an earlier rule) is covered.
        if Meeting.objects.filter(
            group=schedule.group, schedule_date__year=day.year, schedule_date__month=day.month
        ).exists():
            continue
        starts = schedule.starts_at(day)
        meeting = Meeting(
            group=schedule.group,
            schedule_date=day,
            starts_at=starts,
            ends_at=starts + timedelta(minutes=schedule.duration_minutes),
            location=schedule.location,
            video_url=schedule.video_url,
            submission_deadline=starts - timedelta(hours=schedule.deadline_hours_before),
            opens_at=starts - timedelta(days=schedule.open_days_before),
        )
        meeting.full_clean()
        meeting.save()
        created.append(meeting)
    return created


# --- One meeting ---------------------------------------------------------------


@transaction.atomic
def meeting_create(
    *,
    group: Group,
    starts_at: datetime,
    ends_at: datetime,
    submission_deadline: datetime,
    location: str = "",
    video_url: str = "",
    title: str = "",
    open_now: bool = False,
) -> Meeting:
    meeting = Meeting(
        group=group,
        title=title,
        starts_at=starts_at,
        ends_at=ends_at,
        submission_deadline=submission_deadline,
        location=location,
        video_url=video_url,
    )
    meeting.full_clean()
    meeting.save()
    if open_now:
        meeting_open(meeting=meeting)
    return meeting


@transaction.atomic
def meeting_update(*, meeting: Meeting, **fields) -> Meeting:
    """Move or re-describe a meeting. Invitees get an updated calendar event."""
    meeting = (
        Meeting.objects.select_for_update(of=("self",)).select_related("group").get(pk=meeting.pk)
    )
    if meeting.status not in ACTIVE_STATUSES:
        raise ValidationError(_("Only planned or open meetings can be changed."))
    changed = [name for name, value in fields.items() if getattr(meeting, name) != value]
    if not changed:
        return meeting
    for name in changed:
        setattr(meeting, name, fields[name])
    meeting.sequence += 1
    meeting.full_clean()
    meeting.save()
    if meeting.status == MeetingStatus.OPEN:
        _notify_attendees(meeting, NoticeKind.UPDATE)
    return meeting


@transaction.atomic
def meeting_cancel(*, meeting: Meeting) -> Meeting:
    meeting = (
        Meeting.objects.select_for_update(of=("self",)).select_related("group").get(pk=meeting.pk)
    )
    if meeting.status not in ACTIVE_STATUSES:
        raise ValidationError(_("Only planned or open meetings can be cancelled."))
    was_open = meeting.status == MeetingStatus.OPEN
    meeting.status = MeetingStatus.CANCELLED
    meeting.sequence += 1
    meeting.save(update_fields=["status", "sequence", "updated_at"])
    if was_open:
        _notify_attendees(meeting, NoticeKind.CANCELLATION)
    return meeting


@transaction.atomic
def meeting_open(*, meeting: Meeting) -> bool:
    """Open a planned meeting for post-its and invite everyone. True if this call did it."""
    claimed = Meeting.objects.filter(pk=meeting.pk, status=MeetingStatus.PLANNED).update(
        status=MeetingStatus.OPEN, updated_at=timezone.now()
    )
    if not claimed:
        return False
    meeting.refresh_from_db()
    group = meeting.group
    invitees: dict[int, Department | None] = {}
    active = User.objects.filter(is_active=True)
    departments = group.departments.active().prefetch_related(Prefetch("heads", queryset=active))
    for department in departments:
        for head in department.heads.all():
            invitees.setdefault(head.pk, department)
    for user_id in group.participants.filter(is_active=True).values_list("pk", flat=True):
        invitees.setdefault(user_id, None)
    for user_id in group.moderators.filter(is_active=True).values_list("pk", flat=True):
        invitees.setdefault(user_id, None)
    for user_id, department in invitees.items():
        Attendance.objects.get_or_create(
            meeting=meeting, user_id=user_id, defaults={"department": department}
        )
    _notify_attendees(meeting, NoticeKind.INVITATION)
    return True


@transaction.atomic
def attendances_withdraw(*, group: Group, user: User) -> int:
    """A person has left the group: take them off its meetings not yet held, with the
    e-mail still waiting for them. Meetings held keep their attendance (history)."""
    upcoming = Meeting.objects.filter(group=group, status__in=ACTIVE_STATUSES)
    Notice.objects.filter(meeting__in=upcoming, user=user, status=NoticeStatus.PENDING).delete()
    deleted, _by_model = Attendance.objects.filter(meeting__in=upcoming, user=user).delete()
    return deleted


def meetings_open_due(*, now: datetime) -> int:
    due = Meeting.objects.filter(
        status=MeetingStatus.PLANNED, opens_at__lte=now, submission_deadline__gt=now
    )
    return sum(meeting_open(meeting=meeting) for meeting in due.select_related("group"))


# --- The outbox ------------------------------------------------------------------


def _notify_attendees(meeting: Meeting, kind: str) -> list[Notice]:
    users = [a.user for a in meeting.attendances.select_related("user").exclude(status="declined")]
    return notices_queue(meeting=meeting, users=users, kind=kind, sequence=meeting.sequence)


def notices_queue(*, meeting: Meeting, users, kind: str, sequence: int = 0) -> list[Notice]:
    """Write one notice per person, unless that (meeting, person, kind, sequence) exists;
    each new one is sent after the transaction commits."""
    created = []
    for user in users:
        notice, is_new = Notice.objects.get_or_create(
            meeting=meeting, user=user, kind=kind, sequence=sequence
        )
        if is_new:
            created.append(notice)
    if created:
        from meetings.tasks import notice_send_task

        ids = [notice.pk for notice in created]
        transaction.on_commit(lambda: [notice_send_task.delay(pk) for pk in ids])
    return created


def notice_send(*, notice_id: int) -> bool:
    """Send one pending notice; True if sent now. Safe to call twice, or concurrently."""
    with transaction.atomic():
        notice = (
            Notice.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("meeting__group", "user")
            .filter(pk=notice_id, status=NoticeStatus.PENDING)
            .first()
        )
        if notice is None:
            return False
        notice.attempts += 1
        try:
            notice_message(notice).send()
        except Exception as error:  # recorded, then re-raised for the retry
            failure = error
        else:
            notice.status = NoticeStatus.SENT
            notice.sent_at = timezone.now()
            notice.last_error = ""
            notice.save(update_fields=["status", "sent_at", "attempts", "last_error", "updated_at"])
            return True
        notice.last_error = str(failure)[:2000]
        if notice.attempts >= NOTICE_MAX_ATTEMPTS:
            notice.status = NoticeStatus.FAILED
        notice.save(update_fields=["status", "attempts", "last_error", "updated_at"])
    if notice.status == NoticeStatus.FAILED:
        logger.warning("Giving up on notice %s: %s", notice_id, failure)
        return False
    raise failure


def notices_sweep(*, now: datetime) -> int:
    """Re-enqueue pending notices the broker may have lost."""
    from meetings.tasks import notice_send_task

    stuck = Notice.objects.filter(
        status=NoticeStatus.PENDING, updated_at__lt=now - NOTICE_STUCK_AFTER
    ).values_list("pk", flat=True)
    ids = list(stuck[:1000])
    for pk in ids:
        notice_send_task.delay(pk)
    return len(ids)


SUBJECTS = {
    NoticeKind.INVITATION: gettext_lazy(
        "Invitation: %(group)s %(date)s – post-its by %(deadline)s"
    ),
    NoticeKind.UPDATE: gettext_lazy("Changed: %(group)s %(date)s"),
    NoticeKind.CANCELLATION: gettext_lazy("Cancelled: %(group)s %(date)s"),
    NoticeKind.REMINDER_7: gettext_lazy("Reminder: your post-it for %(group)s %(date)s"),
    NoticeKind.REMINDER_2: gettext_lazy("Two days left: your post-it for %(group)s %(date)s"),
    NoticeKind.NUDGE: gettext_lazy("Your post-it for %(group)s %(date)s"),
}


def notice_message(notice: Notice) -> EmailMultiAlternatives:
    meeting, user = notice.meeting, notice.user
    zone = meeting.group.time_zone
    writes_postits = Department.heads.through.objects.filter(
        user_id=user.pk, department__group_id=meeting.group_id, department__archived_at__isnull=True
    ).exists()
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
    with translation.override(user.language), timezone.override(zone):
        params = {
            "group": meeting.group.name,
            "date": timezone.localtime(meeting.starts_at).strftime("%Y-%m-%d"),
            "deadline": timezone.localtime(meeting.submission_deadline).strftime("%Y-%m-%d %H:%M"),
        }
        subject = str(SUBJECTS[notice.kind]) % params
        text = render_to_string("meetings/email/notice.txt", context)
        html = render_to_string("meetings/email/notice.html", context)
        calendar_files = _calendar_files(notice)
    message = EmailMultiAlternatives(
        subject=header_safe(settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + subject),
        body=text,
        to=[user.email],
        reply_to=[m.email for m in meeting.group.moderators.all()[:1]],
    )
    message.attach_alternative(html, "text/html")
    for name, content, method in calendar_files:
        message.attach(name, content, f"text/calendar; charset=utf-8; method={method}")
    return message


def _calendar_files(notice: Notice) -> list[tuple[str, bytes, str]]:
    """The meeting as an invitation (or its cancellation), and the deadline event."""
    if notice.kind not in {NoticeKind.INVITATION, NoticeKind.UPDATE, NoticeKind.CANCELLATION}:
        return []
    meeting = notice.meeting
    cancelled = notice.kind == NoticeKind.CANCELLATION
    method = "CANCEL" if cancelled else "REQUEST"
    return [
        ("mote.ics", meeting_invitation_ics(meeting, attendee=notice.user), method),
        ("deadline.ics", deadline_ics(meeting), method if cancelled else "PUBLISH"),
    ]


def periodic_tick(*, now: datetime | None = None) -> dict[str, int]:
    """The meetings' clock work: new meetings from schedules, opening, the notice sweeper.

    Reminders about post-its are the topics app's (`topics.reminders_queue`)."""
    now = now or timezone.now()
    created = 0
    for schedule in Schedule.objects.filter(active=True).select_related("group"):
        created += len(meetings_ensure_upcoming(schedule=schedule, now=now))
    return {
        "created": created,
        "opened": meetings_open_due(now=now),
        "swept": notices_sweep(now=now),
    }
