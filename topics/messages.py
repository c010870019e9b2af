"""Chat posts about post-its and follow-ups: the deadline approaching, a follow-up overdue.

E-mail reminders to heads are the meeting's kinds (meetings/messages.py); these
go to the group's chat channel (Teams or Slack), if it has one.
"""

from django.utils import formats, timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from groups.messages import card
from meetings.models import Meeting
from outbox.kinds import Kind, register
from outbox.models import Channel, Message
from topics.models import VISIBLE_TOPIC_STATUSES, FollowUp, Topic

DEADLINE_POST_KIND = "topics.deadline_post"
OVERDUE_POST_KIND = "topics.overdue_post"


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
