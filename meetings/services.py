"""Writes for meetings: schedules, opening, moving, cancelling, and meeting e-mail."""

import logging
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from groups.models import Department, Group
from meetings.messages import notice_key, notice_kind_name
from meetings.models import (
    Attendance,
    AttendanceStatus,
    Meeting,
    MeetingStatus,
    NoticeKind,
    Schedule,
)
from outbox.models import Message, MessageStatus
from outbox.selectors import messages_about_any
from outbox.services import Outgoing, messages_queue

logger = logging.getLogger(__name__)

UPCOMING_MEETINGS = 3
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
    # A meeting whose opening time has passed opens now, not at the clock's next run.
    meetings_open_due(now=now, group=group)
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
    messages_about_any(upcoming).filter(
        recipient=user, status=MessageStatus.PENDING, kind__startswith="meetings."
    ).delete()
    deleted, _by_model = Attendance.objects.filter(meeting__in=upcoming, user=user).delete()
    return deleted


# --- Attendance: answers before the meeting, presence in the room -------------------


class AnsweringClosed(ValidationError):
    """The meeting is over or cancelled: answers no longer change anything."""


class AnswerLinkUsed(Exception):
    """An answer link whose answer (or a later one) has been given already."""

    def __init__(self, attendance: Attendance):
        super().__init__("answer link used")
        self.attendance = attendance


def _answerable(meeting: Meeting, now: datetime) -> None:
    if meeting.status == MeetingStatus.CANCELLED:
        raise AnsweringClosed(_("The meeting is cancelled."))
    if not meeting.accepts_answers(now):
        raise AnsweringClosed(_("The meeting is over; answers can no longer be given."))


def in_group(*, group_id: int, user: User) -> bool:
    """Whether the person is one of the group's moderators, participants or heads."""
    return (
        Group.moderators.through.objects.filter(group=group_id, user=user).exists()
        or Group.participants.through.objects.filter(group=group_id, user=user).exists()
        or Department.heads.through.objects.filter(department__group=group_id, user=user).exists()
    )


def _attendance_get_or_create(meeting: Meeting, user: User) -> Attendance:
    """The person's attendance row, made on first need with the department they head."""
    attendance = (
        Attendance.objects.select_for_update(of=("self",))
        .filter(meeting=meeting, user=user)
        .first()
    )
    if attendance is not None:
        return attendance
    department = (
        Department.objects.active()
        .filter(group=meeting.group_id, heads=user)
        .order_by("position", "name")
        .first()
    )
    attendance = Attendance(meeting=meeting, user=user, department=department)
    attendance.full_clean(validate_unique=False)
    attendance.save()
    return attendance


@transaction.atomic
def attendance_respond(
    *,
    meeting: Meeting,
    user: User,
    status: str,
    version: int | None = None,
    now: datetime | None = None,
) -> Attendance:
    """A person answers the invitation: coming or not, until the meeting ends.

    From an e-mail link, `version` is the answer revision the link was made for:
    if the person has answered since, the link is used (`AnswerLinkUsed`) and
    nothing changes. A member of the group who was not invited (they joined
    later) gets an attendance row with the answer.
    """
    now = now or timezone.now()
    meeting = Meeting.objects.select_for_update(of=("self",)).get(pk=meeting.pk)
    _answerable(meeting, now)
    if status not in (AttendanceStatus.ACCEPTED, AttendanceStatus.DECLINED):
        raise ValidationError(_("Answer either coming or not coming."))
    exists = Attendance.objects.filter(meeting=meeting, user=user).exists()
    if not exists and not in_group(group_id=meeting.group_id, user=user):
        raise ValidationError(_("You are not invited to this meeting."))
    attendance = _attendance_get_or_create(meeting, user)
    if version is not None and version != attendance.response_version:
        raise AnswerLinkUsed(attendance)
    attendance.status = status
    attendance.responded_at = now
    attendance.response_version += 1
    attendance.full_clean(validate_unique=False)
    attendance.save(update_fields=["status", "responded_at", "response_version", "updated_at"])
    return attendance


@transaction.atomic
def attendance_mark(
    *, meeting: Meeting, user: User, present: bool, now: datetime | None = None
) -> Attendance:
    """The moderator marks a person present (or not) in the room.

    Anyone invited, and any member of the group who turns up unannounced; the
    caller holds the meeting's board lock (`board.services.board_attendance_mark`).
    """
    if not (
        Attendance.objects.filter(meeting=meeting, user=user).exists()
        or in_group(group_id=meeting.group_id, user=user)
    ):
        raise ValidationError(
            _("%(name)s is neither invited nor in this group.") % {"name": user.display_name}
        )
    attendance = _attendance_get_or_create(meeting, user)
    attendance.present = present
    attendance.marked_at = now or timezone.now()
    attendance.full_clean(validate_unique=False)
    attendance.save(update_fields=["present", "marked_at", "updated_at"])
    return attendance


def meetings_open_due(*, now: datetime, group: Group | None = None) -> int:
    """Open the planned meetings whose opening time has come (of one group, or all)."""
    due = Meeting.objects.filter(
        status=MeetingStatus.PLANNED, opens_at__lte=now, submission_deadline__gt=now
    )
    if group is not None:
        due = due.filter(group=group)
    return sum(meeting_open(meeting=meeting) for meeting in due.select_related("group"))


# --- Meeting e-mail, through the outbox -------------------------------------------


def _notify_attendees(meeting: Meeting, kind: str) -> list[Message]:
    users = [a.user for a in meeting.attendances.select_related("user").exclude(status="declined")]
    return notices_queue(meeting=meeting, users=users, kind=kind, sequence=meeting.sequence)


def notices_queue(*, meeting: Meeting, users, kind: str, sequence: int = 0) -> list[Message]:
    """One outbox message per person, unless that (meeting, person, kind, sequence) was
    queued before; the outbox sends them after the transaction commits."""
    return messages_queue(
        outgoing=[
            Outgoing(
                kind=notice_kind_name(kind),
                key=notice_key(meeting=meeting, user=user, kind=kind, sequence=sequence),
                address=user.email,
                name=user.full_name,
                language=user.language,
                recipient=user,
                about=meeting,
                payload={"meeting": meeting.pk, "sequence": sequence},
            )
            for user in users
        ]
    )


def periodic_tick(*, now: datetime | None = None) -> dict[str, int]:
    """The meetings' clock work: new meetings from schedules, and opening them.

    Reminders about post-its are the topics app's (`topics.reminders_queue`); the
    outbox has its own clock (`outbox.pump`)."""
    now = now or timezone.now()
    created = 0
    for schedule in Schedule.objects.filter(active=True).select_related("group"):
        created += len(meetings_ensure_upcoming(schedule=schedule, now=now))
    return {
        "created": created,
        "opened": meetings_open_due(now=now),
    }
