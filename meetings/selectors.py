from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Prefetch, Q
from django.http import Http404
from django.utils import timezone

from accounts.models import User
from groups.access import Action, Role, group_role, groups_visible_to, groups_with_roles, require
from groups.models import Department
from meetings.models import Attendance, Meeting, MeetingStatus
from topics.models import Contribution, FollowUp, FollowUpStatus, Topic, TopicLink, TopicStatus

VISIBLE_TOPIC_STATUSES = [TopicStatus.SUBMITTED, TopicStatus.DISCUSSED, TopicStatus.PARKED]
BEFORE_MEETING = [MeetingStatus.PLANNED, MeetingStatus.OPEN, MeetingStatus.CANCELLED]


def meeting_get_for_user(*, user: User, code: str, action: Action = Action.VIEW) -> Meeting:
    """The meeting behind `code`, its group annotated with the user's role.

    Outsiders of the group get 404, members without the right 403.
    """
    meeting = Meeting.objects.filter(code=code).first()
    if meeting is None:
        raise Http404
    group = groups_with_roles(user).filter(pk=meeting.group_id).first()
    if group is None:
        raise Http404
    meeting.group = group
    meeting.role = group_role(user=user, group=group)
    require(meeting.role, action)
    return meeting


@dataclass
class MeetingPage:
    meeting: Meeting
    topics: list[Topic]
    departments: list[Department]
    attendances: list[Attendance]
    follow_ups: list[FollowUp]
    open_earlier_follow_ups: list[FollowUp]
    can_moderate: bool
    can_write: bool
    topics_hidden: bool

    @property
    def parked(self) -> list[Topic]:
        return [t for t in self.topics if t.status == TopicStatus.PARKED]

    @property
    def present_departments(self) -> list[Department]:
        """Departments with someone invited (and not declined) or a post-it on the board."""
        codes = {
            a.department.code for a in self.attendances if a.department and a.status != "declined"
        }
        codes |= {t.department.code for t in self.topics}
        return [d for d in self.departments if d.code in codes]

    @property
    def on_agenda(self) -> list[Topic]:
        return [t for t in self.topics if t.status != TopicStatus.PARKED]


def _link_prefetches() -> list[Prefetch]:
    linked = "department", "meeting"
    return [
        Prefetch(
            "links_out",
            queryset=TopicLink.objects.select_related(
                *(f"to_topic__{field}" for field in linked)
            ).order_by("created_at"),
        ),
        Prefetch(
            "links_in",
            queryset=TopicLink.objects.select_related(
                *(f"from_topic__{field}" for field in linked)
            ).order_by("created_at"),
        ),
    ]


def topics_readable(*, meeting: Meeting) -> bool:
    """Before the meeting, post-its are read ahead only if the group allows it."""
    return (
        meeting.role >= Role.MODERATOR
        or meeting.group.allow_read_ahead
        or meeting.status not in BEFORE_MEETING
    )


def meeting_page(*, meeting: Meeting, user: User | None) -> MeetingPage:
    """Everything the meeting page shows, in a fixed number of queries."""
    readable = topics_readable(meeting=meeting)
    visible = VISIBLE_TOPIC_STATUSES if readable else []
    topics = list(
        meeting.topics.filter(status__in=visible)
        .select_related("department", "author")
        .prefetch_related(
            Prefetch(
                "contributions",
                queryset=Contribution.objects.select_related("author", "department"),
            ),
            Prefetch(
                "follow_ups",
                queryset=FollowUp.objects.select_related("owner", "owner_department"),
            ),
            *_link_prefetches(),
        )
        .order_by("position", "created_at")
    )
    follow_up_qs = FollowUp.objects.select_related("owner", "owner_department", "topic")
    return MeetingPage(
        meeting=meeting,
        topics=topics,
        departments=list(meeting.group.departments.all()),
        attendances=list(
            meeting.attendances.select_related("user", "department").order_by("user__full_name")
        ),
        follow_ups=list(follow_up_qs.filter(meeting=meeting)),
        open_earlier_follow_ups=list(
            follow_up_qs.filter(
                Q(meeting__group=meeting.group_id)
                & Q(meeting__starts_at__lt=meeting.starts_at)
                & Q(status=FollowUpStatus.OPEN)
            ).select_related("meeting")
        ),
        can_moderate=meeting.role >= Role.MODERATOR,
        can_write=user is not None
        and meeting.status == MeetingStatus.OPEN
        and (
            meeting.role >= Role.MODERATOR
            or user.headed_departments.filter(group=meeting.group_id).exists()
        ),
        topics_hidden=not readable,
    )


def meetings_for_feed(*, user: User) -> list[Meeting]:
    """Every meeting of the person's groups from 60 days back, for the calendar feed."""
    since = timezone.now() - timedelta(days=60)
    groups = groups_visible_to(user).values("pk")
    return list(
        Meeting.objects.filter(group__in=groups, starts_at__gte=since)
        .select_related("group")
        .order_by("starts_at")
    )
