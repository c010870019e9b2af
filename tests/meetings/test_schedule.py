"""A group's monthly rhythm: which dates it gives, and the meetings made from it."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from meetings.models import Meeting, MeetingStatus, Schedule, ScheduleRule, Weekday, WeekOfMonth
from meetings.services import (
    meeting_cancel,
    meeting_update,
    meetings_ensure_upcoming,
    schedule_save,
)
from tests.conftest import notices
from tests.factories import GroupFactory, MeetingFactory

# 10 February 2027: the next first Tuesdays are 2 March (CET), 6 April and 4 May (CEST).
BEFORE_MARCH = datetime(2027, 2, 10, 9, 0, tzinfo=UTC)

FIRST_TUESDAY_AT_TWO = {
    "rule": ScheduleRule.NTH_WEEKDAY,
    "week": WeekOfMonth.FIRST,
    "weekday": Weekday.TUESDAY,
    "start_time": time(14, 0),
    "duration_minutes": 90,
    "location": "Rum Ljuset",
    "deadline_hours_before": 48,
    "open_days_before": 14,
}


def _nth(week, weekday) -> Schedule:
    return Schedule(rule=ScheduleRule.NTH_WEEKDAY, week=week, weekday=weekday, start_time=time(9))


def _day(day_of_month) -> Schedule:
    return Schedule(rule=ScheduleRule.DAY_OF_MONTH, day_of_month=day_of_month, start_time=time(9))


def _scheduled(group) -> list[Meeting]:
    return list(group.meetings.filter(schedule_date__isnull=False).order_by("starts_at"))


# --- Dates --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("week", "weekday", "year", "month", "expected"),
    [
        (WeekOfMonth.FIRST, Weekday.TUESDAY, 2025, 1, date(2025, 1, 7)),
        (WeekOfMonth.FIRST, Weekday.TUESDAY, 2025, 4, date(2025, 4, 1)),
        (WeekOfMonth.SECOND, Weekday.TUESDAY, 2025, 4, date(2025, 4, 8)),
        (WeekOfMonth.THIRD, Weekday.TUESDAY, 2025, 4, date(2025, 4, 15)),
        (WeekOfMonth.FOURTH, Weekday.TUESDAY, 2025, 4, date(2025, 4, 22)),
        (WeekOfMonth.FOURTH, Weekday.WEDNESDAY, 2025, 1, date(2025, 1, 22)),
        (WeekOfMonth.LAST, Weekday.TUESDAY, 2025, 4, date(2025, 4, 29)),
        (WeekOfMonth.LAST, Weekday.FRIDAY, 2025, 1, date(2025, 1, 31)),
        (WeekOfMonth.LAST, Weekday.FRIDAY, 2025, 5, date(2025, 5, 30)),
        (WeekOfMonth.LAST, Weekday.SUNDAY, 2025, 3, date(2025, 3, 30)),
    ],
)
def test_nth_weekday_rule_gives_that_weekday_of_the_month(week, weekday, year, month, expected):
    day = _nth(week, weekday).date_in_month(year, month)
    assert day == expected
    assert day.weekday() == weekday


@pytest.mark.parametrize(
    ("day_of_month", "year", "month", "expected"),
    [
        (15, 2025, 2, date(2025, 2, 15)),
        (31, 2025, 1, date(2025, 1, 31)),
        (31, 2025, 2, date(2025, 2, 28)),
        (31, 2024, 2, date(2024, 2, 29)),
        (30, 2024, 2, date(2024, 2, 29)),
        (29, 2100, 2, date(2100, 2, 28)),
        (29, 2000, 2, date(2000, 2, 29)),
        (31, 2025, 4, date(2025, 4, 30)),
    ],
)
def test_day_of_month_rule_falls_back_to_the_last_day_of_short_months(
    day_of_month, year, month, expected
):
    assert _day(day_of_month).date_in_month(year, month) == expected


def test_next_dates_keep_the_wall_clock_time_across_the_spring_dst_change(db):
    schedule = Schedule(group=GroupFactory(), **FIRST_TUESDAY_AT_TWO)

    days = schedule.next_dates(after=BEFORE_MARCH, count=3)

    assert days == [date(2027, 3, 2), date(2027, 4, 6), date(2027, 5, 4)]
    starts = [schedule.starts_at(day) for day in days]
    assert [(s.hour, s.minute, s.tzinfo.key) for s in starts] == [(14, 0, "Europe/Stockholm")] * 3
    assert [s.astimezone(UTC) for s in starts] == [
        datetime(2027, 3, 2, 13, 0, tzinfo=UTC),
        datetime(2027, 4, 6, 12, 0, tzinfo=UTC),
        datetime(2027, 5, 4, 12, 0, tzinfo=UTC),
    ]


def test_next_dates_keep_the_wall_clock_time_across_the_autumn_dst_change(db):
    schedule = Schedule(group=GroupFactory(), **FIRST_TUESDAY_AT_TWO)

    days = schedule.next_dates(after=datetime(2027, 9, 20, tzinfo=UTC), count=2)

    assert days == [date(2027, 10, 5), date(2027, 11, 2)]
    assert [schedule.starts_at(day).astimezone(UTC) for day in days] == [
        datetime(2027, 10, 5, 12, 0, tzinfo=UTC),
        datetime(2027, 11, 2, 13, 0, tzinfo=UTC),
    ]


def test_next_dates_skip_this_months_date_once_its_start_time_has_come(db):
    schedule = Schedule(group=GroupFactory(), **FIRST_TUESDAY_AT_TWO)
    march_start = datetime(2027, 3, 2, 13, 0, tzinfo=UTC)  # 14:00 in Stockholm

    just_before = schedule.next_dates(after=march_start - timedelta(minutes=1), count=1)
    at_start = schedule.next_dates(after=march_start, count=1)

    assert just_before == [date(2027, 3, 2)]
    assert at_start == [date(2027, 4, 6)]


def test_next_dates_run_over_the_turn_of_the_year(db):
    schedule = Schedule(group=GroupFactory(), **FIRST_TUESDAY_AT_TWO)

    days = schedule.next_dates(after=datetime(2026, 11, 20, tzinfo=UTC), count=3)

    assert days == [date(2026, 12, 1), date(2027, 1, 5), date(2027, 2, 2)]


# --- Meetings from the schedule ---------------------------------------------


def test_saving_a_schedule_creates_the_next_three_meetings(db):
    group = GroupFactory()

    schedule = schedule_save(group=group, now=BEFORE_MARCH, **FIRST_TUESDAY_AT_TWO)

    assert Schedule.objects.get(group=group) == schedule
    meetings = _scheduled(group)
    assert Meeting.objects.filter(group=group).count() == 3
    assert [m.schedule_date for m in meetings] == [
        date(2027, 3, 2),
        date(2027, 4, 6),
        date(2027, 5, 4),
    ]
    assert [(m.starts_at, m.ends_at) for m in meetings] == [
        (datetime(2027, 3, 2, 13, 0, tzinfo=UTC), datetime(2027, 3, 2, 14, 30, tzinfo=UTC)),
        (datetime(2027, 4, 6, 12, 0, tzinfo=UTC), datetime(2027, 4, 6, 13, 30, tzinfo=UTC)),
        (datetime(2027, 5, 4, 12, 0, tzinfo=UTC), datetime(2027, 5, 4, 13, 30, tzinfo=UTC)),
    ]
    # Deadline and opening keep the wall-clock time (14:00 in Stockholm), also when
    # the change to summer time lies between them and the meeting (28 March 2027).
    assert [(m.submission_deadline, m.opens_at) for m in meetings] == [
        (datetime(2027, 2, 28, 13, 0, tzinfo=UTC), datetime(2027, 2, 16, 13, 0, tzinfo=UTC)),
        (datetime(2027, 4, 4, 12, 0, tzinfo=UTC), datetime(2027, 3, 23, 13, 0, tzinfo=UTC)),
        (datetime(2027, 5, 2, 12, 0, tzinfo=UTC), datetime(2027, 4, 20, 12, 0, tzinfo=UTC)),
    ]
    assert {(m.status, m.location, m.sequence) for m in meetings} == {
        (MeetingStatus.PLANNED, "Rum Ljuset", 0)
    }


def test_deadline_and_opening_follow_the_schedule_settings(db):
    group = GroupFactory()
    settings = {**FIRST_TUESDAY_AT_TWO, "deadline_hours_before": 6, "open_days_before": 3}

    schedule_save(group=group, now=BEFORE_MARCH, **settings)

    march = _scheduled(group)[0]
    assert march.submission_deadline == datetime(2027, 3, 2, 7, 0, tzinfo=UTC)
    assert march.opens_at == datetime(2027, 2, 27, 13, 0, tzinfo=UTC)


def test_ensuring_upcoming_meetings_again_creates_none(db):
    group = GroupFactory()
    schedule = schedule_save(group=group, now=BEFORE_MARCH, **FIRST_TUESDAY_AT_TWO)
    before = [(m.pk, m.starts_at) for m in _scheduled(group)]

    assert meetings_ensure_upcoming(schedule=schedule, now=BEFORE_MARCH) == []
    assert meetings_ensure_upcoming(schedule=schedule, now=BEFORE_MARCH + timedelta(days=5)) == []
    assert [(m.pk, m.starts_at) for m in _scheduled(group)] == before


def test_once_a_meeting_has_started_the_next_month_is_added(db):
    group = GroupFactory()
    schedule = schedule_save(group=group, now=BEFORE_MARCH, **FIRST_TUESDAY_AT_TWO)

    created = meetings_ensure_upcoming(
        schedule=schedule, now=datetime(2027, 3, 2, 13, 0, 1, tzinfo=UTC)
    )

    assert [m.schedule_date for m in created] == [date(2027, 6, 1)]
    assert [m.schedule_date for m in _scheduled(group)] == [
        date(2027, 3, 2),
        date(2027, 4, 6),
        date(2027, 5, 4),
        date(2027, 6, 1),
    ]


def test_a_moved_meeting_keeps_its_schedule_date_and_is_not_recreated(db):
    group = GroupFactory()
    schedule = schedule_save(group=group, now=BEFORE_MARCH, **FIRST_TUESDAY_AT_TWO)
    march = _scheduled(group)[0]
    new_start = datetime(2027, 3, 4, 9, 0, tzinfo=UTC)

    moved = meeting_update(
        meeting=march,
        starts_at=new_start,
        ends_at=new_start + timedelta(hours=1),
        submission_deadline=new_start - timedelta(days=1),
    )

    assert (moved.schedule_date, moved.starts_at, moved.sequence) == (
        date(2027, 3, 2),
        new_start,
        1,
    )
    assert meetings_ensure_upcoming(schedule=schedule, now=BEFORE_MARCH) == []
    assert Meeting.objects.filter(group=group).count() == 3
    assert Meeting.objects.get(pk=march.pk).starts_at == new_start


def test_a_cancelled_meeting_is_not_recreated(db):
    group = GroupFactory()
    schedule = schedule_save(group=group, now=BEFORE_MARCH, **FIRST_TUESDAY_AT_TWO)
    march = _scheduled(group)[0]

    meeting_cancel(meeting=march)

    assert meetings_ensure_upcoming(schedule=schedule, now=BEFORE_MARCH) == []
    assert [(m.schedule_date, m.status) for m in _scheduled(group)] == [
        (date(2027, 3, 2), MeetingStatus.CANCELLED),
        (date(2027, 4, 6), MeetingStatus.PLANNED),
        (date(2027, 5, 4), MeetingStatus.PLANNED),
    ]


def test_an_inactive_schedule_creates_no_meetings(db):
    group = GroupFactory()

    schedule = schedule_save(group=group, now=BEFORE_MARCH, active=False, **FIRST_TUESDAY_AT_TWO)

    assert not Meeting.objects.filter(group=group).exists()
    assert meetings_ensure_upcoming(schedule=schedule, now=BEFORE_MARCH) == []
    assert not Meeting.objects.filter(group=group).exists()


def test_schedule_save_changes_the_existing_schedule_instead_of_adding_one(db):
    group = GroupFactory()
    first = schedule_save(group=group, now=BEFORE_MARCH, active=False, **FIRST_TUESDAY_AT_TWO)

    second = schedule_save(group=group, now=BEFORE_MARCH, active=True, location="Rum Mörkret")

    assert second.pk == first.pk
    assert Schedule.objects.filter(group=group).count() == 1
    assert [m.location for m in _scheduled(group)] == ["Rum Mörkret"] * 3


def test_saving_a_schedule_opens_a_meeting_whose_opening_time_has_passed_at_once(world):
    # 20 February 2027: the March meeting (2 March) opened for post-its on 16 February,
    # and its deadline (28 February) is still ahead. April's opens on 23 March.
    now = datetime(2027, 2, 20, 9, 0, tzinfo=UTC)

    schedule_save(group=world.group, now=now, **FIRST_TUESDAY_AT_TWO)

    march, april, may = _scheduled(world.group)
    assert [m.status for m in (march, april, may)] == [
        MeetingStatus.OPEN,
        MeetingStatus.PLANNED,
        MeetingStatus.PLANNED,
    ]
    invited = set(notices(march, "invitation").values_list("address", flat=True))
    assert invited == {"moderator@example.se", "head@example.se", "participant@example.se"}
    assert not notices(april).exists()


def test_saving_a_schedule_opens_only_its_own_groups_due_meetings(world):
    now = datetime(2027, 2, 20, 9, 0, tzinfo=UTC)
    elsewhere = MeetingFactory(
        group=world.other_group,
        status=MeetingStatus.PLANNED,
        starts_at=datetime(2027, 3, 3, 9, 0, tzinfo=UTC),
        ends_at=datetime(2027, 3, 3, 10, 0, tzinfo=UTC),
        submission_deadline=datetime(2027, 3, 1, 9, 0, tzinfo=UTC),
        opens_at=datetime(2027, 2, 19, 9, 0, tzinfo=UTC),
    )

    schedule_save(group=world.group, now=now, **FIRST_TUESDAY_AT_TWO)

    assert Meeting.objects.get(pk=elsewhere.pk).status == MeetingStatus.PLANNED


def test_saving_a_schedule_before_the_opening_time_opens_nothing(world):
    schedule_save(group=world.group, now=BEFORE_MARCH, **FIRST_TUESDAY_AT_TWO)

    assert {m.status for m in _scheduled(world.group)} == {MeetingStatus.PLANNED}
    assert not notices().filter(kind="meetings.invitation").exists()


# --- The schedule form --------------------------------------------------------


def _form_data(**changes) -> dict:
    data = {
        "rule": "nth_weekday",
        "week": "1",
        "weekday": "1",
        "day_of_month": "1",
        "start_time": "14:00",
        "duration_minutes": "90",
        "location": "Rum Ljuset",
        "video_url": "",
        "deadline_hours_before": "48",
        "open_days_before": "14",
        "topics_per_department": "2",
        "active": "on",
    }
    data.update(changes)
    return data


def _url(world) -> str:
    return reverse("meetings:schedule_edit", args=[world.group.code])


def test_moderator_sees_the_schedule_form(client, world):
    client.force_login(world.moderator)

    response = client.get(_url(world))

    assert response.status_code == 200
    assert response.context["form"].instance.pk is None


def test_moderator_saves_a_schedule_and_the_next_meetings_are_planned(client, world):
    client.force_login(world.moderator)

    response = client.post(_url(world), _form_data())

    assert response.status_code == 302
    assert response["Location"] == world.group.get_absolute_url()
    schedule = Schedule.objects.get(group=world.group)
    assert (
        schedule.rule,
        schedule.week,
        schedule.weekday,
        schedule.start_time,
        schedule.duration_minutes,
        schedule.topics_per_department,
        schedule.active,
    ) == ("nth_weekday", 1, 1, time(14, 0), 90, 2, True)
    world.group.refresh_from_db()
    assert world.group.allow_read_ahead is False
    meetings = _scheduled(world.group)
    assert len(meetings) == 3
    for meeting in meetings:
        local = meeting.starts_at.astimezone(ZoneInfo("Europe/Stockholm"))
        assert local.date() == meeting.schedule_date
        assert (local.weekday(), local.day <= 7, local.time()) == (1, True, time(14, 0))
        assert meeting.ends_at - meeting.starts_at == timedelta(minutes=90)
    months = [(m.schedule_date.year, m.schedule_date.month) for m in meetings]
    assert len(set(months)) == 3


def test_a_saved_schedule_that_opens_sixty_days_ahead_opens_the_first_meeting_at_once(
    client, world
):
    client.force_login(world.moderator)

    response = client.post(_url(world), _form_data(open_days_before="60"))

    assert response.status_code == 302
    first = _scheduled(world.group)[0]
    assert first.status == MeetingStatus.OPEN
    assert notices(first, "invitation").count() == 3


@pytest.mark.parametrize(
    ("changes", "field", "error"),
    [
        ({"start_time": ""}, "start_time", "This field is required."),
        ({"start_time": "25:99"}, "start_time", "Enter a valid time."),
        ({"duration_minutes": "0"}, "duration_minutes", "Between 5 and 720 minutes."),
        ({"duration_minutes": "721"}, "duration_minutes", "Between 5 and 720 minutes."),
        ({"topics_per_department": "11"}, "topics_per_department", "Between 1 and 10."),
        ({"topics_per_department": "0"}, "topics_per_department", "Between 1 and 10."),
        ({"day_of_month": "32"}, "day_of_month", "Between 1 and 31."),
        ({"open_days_before": "61"}, "open_days_before", "At most 60 days."),
        (
            {"weekday": "7"},
            "weekday",
            "Select a valid choice. 7 is not one of the available choices.",
        ),
        (
            {"week": "5"},
            "week",
            "Select a valid choice. 5 is not one of the available choices.",
        ),
    ],
)
def test_schedule_form_bad_input_shows_the_field_error_and_keeps_the_input(
    client, world, changes, field, error
):
    world.moderator.language = "en"
    world.moderator.save(update_fields=["language"])
    client.force_login(world.moderator)
    typed = "Rum <script>alert(1)</script> & Öga 🎉"

    response = client.post(_url(world), _form_data(location=typed, **changes))

    assert response.status_code == 400
    assert response.context["form"].errors == {field: [error]}
    content = response.content.decode()
    assert 'value="Rum &lt;script&gt;alert(1)&lt;/script&gt; &amp; Öga 🎉"' in content
    assert "<script>alert(1)</script>" not in content
    for name, value in changes.items():
        if value and name not in {"week", "weekday"}:
            assert f'name="{name}" value="{value}"' in content
    assert not Schedule.objects.filter(group=world.group).exists()
    assert not world.group.meetings.filter(schedule_date__isnull=False).exists()


def test_schedule_form_errors_are_in_swedish_by_default(client, world):
    client.force_login(world.moderator)

    response = client.post(_url(world), _form_data(start_time=""))

    assert response.status_code == 400
    assert response.context["form"].errors == {"start_time": ["Detta fält måste fyllas i."]}


@pytest.mark.parametrize("role", ["head", "participant"])
def test_members_who_do_not_moderate_may_not_edit_the_schedule(client, world, role):
    client.force_login(getattr(world, role))

    assert client.get(_url(world)).status_code == 403
    assert client.post(_url(world), _form_data()).status_code == 403
    assert not Schedule.objects.exists()


def test_outsider_does_not_learn_the_schedule_page_exists(client, world):
    client.force_login(world.outsider)

    assert client.get(_url(world)).status_code == 404
    assert client.post(_url(world), _form_data()).status_code == 404
    assert not Schedule.objects.exists()


def test_signed_out_visitor_is_sent_to_sign_in(client, world):
    response = client.post(_url(world), _form_data())

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert not Schedule.objects.exists()


def test_changing_the_rule_replans_untouched_meetings_instead_of_adding_more(db):
    group = GroupFactory()
    schedule_save(group=group, now=BEFORE_MARCH, **FIRST_TUESDAY_AT_TWO)
    moved = _scheduled(group)[2]
    meeting_update(meeting=moved, location="Rum Mörkret")

    schedule_save(
        group=group, now=BEFORE_MARCH, **{**FIRST_TUESDAY_AT_TWO, "weekday": Weekday.THURSDAY}
    )

    assert [m.schedule_date for m in _scheduled(group)] == [
        date(2027, 3, 4),
        date(2027, 4, 1),
        date(2027, 5, 4),  # moved by hand: kept as the moderator left it
    ]
    assert Meeting.objects.get(pk=moved.pk).location == "Rum Mörkret"


def test_a_date_whose_deadline_has_passed_gets_no_meeting(db):
    group = GroupFactory()
    # One day before the 2 March meeting: its 48-hour deadline is already behind us.
    now = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
    schedule_save(group=group, now=now, **FIRST_TUESDAY_AT_TWO)
    assert [m.schedule_date for m in _scheduled(group)] == [
        date(2027, 4, 6),
        date(2027, 5, 4),
        date(2027, 6, 1),
    ]
