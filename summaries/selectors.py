from dataclasses import dataclass
from email.utils import parseaddr

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import QuerySet

from accounts.models import User
from groups.access import Role
from meetings.models import AttendanceStatus, Meeting
from outbox.models import Message
from summaries.messages import IT_PERSPECTIVE_KIND, SUMMARY_KIND, SUMMARY_POST_KIND
from summaries.models import Summary
from topics.selectors import MeetingPage, meeting_page


@dataclass(frozen=True)
class Recipient:
    email: str
    name: str
    language: str
    user: User | None
    source: str  # "attendee", "head" or "extra"


def summary_document(*, meeting: Meeting) -> MeetingPage:
    """Everything the summary shows, from the board: the meeting page's data, unabridged."""
    meeting.role = Role.ADMIN  # the document is for everyone; drafts are still left out
    return meeting_page(meeting=meeting, user=None)


def extra_addresses(text: str) -> tuple[list[tuple[str, str]], list[str]]:
    """Valid (name, address) pairs and invalid lines from the extra recipients field.

    One recipient per line (commas and semicolons separate too); a line written
    `Name <address>` keeps its name.
    """
    valid: list[tuple[str, str]] = []
    invalid: list[str] = []
    seen: set[str] = set()
    for line in text.replace(",", "\n").replace(";", "\n").splitlines():
        line = line.strip()
        if not line:
            continue
        name, address = parseaddr(line)
        address = address or line
        try:
            validate_email(address)
        except ValidationError:
            invalid.append(line)
        else:
            if address.lower() not in seen:
                seen.add(address.lower())
                valid.append((name.strip(), address.lower()))
    return valid, invalid


def summary_recipients(*, summary: Summary, include_excluded: bool = False) -> list[Recipient]:
    """Attendees, every head of the group's departments, and extra addresses; each once."""
    meeting = summary.meeting
    found: dict[str, Recipient] = {}

    def add(email: str, name: str, language: str, user: User | None, source: str) -> None:
        key = email.lower()
        if key not in found:
            found[key] = Recipient(key, name, language, user, source)

    attendances = meeting.attendances.select_related("user").exclude(
        status=AttendanceStatus.DECLINED
    )
    for attendance in attendances:
        user = attendance.user
        if user.is_active:
            add(user.email, user.full_name, user.language, user, "attendee")
    heads = User.objects.filter(
        headed_departments__group=meeting.group_id, is_active=True
    ).distinct()
    for user in heads:
        add(user.email, user.full_name, user.language, user, "head")
    for name, address in extra_addresses(summary.extra_recipients)[0]:
        add(address, name, settings.LANGUAGE_CODE, None, "extra")
    excluded = {e.lower() for e in summary.excluded}
    rank = {"attendee": 0, "head": 1, "extra": 2}
    recipients = sorted(found.values(), key=lambda r: rank[r.source])
    if include_excluded:
        return recipients
    return [r for r in recipients if r.email not in excluded]


def summary_messages(*, summary: Summary, with_chat_post: bool = False) -> QuerySet[Message]:
    """The outbox messages carrying this summary: one per recipient (and the chat post)."""
    kinds = [SUMMARY_KIND, SUMMARY_POST_KIND] if with_chat_post else [SUMMARY_KIND]
    return Message.objects.filter(
        kind__in=kinds,
        about_type=ContentType.objects.get_for_model(Meeting),
        about_id=summary.meeting_id,
    )


def it_perspective_recipients(*, meeting: Meeting) -> list[Recipient]:
    """Who gets the IT perspective: the group's IT role, and the group's extra addresses."""
    group = meeting.group
    found: dict[str, Recipient] = {}
    for user in group.it_members.filter(is_active=True).order_by("full_name", "email"):
        found.setdefault(
            user.email.lower(),
            Recipient(user.email.lower(), user.full_name, user.language, user, "it"),
        )
    for name, address in extra_addresses(group.it_perspective_recipients)[0]:
        found.setdefault(address, Recipient(address, name, settings.LANGUAGE_CODE, None, "extra"))
    return list(found.values())


def it_perspective_messages(*, meeting: Meeting) -> QuerySet[Message]:
    return Message.objects.filter(
        kind=IT_PERSPECTIVE_KIND,
        about_type=ContentType.objects.get_for_model(Meeting),
        about_id=meeting.pk,
    ).order_by("-created_at", "address")
