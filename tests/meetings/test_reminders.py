"""What the clock drives: reminders, nudges, opening meetings, and the outbox sweeper.

Time travels by passing `now=` to the services; each reminder goes out at most once.
"""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from meetings.models import (
    Attendance,
    Meeting,
    MeetingStatus,
    NoticeKind,
    Schedule,
    ScheduleRule,
    Weekday,
    WeekOfMonth,
)
from meetings.services import meetings_open_due, periodic_tick
from outbox.models import MessageStatus
from tests.conftest import notices
from tests.factories import (
    DepartmentFactory,
    GroupFactory,
    MeetingFactory,
    TopicFactory,
    UserFactory,
)
from topics.services import department_nudge, reminders_queue

# Post-its are due Sunday 14 March 2027, 14:00 in Stockholm; the meeting is two days later.
DEADLINE = datetime(2027, 3, 14, 13, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


class Board:
    """A group whose HR (two heads) and IT (one head) have not submitted; Ekonomi has."""

    def __init__(self):
        self.group = GroupFactory(name="Tvärgrupp Syd")
        self.hr = DepartmentFactory(group=self.group, name="HR", short_name="HR")
        self.it = DepartmentFactory(group=self.group, name="IT", short_name="IT")
        self.eko = DepartmentFactory(group=self.group, name="Ekonomi", short_name="EKO")
        self.hr_heads = [
            UserFactory(email="hr-1@example.se"),
            UserFactory(email="hr-2@example.se"),
        ]
        self.hr.heads.add(*self.hr_heads)
        self.it_head = UserFactory(email="it@example.se")
        self.it.heads.add(self.it_head)
        self.eko_head = UserFactory(email="eko@example.se")
        self.eko.heads.add(self.eko_head)
        self.moderator = UserFactory(email="moderator@example.se")
        self.group.moderators.add(self.moderator)
        self.meeting = MeetingFactory(
            group=self.group,
            status=MeetingStatus.OPEN,
            starts_at=DEADLINE + 2 * DAY,
            ends_at=DEADLINE + 2 * DAY + HOUR,
            submission_deadline=DEADLINE,
        )
        TopicFactory(
            meeting=self.meeting,
            department=self.eko,
            author=self.eko_head,
            status="submitted",
            submitted_at=DEADLINE - 10 * DAY,
        )

    @property
    def without_topic(self) -> set[str]:
        return {"hr-1@example.se", "hr-2@example.se", "it@example.se"}


@pytest.fixture
def board(db) -> Board:
    return Board()


def _notified(meeting, kind) -> set[str]:
    return set(notices(meeting, kind).values_list("recipient__email", flat=True))


# --- Reminders -----------------------------------------------------------------------


def test_nothing_is_queued_eight_days_before_the_deadline(board):
    assert reminders_queue(now=DEADLINE - 8 * DAY) == 0

    assert not notices().exists()


def test_a_week_before_the_deadline_heads_without_a_post_it_are_reminded(board):
    queued = reminders_queue(now=DEADLINE - 7 * DAY + HOUR)

    assert queued == 3
    assert _notified(board.meeting, NoticeKind.REMINDER_7) == board.without_topic
    assert [(m.kind, m.payload, m.status) for m in notices()] == [
        ("meetings.reminder_7", {"meeting": board.meeting.pk, "sequence": 0}, MessageStatus.PENDING)
    ] * 3


def test_the_week_reminder_starts_exactly_seven_days_before(board):
    assert reminders_queue(now=DEADLINE - 7 * DAY - timedelta(seconds=1)) == 0

    assert reminders_queue(now=DEADLINE - 7 * DAY) == 3


def test_the_week_reminder_goes_out_once_however_often_the_clock_ticks(board):
    first = DEADLINE - 7 * DAY + HOUR
    assert reminders_queue(now=first) == 3

    assert reminders_queue(now=first) == 0
    assert reminders_queue(now=first + 10 * timedelta(minutes=1)) == 0
    assert reminders_queue(now=DEADLINE - 3 * DAY) == 0
    assert reminders_queue(now=DEADLINE - 2 * DAY - timedelta(seconds=1)) == 0

    assert notices().count() == 3


def test_two_days_before_the_deadline_the_last_reminder_goes_out_once(board):
    reminders_queue(now=DEADLINE - 7 * DAY + HOUR)

    assert reminders_queue(now=DEADLINE - 2 * DAY + HOUR) == 3
    assert reminders_queue(now=DEADLINE - 2 * DAY + HOUR) == 0
    assert reminders_queue(now=DEADLINE - HOUR) == 0

    assert _notified(board.meeting, NoticeKind.REMINDER_2) == board.without_topic
    assert notices().count() == 6


def test_a_department_that_submits_in_between_gets_no_second_reminder(board):
    reminders_queue(now=DEADLINE - 7 * DAY + HOUR)
    TopicFactory(
        meeting=board.meeting,
        department=board.hr,
        author=board.hr_heads[0],
        status="submitted",
        submitted_at=DEADLINE - 4 * DAY,
    )

    assert reminders_queue(now=DEADLINE - 2 * DAY + HOUR) == 1

    assert _notified(board.meeting, NoticeKind.REMINDER_2) == {"it@example.se"}


@pytest.mark.parametrize("status", ["draft", "withdrawn"])
def test_a_post_it_that_is_not_submitted_does_not_count(board, status):
    TopicFactory(
        meeting=board.meeting,
        department=board.it,
        author=board.it_head,
        status=status,
        submitted_at=None if status == "draft" else DEADLINE - 9 * DAY,
    )

    reminders_queue(now=DEADLINE - 7 * DAY + HOUR)

    assert "it@example.se" in _notified(board.meeting, NoticeKind.REMINDER_7)


def test_a_post_it_for_another_meeting_does_not_count(board):
    other = MeetingFactory(group=board.group, status=MeetingStatus.CLOSED)
    TopicFactory(meeting=other, department=board.it, author=board.it_head)

    reminders_queue(now=DEADLINE - 7 * DAY + HOUR)

    assert _notified(board.meeting, NoticeKind.REMINDER_7) == board.without_topic


def test_a_deactivated_head_is_not_reminded(board):
    board.it_head.is_active = False
    board.it_head.save(update_fields=["is_active"])

    assert reminders_queue(now=DEADLINE - 7 * DAY + HOUR) == 2

    assert _notified(board.meeting, NoticeKind.REMINDER_7) == {"hr-1@example.se", "hr-2@example.se"}


def test_a_head_of_two_departments_is_reminded_once(board):
    board.it.heads.add(board.hr_heads[0])

    assert reminders_queue(now=DEADLINE - 7 * DAY + HOUR) == 3

    assert notices().filter(recipient=board.hr_heads[0]).count() == 1


@pytest.mark.parametrize("after", [timedelta(0), timedelta(seconds=1), DAY])
def test_no_reminder_is_queued_from_the_deadline_on(board, after):
    assert reminders_queue(now=DEADLINE + after) == 0

    assert not notices().exists()


def test_a_meeting_first_seen_two_days_before_gets_only_the_last_reminder(board):
    assert reminders_queue(now=DEADLINE - DAY) == 3

    assert _notified(board.meeting, NoticeKind.REMINDER_7) == set()
    assert _notified(board.meeting, NoticeKind.REMINDER_2) == board.without_topic


@pytest.mark.parametrize(
    "status",
    [
        MeetingStatus.PLANNED,
        MeetingStatus.LIVE,
        MeetingStatus.CLOSED,
        MeetingStatus.SUMMARY_SENT,
        MeetingStatus.CANCELLED,
    ],
)
def test_a_meeting_that_is_not_open_gets_no_reminders(board, status):
    Meeting.objects.filter(pk=board.meeting.pk).update(status=status)

    assert reminders_queue(now=DEADLINE - 7 * DAY + HOUR) == 0
    assert reminders_queue(now=DEADLINE - 2 * DAY + HOUR) == 0

    assert not notices().exists()


def test_reminders_of_two_meetings_are_counted_apart(board):
    later = MeetingFactory(
        group=board.group,
        status=MeetingStatus.OPEN,
        starts_at=DEADLINE + 5 * DAY,
        ends_at=DEADLINE + 5 * DAY + HOUR,
        submission_deadline=DEADLINE + 3 * DAY,
    )

    # Six days before the first deadline, nine before the second: only the first is due.
    assert reminders_queue(now=DEADLINE - 6 * DAY) == 3
    assert reminders_queue(now=DEADLINE - 3 * DAY) == 4

    assert _notified(board.meeting, NoticeKind.REMINDER_7) == board.without_topic
    assert _notified(later, NoticeKind.REMINDER_7) == board.without_topic | {"eko@example.se"}


# --- Nudges ---------------------------------------------------------------------------


def test_moderator_nudges_a_department_whose_heads_have_not_submitted(board):
    now = datetime(2027, 3, 10, 9, 15, tzinfo=UTC)

    assert department_nudge(meeting=board.meeting, department=board.hr, now=now) == 2

    nudges = notices(kind=NoticeKind.NUDGE)
    assert {(n.address, n.payload["sequence"]) for n in nudges} == {
        ("hr-1@example.se", int(now.timestamp())),
        ("hr-2@example.se", int(now.timestamp())),
    }


def test_a_nudge_reaches_each_person_at_most_once_within_the_hour(board):
    now = datetime(2027, 3, 10, 9, 0, tzinfo=UTC)

    assert department_nudge(meeting=board.meeting, department=board.hr, now=now) == 2
    assert department_nudge(meeting=board.meeting, department=board.hr, now=now) == 0
    assert (
        department_nudge(
            meeting=board.meeting, department=board.hr, now=now + timedelta(minutes=59)
        )
        == 0
    )
    assert department_nudge(meeting=board.meeting, department=board.hr, now=now + HOUR) == 2

    assert notices(kind=NoticeKind.NUDGE).count() == 4


def test_two_nudges_minutes_apart_across_the_full_hour_reach_a_person_once(board):
    department_nudge(
        meeting=board.meeting, department=board.hr, now=datetime(2027, 3, 10, 9, 58, tzinfo=UTC)
    )

    again = department_nudge(
        meeting=board.meeting, department=board.hr, now=datetime(2027, 3, 10, 10, 2, tzinfo=UTC)
    )

    assert again == 0


def test_nudging_a_department_that_has_submitted_reaches_nobody(board):
    now = datetime(2027, 3, 10, 9, 0, tzinfo=UTC)

    assert department_nudge(meeting=board.meeting, department=board.eko, now=now) == 0

    assert not notices().exists()


@pytest.mark.parametrize("after", [timedelta(0), HOUR])
def test_nudging_after_the_deadline_is_refused(board, after):
    with translation.override("en"), pytest.raises(ValidationError) as raised:
        department_nudge(meeting=board.meeting, department=board.hr, now=DEADLINE + after)

    assert raised.value.messages == ["The meeting is not open for post-its."]
    assert not notices().exists()


def test_nudging_for_a_meeting_that_is_not_open_is_refused(board):
    board.meeting.status = MeetingStatus.PLANNED
    board.meeting.save(update_fields=["status"])

    with pytest.raises(ValidationError):
        department_nudge(meeting=board.meeting, department=board.hr, now=DEADLINE - 3 * DAY)

    assert not notices().exists()


# --- Opening meetings when their time comes ------------------------------------------


def _planned(board, opens_at, starts_at=DEADLINE + 2 * DAY) -> Meeting:
    return MeetingFactory(
        group=board.group,
        status=MeetingStatus.PLANNED,
        starts_at=starts_at,
        ends_at=starts_at + HOUR,
        submission_deadline=starts_at - 2 * DAY,
        opens_at=opens_at,
    )


def test_a_planned_meeting_opens_once_its_opening_time_has_passed(board):
    now = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
    due = _planned(board, opens_at=now - HOUR)
    exactly = _planned(board, opens_at=now, starts_at=DEADLINE + 3 * DAY)
    future = _planned(board, opens_at=now + HOUR, starts_at=DEADLINE + 4 * DAY)

    assert meetings_open_due(now=now) == 2

    statuses = dict(Meeting.objects.values_list("pk", "status"))
    assert (statuses[due.pk], statuses[exactly.pk], statuses[future.pk]) == (
        MeetingStatus.OPEN,
        MeetingStatus.OPEN,
        MeetingStatus.PLANNED,
    )
    invited = {
        "hr-1@example.se",
        "hr-2@example.se",
        "it@example.se",
        "eko@example.se",
        "moderator@example.se",
    }
    assert _notified(due, NoticeKind.INVITATION) == invited
    assert (
        set(Attendance.objects.filter(meeting=due).values_list("user__email", flat=True)) == invited
    )
    assert not notices(future).exists()
    assert not Attendance.objects.filter(meeting=future).exists()


def test_opening_due_meetings_again_opens_and_invites_nothing_more(board):
    now = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
    due = _planned(board, opens_at=now - HOUR)
    assert meetings_open_due(now=now) == 1

    assert meetings_open_due(now=now + HOUR) == 0

    assert notices(due).count() == 5


def test_a_meeting_is_not_opened_without_an_opening_time_or_after_its_deadline(board):
    now = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
    manual = _planned(board, opens_at=None)
    missed = _planned(board, opens_at=now - 10 * DAY, starts_at=now + DAY)  # deadline yesterday

    assert meetings_open_due(now=now) == 0

    assert set(
        Meeting.objects.filter(pk__in=[manual.pk, missed.pk]).values_list("status", flat=True)
    ) == {MeetingStatus.PLANNED}
    assert not notices().exists()


# --- The clock, all at once ------------------------------------------------------------


def test_periodic_tick_plans_opens_and_reminds_as_time_passes(db):
    group = GroupFactory(name="Tvärgrupp Norr")
    head = UserFactory(email="chef@example.se")
    DepartmentFactory(group=group, name="HR", short_name="HR").heads.add(head)
    Schedule.objects.create(
        group=group,
        rule=ScheduleRule.NTH_WEEKDAY,
        week=WeekOfMonth.FIRST,
        weekday=Weekday.TUESDAY,
        start_time=time(14, 0),
        duration_minutes=60,
        deadline_hours_before=48,
        open_days_before=14,
    )

    # 19 February 2025: the 4 March meeting opened for post-its on 18 February.
    now = datetime(2025, 2, 19, 8, 0, tzinfo=UTC)
    tick = periodic_tick(now=now)

    assert tick == {"created": 3, "opened": 1}
    assert reminders_queue(now=now) == 0
    meetings = list(group.meetings.order_by("starts_at"))
    assert [(m.schedule_date, m.status) for m in meetings] == [
        (date(2025, 3, 4), MeetingStatus.OPEN),
        (date(2025, 4, 1), MeetingStatus.PLANNED),
        (date(2025, 5, 6), MeetingStatus.PLANNED),
    ]
    assert _notified(meetings[0], NoticeKind.INVITATION) == {"chef@example.se"}

    # Four days before the 2 March deadline: the week reminder, and nothing new planned.
    now = datetime(2025, 2, 26, 8, 0, tzinfo=UTC)
    tick = periodic_tick(now=now)

    assert tick == {"created": 0, "opened": 0}
    assert reminders_queue(now=now) == 1
    assert _notified(meetings[0], NoticeKind.REMINDER_7) == {"chef@example.se"}
