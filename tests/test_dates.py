"""Dates and times as each language writes them: Swedish as Swedes write it."""

import re
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import formats, translation

from meetings.services import meeting_open
from tests.conftest import header, notices, send_outbox, text_body
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parent.parent
# 24 November 2026 at 08:23 and Tuesday 1 December 2026 at 14:00, Stockholm time.
MORNING = datetime(2026, 11, 24, 7, 23, tzinfo=UTC)
MEETING = datetime(2026, 12, 1, 13, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("language", "name", "value", "expected"),
    [
        ("sv", "DATETIME_FORMAT", MEETING, "tisdag 1 december 2026 kl. 14.00"),
        ("sv", "SHORT_DATETIME_FORMAT", MORNING, "24 nov 08.23"),
        ("sv", "DATE_FORMAT", MEETING, "1 december 2026"),
        ("sv", "SHORT_DATE_FORMAT", date(2027, 5, 4), "4 maj 2027"),
        ("sv", "TIME_FORMAT", MORNING, "08.23"),
        ("sv", "YEAR_MONTH_FORMAT", MEETING, "december 2026"),
        ("en", "DATETIME_FORMAT", MEETING, "Tuesday 1 December 2026, 14:00"),
        ("en", "SHORT_DATETIME_FORMAT", MORNING, "24 Nov 08:23"),
        ("en", "TIME_FORMAT", MORNING, "08:23"),
    ],
)
def test_named_formats_write_dates_as_the_language_does(language, name, value, expected):
    if isinstance(value, datetime):
        value = value.astimezone(ZoneInfo("Europe/Stockholm"))
    with translation.override(language):
        assert formats.date_format(value, name) == expected


# A format written into a template ("j M H:i", "l j F") is the same in every
# language; the named ones differ per language (tvargrupp/formats/).
LITERAL_FORMAT = re.compile(r'\|date:"(?![A-Z_]+_FORMAT")[^"]*"')
NOT_YET: set[str] = set()


def test_templates_use_the_named_date_formats_only():
    offenders = []
    for path in sorted((ROOT / "templates").rglob("*")):
        if not path.is_file() or path.relative_to(ROOT / "templates").parts[0] in NOT_YET:
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            offenders += [
                f"{path.relative_to(ROOT)}:{number}: {m}" for m in LITERAL_FORMAT.findall(line)
            ]
    assert offenders == []


def test_python_code_writes_no_dates_with_strftime_for_people():
    """strftime is English-only and ignores the language: only file names may use it."""
    found = []
    for app in ("accounts", "groups", "meetings", "topics", "board", "summaries", "outbox"):
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if "strftime(" in line:
                    found.append(f"{path.relative_to(ROOT)}:{number}")
    assert found == ["summaries/views.py:212"]  # the PDF's file name: tvargrupp-2026-12-01.pdf


def test_meeting_page_writes_the_time_in_swedish(client, world):
    world.meeting.starts_at = MEETING
    world.meeting.ends_at = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
    world.meeting.submission_deadline = MORNING
    world.meeting.save()
    client.force_login(world.moderator)

    content = client.get(world.meeting.get_absolute_url()).content.decode()

    assert "tisdag 1 december 2026 kl. 14.00–15.00" in content
    assert "tisdag 24 november 2026 kl. 08.23" in content
    assert "14:00" not in content


def test_meeting_page_writes_the_time_in_english_for_an_english_reader(client, world):
    world.meeting.starts_at = MEETING
    world.meeting.ends_at = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
    world.meeting.submission_deadline = MORNING
    world.meeting.save()
    world.moderator.language = "en"
    world.moderator.save(update_fields=["language"])
    client.force_login(world.moderator)

    content = client.get(world.meeting.get_absolute_url()).content.decode()

    assert "Tuesday 1 December 2026, 14:00–15:00" in content


def test_invitation_subject_and_body_write_dates_as_swedes_do(world, mailbox):
    world.meeting.starts_at = MEETING
    world.meeting.ends_at = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
    world.meeting.submission_deadline = MORNING
    world.meeting.status = "planned"
    world.meeting.save()

    meeting_open(meeting=world.meeting)
    notices(world.meeting, "invitation").exclude(address="head@example.se").delete()
    assert send_outbox() == 1

    [message] = mailbox.messages
    assert header(message, "Subject") == (
        "[Tvärgrupp] Inbjudan: Tvärgrupp IT 1 december 2026 – lappar senast 24 nov 08.23"
    )
    assert "När: tisdag 1 december 2026 kl. 14.00–15.00" in text_body(message)


def test_sign_in_code_greets_with_the_products_name_not_the_host(client, db, mailbox):
    UserFactory(email="maria@example.se", full_name="Maria Lindqvist")

    client.post(reverse("account_request_login_code"), {"email": "maria@example.se"})
    assert send_outbox() == 1

    body = text_body(mailbox.messages[0])
    assert body.startswith("Hej från Tvärgrupp!")
    assert "testserver" not in body  # the request's host, which allauth would name
