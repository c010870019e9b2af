"""Messages about post-its, follow-ups and micro-projects.

To the group's chat channel (Teams or Slack), if it has one: the post-it deadline
approaching, a follow-up overdue. By e-mail to owners: the status request before
a meeting ("Vad har hänt sedan sist?", a signed link per item) and the weekly
reminder of overdue items. E-mail reminders to heads about their post-its are
the meeting's kinds (meetings/messages.py).
"""

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from groups.messages import card
from meetings.models import Meeting
from outbox.kinds import Kind, register
from outbox.models import Channel, Message
from topics.models import VISIBLE_TOPIC_STATUSES, FollowUp, MicroProject, Topic
from tvargrupp.mail import header_safe

DEADLINE_POST_KIND = "topics.deadline_post"
OVERDUE_POST_KIND = "topics.overdue_post"
STATUS_REQUEST_KIND = "topics.status_request"
OVERDUE_REMINDER_KIND = "topics.overdue_reminder"
STATUS_SALT = "topics.status"


def status_token(*, meeting: Meeting, user, follow_up=None, micro_project=None) -> str:
    """The signed key of one item's status link: this item, this person, this meeting.
    `topics.services.status_link_read` checks it when it is used."""
    item = ("f", follow_up.code) if follow_up is not None else ("p", micro_project.code)
    return signing.dumps(
        {"m": meeting.code, "u": user.code, "k": item[0], "c": item[1]},
        salt=STATUS_SALT,
        compress=True,
    )


def render_deadline_post(message: Message, cache: dict) -> dict:
    meeting = Meeting.objects.select_related("group").get(pk=message.payload["meeting"])
    group = meeting.group
    departments = group.departments.active().count()
    ready = (
        Topic.objects.filter(meeting=meeting, status__in=VISIBLE_TOPIC_STATUSES)
        .values("department")
        .distinct()
        .count()
    )
    with translation.override(message.language), timezone.override(group.time_zone):
        deadline = formats.date_format(
            timezone.localtime(meeting.submission_deadline),
            "SHORT_DATETIME_FORMAT",
        )
        return card(
            message,
            title=gettext("Post-its for %(group)s are due %(deadline)s")
            % {"group": group.name, "deadline": deadline},
            text=gettext("%(ready)s of %(departments)s departments have handed in their post-it.")
            % {"ready": ready, "departments": departments},
            path=meeting.get_absolute_url(),
            link_label=gettext("Open the meeting"),
        )


def render_overdue_post(message: Message, cache: dict) -> dict:
    follow_up = FollowUp.objects.select_related("meeting__group", "owner", "owner_department").get(
        pk=message.payload["follow_up"]
    )
    meeting = follow_up.meeting
    owners = [
        name
        for name in (
            follow_up.owner.display_name if follow_up.owner else "",
            follow_up.owner_department.name if follow_up.owner_department else "",
        )
        if name
    ]
    with translation.override(message.language):
        due = formats.date_format(follow_up.due_date, "DATE_FORMAT")
        return card(
            message,
            title=gettext("Overdue follow-up: %(title)s") % {"title": follow_up.title},
            text=gettext("Due %(date)s; owner: %(owners)s.")
            % {"date": due, "owners": ", ".join(owners)},
            path=meeting.get_absolute_url(),
            link_label=gettext("Open the meeting"),
        )


DEADLINE_POST = register(
    Kind(
        name=DEADLINE_POST_KIND,
        label=_("Post-it deadline, to the chat"),
        render=render_deadline_post,
        channel=Channel.WEBHOOK,
    )
)
OVERDUE_POST = register(
    Kind(
        name=OVERDUE_POST_KIND,
        label=_("Overdue follow-up, to the chat"),
        render=render_overdue_post,
        channel=Channel.WEBHOOK,
    )
)


def _items(message: Message):
    follow_ups = list(
        FollowUp.objects.filter(pk__in=message.payload.get("follow_ups", []))
        .select_related("meeting__group", "topic__department")
        .order_by("due_date", "created_at")
    )
    projects = list(
        MicroProject.objects.filter(pk__in=message.payload.get("micro_projects", []))
        .select_related("topic__meeting__group", "topic__department")
        .order_by("target_date", "created_at")
    )
    return follow_ups, projects


def _email(message: Message, subject: str, template: str, context: dict):
    text = render_to_string(f"topics/email/{template}.txt", context)
    html = render_to_string(f"topics/email/{template}.html", context)
    email = EmailMultiAlternatives(
        subject=header_safe(settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + subject),
        body=text,
        to=[message.address],
    )
    email.attach_alternative(html, "text/html")
    return email


def render_status_request(message: Message, cache: dict) -> EmailMultiAlternatives:
    """One e-mail per owner and meeting: each open item with its own signed link."""
    user = message.recipient
    if user is None:
        raise User.DoesNotExist("the person no longer exists")
    meeting = Meeting.objects.select_related("group").get(pk=message.payload["meeting"])
    follow_ups, projects = _items(message)

    def link(**item) -> str:
        token = status_token(meeting=meeting, user=user, **item)
        return settings.SITE_URL + reverse("topics:status_answer", args=[token])

    context = {
        "user": user,
        "meeting": meeting,
        "follow_ups": [(f, link(follow_up=f)) for f in follow_ups],
        "projects": [(p, link(micro_project=p)) for p in projects],
    }
    with translation.override(message.language), timezone.override(meeting.group.time_zone):
        subject = gettext("What has happened since last time? – %(group)s %(date)s") % {
            "group": meeting.group.name,
            "date": formats.date_format(timezone.localtime(meeting.starts_at), "MONTH_DAY_FORMAT"),
        }
        return _email(message, subject, "status_request", context)


def render_overdue_reminder(message: Message, cache: dict) -> EmailMultiAlternatives:
    """One e-mail per owner listing every overdue item of theirs."""
    user = message.recipient
    if user is None:
        raise User.DoesNotExist("the person no longer exists")
    follow_ups, projects = _items(message)
    context = {
        "user": user,
        "follow_ups": [(f, settings.SITE_URL + f.get_absolute_url()) for f in follow_ups],
        "projects": [(p, settings.SITE_URL + p.get_absolute_url()) for p in projects],
    }
    with translation.override(message.language):
        count = len(follow_ups) + len(projects)
        subject = ngettext(
            "%(count)s overdue item is waiting for you",
            "%(count)s overdue items are waiting for you",
            count,
        ) % {"count": count}
        return _email(message, subject, "overdue_reminder", context)


STATUS_REQUEST = register(
    Kind(
        name=STATUS_REQUEST_KIND,
        label=_("Status request before the meeting"),
        render=render_status_request,
    )
)
OVERDUE_REMINDER = register(
    Kind(
        name=OVERDUE_REMINDER_KIND,
        label=_("Weekly reminder of overdue items"),
        render=render_overdue_reminder,
    )
)
