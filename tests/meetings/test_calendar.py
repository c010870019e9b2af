"""Meeting e-mail with calendar files, and each person's secret calendar feed.

Invitations, changes and cancellations cross a real SMTP conversation; the
attached .ics files are parsed back with icalendar, as a calendar client would.
"""

from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from meetings.models import Attendance, Meeting, MeetingStatus, NoticeKind
from meetings.services import meeting_cancel, meeting_open, meeting_update
from outbox.models import Message, MessageStatus
from outbox.services import outbox_drain
from tests.conftest import header, html_body, notices, text_body
from tests.factories import MeetingFactory, UserFactory

# Tuesday 16 March 2027, 14:00–15:30 in Stockholm (CET, UTC+1); post-its by Sunday 14:00.
MARCH_START = datetime(2027, 3, 16, 13, 0, tzinfo=UTC)
MARCH_DEADLINE = datetime(2027, 3, 14, 13, 0, tzinfo=UTC)
# Tuesday 13 April 2027, 14:00 in Stockholm: summer time (CEST, UTC+2) since 28 March.
APRIL_START = datetime(2027, 4, 13, 12, 0, tzinfo=UTC)
APRIL_DEADLINE = datetime(2027, 4, 11, 12, 0, tzinfo=UTC)
ORGANIZER = "mailto:tvargrupp@localhost"


@pytest.fixture
def it_head(world):
    """Heads IT and reads English."""
    person = UserFactory(email="it-head@example.se", full_name="John Smith", language="en")
    world.it.heads.add(person)
    return person


@pytest.fixture
def guest(world):
    """Invited to the group as a participant, heads nothing."""
    return world.participant


@pytest.fixture
def march(world, it_head, guest):
    """A planned meeting of the world's group, not yet open."""
    return MeetingFactory(
        group=world.group,
        status=MeetingStatus.PLANNED,
        starts_at=MARCH_START,
        ends_at=MARCH_START + timedelta(minutes=90),
        submission_deadline=MARCH_DEADLINE,
        location="Rum Ljuset",
    )


def _send(expected: int) -> None:
    """Send what the outbox holds, as a worker does; every message goes, none fails."""
    assert outbox_drain() == expected


def _notice(meeting, user, kind) -> Message:
    return notices(meeting, kind).get(recipient=user)


def _only_to(mailbox, address: str):
    [message] = [m for m in mailbox.messages if header(m, "To") == address]
    return message


def _attachments(message) -> dict[str, tuple[dict, Calendar]]:
    """Each attachment's file name → (its Content-Type parameters, the parsed calendar)."""
    found = {}
    for part in message.iter_attachments():
        assert part.get_content_type() == "text/calendar"
        params = dict(part.get_params()[1:])
        found[part.get_filename()] = (params, Calendar.from_ical(part.get_content()))
    return found


def _event(calendar: Calendar):
    [event] = calendar.walk("VEVENT")
    return event


def _stockholm(moment: datetime) -> tuple[str, int, int]:
    return (moment.tzinfo.key, moment.hour, moment.minute)


# --- Opening a meeting ------------------------------------------------------------


def test_opening_a_meeting_invites_heads_participants_and_moderators_once_each(
    world, march, it_head, guest
):
    world.group.participants.add(world.moderator)  # moderator and participant: invited once

    assert meeting_open(meeting=march) is True

    march.refresh_from_db()
    assert march.status == MeetingStatus.OPEN
    attendances = Attendance.objects.filter(meeting=march)
    assert {(a.user, a.department, a.status) for a in attendances} == {
        (world.head, world.hr, "invited"),
        (it_head, world.it, "invited"),
        (guest, None, "invited"),
        (world.moderator, None, "invited"),
    }
    queued = notices(march)
    assert sorted((n.address, n.kind, n.payload["sequence"], n.status) for n in queued) == [
        (person.email, "meetings.invitation", 0, "pending")
        for person in sorted([world.head, it_head, guest, world.moderator], key=lambda p: p.email)
    ]


def test_opening_a_meeting_twice_invites_nobody_again(world, march):
    assert meeting_open(meeting=march) is True

    assert meeting_open(meeting=march) is False

    assert Attendance.objects.filter(meeting=march).count() == 4
    assert notices(march).count() == 4


def test_invitation_email_carries_a_meeting_request_and_a_deadline_event(world, march, mailbox):
    meeting_open(meeting=march)

    _send(4)

    message = _only_to(mailbox, world.head.email)
    assert header(message, "To") == "head@example.se"
    assert header(message, "Reply-To") == "moderator@example.se"
    assert header(message, "Subject") == (
        "[Tvärgrupp] Inbjudan: Tvärgrupp IT 16 mars 2027 – lappar senast 14 mar 14.00"
    )
    form_url = settings.SITE_URL + reverse("topics:postit", args=[march.code])
    assert form_url in text_body(message)
    assert "tisdag 16 mars 2027 kl. 14.00–15.30" in text_body(message).lower()
    assert f'href="{form_url}"' in html_body(message)

    attachments = _attachments(message)
    assert list(attachments) == ["mote.ics", "deadline.ics"]

    params, invitation = attachments["mote.ics"]
    assert params == {"charset": "utf-8", "method": "REQUEST"}
    assert invitation["METHOD"] == "REQUEST"
    [zone] = invitation.walk("VTIMEZONE")
    assert zone["TZID"] == "Europe/Stockholm"
    event = _event(invitation)
    assert event["UID"] == f"meeting-{march.code}@tvargrupp"
    assert event["SEQUENCE"] == 0
    assert event["STATUS"] == "CONFIRMED"
    assert event["SUMMARY"] == "Tvärgrupp IT"
    assert event["LOCATION"] == "Rum Ljuset"
    start, end = event["DTSTART"].dt, event["DTEND"].dt
    assert _stockholm(start) == ("Europe/Stockholm", 14, 0)
    assert _stockholm(end) == ("Europe/Stockholm", 15, 30)
    assert (start, end) == (MARCH_START, MARCH_START + timedelta(minutes=90))
    assert str(event["ATTENDEE"]) == "mailto:head@example.se"
    assert event["ATTENDEE"].params["CN"] == "Maria Lindqvist"
    assert str(event["ORGANIZER"]) == ORGANIZER

    params, deadline = attachments["deadline.ics"]
    assert params == {"charset": "utf-8", "method": "PUBLISH"}
    assert deadline["METHOD"] == "PUBLISH"
    assert [z["TZID"] for z in deadline.walk("VTIMEZONE")] == ["Europe/Stockholm"]
    deadline_event = _event(deadline)
    assert deadline_event["UID"] == f"deadline-{march.code}@tvargrupp"
    assert _stockholm(deadline_event["DTSTART"].dt) == ("Europe/Stockholm", 14, 0)
    assert deadline_event["DTSTART"].dt == march.submission_deadline == MARCH_DEADLINE


def test_every_invitee_gets_the_same_event_addressed_to_them(world, march, it_head, guest, mailbox):
    meeting_open(meeting=march)

    _send(4)

    messages = mailbox.wait_for(4)
    assert len(messages) == 4
    seen = {}
    for message in messages:
        event = _event(_attachments(message)["mote.ics"][1])
        seen[header(message, "To")] = (
            str(event["UID"]),
            str(event["ATTENDEE"]),
            str(event["ORGANIZER"]),
        )
    uid = f"meeting-{march.code}@tvargrupp"
    assert seen == {
        person.email: (uid, f"mailto:{person.email}", ORGANIZER)
        for person in (world.head, it_head, guest, world.moderator)
    }
    assert set(notices(march).values_list("status", flat=True)) == {MessageStatus.SENT}


# --- Moving and cancelling -------------------------------------------------------


def test_moving_an_open_meeting_past_the_dst_change_updates_the_same_event(world, march, mailbox):
    meeting_open(meeting=march)
    _send(4)
    invitation = _only_to(mailbox, world.head.email)
    mailbox.clear()

    moved = meeting_update(
        meeting=march,
        starts_at=APRIL_START,
        ends_at=APRIL_START + timedelta(minutes=90),
        submission_deadline=APRIL_DEADLINE,
    )

    assert moved.sequence == 1
    updates = notices(march, NoticeKind.UPDATE)
    assert {(n.address, n.payload["sequence"]) for n in updates} == {
        ("head@example.se", 1),
        ("it-head@example.se", 1),
        ("participant@example.se", 1),
        ("moderator@example.se", 1),
    }
    _send(4)
    message = _only_to(mailbox, world.head.email)
    assert header(message, "Subject") == "[Tvärgrupp] Ändrat: Tvärgrupp IT 13 april 2027"

    before = _event(_attachments(invitation)["mote.ics"][1])
    attachments = _attachments(message)
    assert list(attachments) == ["mote.ics", "deadline.ics"]
    params, calendar = attachments["mote.ics"]
    assert params["method"] == "REQUEST"
    assert calendar["METHOD"] == "REQUEST"
    after = _event(calendar)
    assert after["UID"] == before["UID"] == f"meeting-{march.code}@tvargrupp"
    assert (before["SEQUENCE"], after["SEQUENCE"]) == (0, 1)
    # 14:00 on both sides of the change to summer time: one hour apart in UTC.
    assert _stockholm(before["DTSTART"].dt) == _stockholm(after["DTSTART"].dt)
    assert before["DTSTART"].dt.astimezone(UTC) == datetime(2027, 3, 16, 13, 0, tzinfo=UTC)
    assert after["DTSTART"].dt.astimezone(UTC) == datetime(2027, 4, 13, 12, 0, tzinfo=UTC)
    assert after["DTEND"].dt.astimezone(UTC) == datetime(2027, 4, 13, 13, 30, tzinfo=UTC)
    deadline = _event(attachments["deadline.ics"][1])
    assert deadline["SEQUENCE"] == 1
    assert _stockholm(deadline["DTSTART"].dt) == ("Europe/Stockholm", 14, 0)
    assert deadline["DTSTART"].dt.astimezone(UTC) == APRIL_DEADLINE


def test_changing_nothing_raises_no_revision_and_sends_nothing(world, march):
    meeting_open(meeting=march)

    unchanged = meeting_update(meeting=march, starts_at=MARCH_START, location="Rum Ljuset")

    assert unchanged.sequence == 0
    assert not notices(march, NoticeKind.UPDATE).exists()


def test_moving_a_planned_meeting_raises_the_revision_but_tells_nobody(world, march):
    moved = meeting_update(meeting=march, location="Rum Mörkret")

    assert (moved.sequence, moved.location) == (1, "Rum Mörkret")
    assert not notices(march).exists()


def test_cancelling_an_open_meeting_sends_a_calendar_cancellation(world, march, mailbox):
    meeting_open(meeting=march)

    cancelled = meeting_cancel(meeting=march)

    assert (cancelled.status, cancelled.sequence) == (MeetingStatus.CANCELLED, 1)
    cancellations = notices(march, NoticeKind.CANCELLATION)
    assert {(n.address, n.payload["sequence"]) for n in cancellations} == {
        ("head@example.se", 1),
        ("it-head@example.se", 1),
        ("participant@example.se", 1),
        ("moderator@example.se", 1),
    }
    _send(8)  # the invitations and the cancellations
    [message] = [
        m
        for m in mailbox.messages
        if header(m, "To") == "head@example.se" and "Inställt" in header(m, "Subject")
    ]
    assert header(message, "Subject") == "[Tvärgrupp] Inställt: Tvärgrupp IT 16 mars 2027"
    assert "/postit/" not in text_body(message)

    attachments = _attachments(message)
    assert list(attachments) == ["mote.ics", "deadline.ics"]
    deadline_params, deadline_calendar = attachments["deadline.ics"]
    assert deadline_params == {"charset": "utf-8", "method": "CANCEL"}
    assert _event(deadline_calendar)["STATUS"] == "CANCELLED"
    assert _event(deadline_calendar)["UID"] == f"deadline-{march.code}@tvargrupp"
    params, calendar = attachments["mote.ics"]
    assert params == {"charset": "utf-8", "method": "CANCEL"}
    assert calendar["METHOD"] == "CANCEL"
    event = _event(calendar)
    assert event["UID"] == f"meeting-{march.code}@tvargrupp"
    assert event["STATUS"] == "CANCELLED"
    assert event["SEQUENCE"] == 1
    assert str(event["ATTENDEE"]) == "mailto:head@example.se"
    assert event["DTSTART"].dt == MARCH_START


def test_cancelling_after_a_move_raises_the_sequence_again(world, march, mailbox):
    meeting_open(meeting=march)
    meeting_update(meeting=march, location="Rum Mörkret")

    meeting_cancel(meeting=march)

    notice = _notice(march, world.head, NoticeKind.CANCELLATION)
    assert notice.payload["sequence"] == 2
    _send(12)  # the invitations, the updates and the cancellations
    [message] = [
        m
        for m in mailbox.messages
        if header(m, "To") == "head@example.se" and "Inställt" in header(m, "Subject")
    ]
    assert _event(_attachments(message)["mote.ics"][1])["SEQUENCE"] == 2


def test_cancelling_a_planned_meeting_tells_nobody(world, march):
    cancelled = meeting_cancel(meeting=march)

    assert (cancelled.status, cancelled.sequence) == (MeetingStatus.CANCELLED, 1)
    assert not notices(march).exists()


# --- Sending ------------------------------------------------------------------------


def test_a_notice_sent_twice_reaches_the_person_once(world, march, mailbox):
    meeting_open(meeting=march)
    notice = _notice(march, world.head, NoticeKind.INVITATION)

    assert outbox_drain() == 4
    assert outbox_drain() == 0

    assert [header(m, "To") for m in mailbox.messages].count("head@example.se") == 1
    notice.refresh_from_db()
    assert (notice.status, notice.attempts, notice.last_error) == (MessageStatus.SENT, 1, "")
    assert notice.sent_at is not None


def test_english_attendee_gets_english_subject_and_body(world, march, it_head, mailbox):
    meeting_open(meeting=march)

    _send(4)

    message = _only_to(mailbox, it_head.email)
    assert header(message, "To") == "it-head@example.se"
    assert header(message, "Subject") == (
        "[Tvärgrupp] Invitation: Tvärgrupp IT 16 March 2027 – post-its by 14 Mar 14:00"
    )
    text = text_body(message)
    assert text.startswith("Hello John,")
    assert "You are invited to the next meeting of Tvärgrupp IT." in text
    assert "When: Tuesday 16 March 2027, 14:00–15:30" in text
    assert "Post-it deadline: Sunday 14 March 2027, 14:00" in text
    assert '<html lang="en">' in html_body(message)


def test_english_attendee_gets_english_calendar_files(world, march, it_head, mailbox):
    meeting_open(meeting=march)

    _send(4)

    message = _only_to(mailbox, it_head.email)
    attachments = _attachments(message)
    description = str(_event(attachments["mote.ics"][1])["DESCRIPTION"])
    deadline_summary = str(_event(attachments["deadline.ics"][1])["SUMMARY"])
    assert (description.splitlines()[0], deadline_summary) == (
        "Post-its by 14 Mar 14:00.",
        "Post-it deadline: Tvärgrupp IT",
    )


def test_line_breaks_in_the_group_name_never_reach_the_subject(world, march, mailbox):
    world.group.name = "Tvärgrupp\r\nBcc: evil@example.se\nIT"
    world.group.save(update_fields=["name"])
    meeting_open(meeting=march)

    _send(4)

    message = _only_to(mailbox, world.head.email)
    # Folding may put the encoded subject on a continuation line; the text itself
    # is one line with single spaces where the breaks were.
    assert str(message["Subject"]).strip() == (
        "[Tvärgrupp] Inbjudan: Tvärgrupp Bcc: evil@example.se IT 16 mars 2027 "
        "– lappar senast 14 mar 14.00"
    )
    assert message["Bcc"] is None
    assert header(message, "To") == "head@example.se"


# --- The calendar feed -----------------------------------------------------------


def _feed_url(user) -> str:
    return reverse("meetings:calendar_feed", args=[user.calendar_token])


def _uids(calendar: Calendar) -> set[str]:
    return {str(event["UID"]) for event in calendar.walk("VEVENT")}


def test_calendar_feed_lists_the_persons_meetings_without_sign_in(client, world, march):
    cancelled = MeetingFactory(group=world.group, status=MeetingStatus.CANCELLED)
    MeetingFactory(group=world.group, starts_at=timezone.now() - timedelta(days=90))
    foreign = MeetingFactory(group=world.other_group)

    response = client.get(_feed_url(world.head))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Content-Disposition"] == 'inline; filename="tvargrupp.ics"'
    calendar = Calendar.from_ical(response.content)
    assert calendar["METHOD"] == "PUBLISH"
    assert [z["TZID"] for z in calendar.walk("VTIMEZONE")] == ["Europe/Stockholm"]
    assert _uids(calendar) == {
        f"meeting-{world.meeting.code}@tvargrupp",
        f"deadline-{world.meeting.code}@tvargrupp",
        f"meeting-{march.code}@tvargrupp",
        f"deadline-{march.code}@tvargrupp",
        f"meeting-{cancelled.code}@tvargrupp",
    }
    assert foreign.code not in response.content.decode()
    events = {str(e["UID"]): e for e in calendar.walk("VEVENT")}
    march_event = events[f"meeting-{march.code}@tvargrupp"]
    assert _stockholm(march_event["DTSTART"].dt) == ("Europe/Stockholm", 14, 0)
    assert march_event["DTSTART"].dt == MARCH_START
    assert "ATTENDEE" not in march_event
    assert events[f"deadline-{march.code}@tvargrupp"]["DTSTART"].dt == MARCH_DEADLINE
    assert events[f"meeting-{cancelled.code}@tvargrupp"]["STATUS"] == "CANCELLED"


def test_calendar_feed_of_an_outsider_shows_only_their_own_group(client, world):
    foreign = MeetingFactory(group=world.other_group)

    calendar = Calendar.from_ical(client.get(_feed_url(world.outsider)).content)

    assert _uids(calendar) == {
        f"meeting-{foreign.code}@tvargrupp",
        f"deadline-{foreign.code}@tvargrupp",
    }


def test_calendar_feed_with_an_unknown_token_is_not_found(client, world):
    assert client.get(reverse("meetings:calendar_feed", args=["no-such-token"])).status_code == 404


def test_calendar_feed_of_a_deactivated_person_is_not_found(client, world):
    world.head.is_active = False
    world.head.save(update_fields=["is_active"])

    assert client.get(_feed_url(world.head)).status_code == 404


def test_resetting_the_calendar_token_retires_the_old_feed_address(client, world):
    old_url = _feed_url(world.head)
    assert client.get(old_url).status_code == 200
    client.force_login(world.head)

    response = client.post(reverse("accounts:calendar_reset"))

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:profile")
    world.head.refresh_from_db()
    new_url = _feed_url(world.head)
    assert new_url != old_url
    client.logout()
    assert client.get(old_url).status_code == 404
    new_feed = client.get(new_url)
    assert new_feed.status_code == 200
    assert f"meeting-{world.meeting.code}@tvargrupp" in _uids(Calendar.from_ical(new_feed.content))


def test_calendar_reset_refuses_get(client, world):
    token = world.head.calendar_token
    client.force_login(world.head)

    assert client.get(reverse("accounts:calendar_reset")).status_code == 405

    world.head.refresh_from_db()
    assert world.head.calendar_token == token


def test_calendar_reset_needs_sign_in(client, world):
    token = world.head.calendar_token

    response = client.post(reverse("accounts:calendar_reset"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    world.head.refresh_from_db()
    assert world.head.calendar_token == token


def test_deactivated_people_are_not_invited(world):
    world.head.is_active = False
    world.head.save()
    Meeting.objects.filter(pk=world.meeting.pk).update(status=MeetingStatus.PLANNED)
    meeting_open(meeting=world.meeting)
    invited = {n.address for n in notices(kind=NoticeKind.INVITATION)}
    assert "head@example.se" not in invited
    assert "moderator@example.se" in invited
