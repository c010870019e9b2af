"""iCalendar files: invitations (REQUEST), cancellations (CANCEL) and feeds (PUBLISH).

One meeting keeps one UID for its whole life; every move or cancellation raises
its SEQUENCE, which is how Outlook and Google Calendar know to update the event
they already have. Times carry the group's time zone with a VTIMEZONE.
"""

from datetime import datetime
from email.utils import parseaddr
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from icalendar import Calendar, Event, vCalAddress, vText

from meetings.models import Meeting, MeetingStatus

PRODID = "-//Tvärgrupp//Tvärgrupp//SV"


def meeting_uid(meeting: Meeting) -> str:
    return f"meeting-{meeting.code}@tvargrupp"


def deadline_uid(meeting: Meeting) -> str:
    return f"deadline-{meeting.code}@tvargrupp"


def _calendar(method: str) -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    if method:
        cal.add("method", method)
    return cal


def _local(moment: datetime, meeting: Meeting) -> datetime:
    return moment.astimezone(ZoneInfo(meeting.group.time_zone))


def _organizer() -> vCalAddress:
    name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    organizer = vCalAddress(f"mailto:{address}")
    organizer.params["cn"] = vText(name or "Tvärgrupp")
    return organizer


def _title(meeting: Meeting) -> str:
    return meeting.title or meeting.group.name


def _meeting_event(meeting: Meeting, *, cancelled: bool, attendee=None) -> Event:
    event = Event()
    event.add("uid", meeting_uid(meeting))
    event.add("sequence", meeting.sequence)
    event.add("dtstamp", timezone.now())
    event.add("dtstart", _local(meeting.starts_at, meeting))
    event.add("dtend", _local(meeting.ends_at, meeting))
    event.add("summary", _title(meeting))
    location = meeting.location or meeting.video_url
    if location:
        event.add("location", location)
    url = settings.SITE_URL + meeting.get_absolute_url()
    event.add("url", url)
    lines = [
        _("Post-its by %(deadline)s.")
        % {
            "deadline": formats.date_format(
                _local(meeting.submission_deadline, meeting), "SHORT_DATETIME_FORMAT"
            )
        },
    ]
    if meeting.video_url:
        lines.append(_("Video link: %(url)s") % {"url": meeting.video_url})
    lines.append(url)
    event.add("description", "\n".join(lines))
    event.add("organizer", _organizer())
    if attendee is not None:
        address = vCalAddress(f"mailto:{attendee.email}")
        address.params["cn"] = vText(attendee.display_name)
        address.params["role"] = vText("REQ-PARTICIPANT")
        address.params["partstat"] = vText("NEEDS-ACTION")
        address.params["rsvp"] = vText("FALSE")
        event.add("attendee", address, encode=0)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("transp", "OPAQUE")
    return event


def meeting_invitation_ics(meeting: Meeting, *, attendee=None) -> bytes:
    """METHOD:REQUEST for a planned or moved meeting; METHOD:CANCEL once it is cancelled."""
    cancelled = meeting.status == MeetingStatus.CANCELLED
    cal = _calendar("CANCEL" if cancelled else "REQUEST")
    cal.add_component(_meeting_event(meeting, cancelled=cancelled, attendee=attendee))
    cal.add_missing_timezones()
    return cal.to_ical()


def _deadline_event(meeting: Meeting) -> Event:
    event = Event()
    deadline = _local(meeting.submission_deadline, meeting)
    event.add("uid", deadline_uid(meeting))
    event.add("sequence", meeting.sequence)
    event.add("dtstamp", timezone.now())
    event.add("dtstart", deadline)
    event.add("dtend", deadline)
    event.add("summary", _("Post-it deadline: %(meeting)s") % {"meeting": _title(meeting)})
    event.add("url", settings.SITE_URL + meeting.get_absolute_url())
    event.add("status", "CANCELLED" if meeting.status == MeetingStatus.CANCELLED else "CONFIRMED")
    event.add("transp", "TRANSPARENT")
    return event


def deadline_ics(meeting: Meeting) -> bytes:
    """The submission deadline as a second, zero-length event.

    PUBLISH while the meeting stands; CANCEL (with STATUS:CANCELLED) once it is
    cancelled, so calendars drop the deadline too.
    """
    cal = _calendar("CANCEL" if meeting.status == MeetingStatus.CANCELLED else "PUBLISH")
    cal.add_component(_deadline_event(meeting))
    cal.add_missing_timezones()
    return cal.to_ical()


def feed_ics(meetings: list[Meeting], *, language: str, name: str) -> bytes:
    """A person's secret calendar feed: every meeting of theirs, with its deadline."""
    with translation.override(language):
        cal = _calendar("PUBLISH")
        cal.add("x-wr-calname", name)
        for meeting in meetings:
            cancelled = meeting.status == MeetingStatus.CANCELLED
            cal.add_component(_meeting_event(meeting, cancelled=cancelled))
            if not cancelled:
                cal.add_component(_deadline_event(meeting))
        cal.add_missing_timezones()
        return cal.to_ical()
