from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core import signing
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from accounts.models import User
from board.models import BoardState
from board.services import ON_BOARD, meeting_time_left, suggested_seconds
from groups.access import Role
from groups.models import Department, Group
from meetings.models import Attendance, Meeting
from topics.models import Contribution, FollowUp, Topic, TopicLink, TopicStatus

POLL_SALT = "board.poll"


@dataclass
class BoardPage:
    meeting: Meeting
    state: BoardState
    agenda: list[Topic]
    parked: list[Topic]
    focus: Topic | None
    contributions: list[Contribution]
    links: list[tuple[TopicLink, Topic]]
    follow_ups: list[FollowUp]
    departments: list[Department]
    people: list[User]
    can_moderate: bool
    now: datetime
    time_left: timedelta
    remaining: int
    suggested: int
    poll_token: str

    @property
    def now_ms(self) -> int:
        return int(self.now.timestamp() * 1000)

    @property
    def timer_ends_ms(self) -> int | None:
        """When a running timer reaches zero (epoch ms); None while paused."""
        if not self.state.running:
            return None
        return self.now_ms + self.remaining * 1000


def poll_token(*, meeting: Meeting, user: User) -> str:
    """A signed key to the meeting's version check: access is checked when it is issued."""
    return signing.dumps({"m": meeting.pk, "u": user.pk}, salt=POLL_SALT, compress=True)


def poll_meeting_id(token: str, *, max_age: int = 12 * 3600) -> int | None:
    try:
        return signing.loads(token, salt=POLL_SALT, max_age=max_age)["m"]
    except (signing.BadSignature, KeyError, TypeError):
        return None


def board_version(*, meeting_id: int) -> int | None:
    return (
        BoardState.objects.filter(meeting_id=meeting_id).values_list("version", flat=True).first()
    )


def board_page(*, meeting: Meeting, user: User, now: datetime) -> BoardPage:
    """Everything the three board views show, in a fixed number of queries."""
    state = BoardState.objects.filter(meeting=meeting).select_related(
        "topic__department", "topic__author"
    ).first() or BoardState(meeting=meeting, version=0)
    topics = list(
        meeting.topics.filter(status__in=ON_BOARD)
        .select_related("department", "author")
        .annotate(
            idea_count=Coalesce(
                Subquery(
                    Contribution.objects.filter(topic=OuterRef("pk"))
                    .values("topic")
                    .annotate(n=Count("pk"))
                    .values("n")
                ),
                0,
            )
        )
        .order_by("position", "created_at")
    )
    focus = state.topic if state.topic_id and state.topic.status in ON_BOARD else None
    contributions: list[Contribution] = []
    links: list[tuple[TopicLink, Topic]] = []
    follow_ups: list[FollowUp] = []
    if focus is not None:
        contributions = list(
            Contribution.objects.filter(topic=focus).select_related("author", "department")
        )
        for link in TopicLink.objects.filter(
            Q(from_topic=focus) | Q(to_topic=focus)
        ).select_related(
            "from_topic__department",
            "from_topic__meeting",
            "to_topic__department",
            "to_topic__meeting",
        ):
            other = link.to_topic if link.from_topic_id == focus.pk else link.from_topic
            links.append((link, other))
        follow_ups = list(
            FollowUp.objects.filter(topic=focus).select_related("owner", "owner_department")
        )
    waiting = [t for t in topics if t.status == TopicStatus.SUBMITTED]
    can_moderate = meeting.role >= Role.MODERATOR
    departments = list(meeting.group.departments.active().order_by("position", "name"))
    people = list(meeting_people(meeting=meeting)) if can_moderate else []
    return BoardPage(
        meeting=meeting,
        state=state,
        agenda=[t for t in topics if t.status != TopicStatus.PARKED],
        parked=[t for t in topics if t.status == TopicStatus.PARKED],
        focus=focus,
        contributions=contributions,
        links=links,
        follow_ups=follow_ups,
        departments=departments,
        people=people,
        can_moderate=can_moderate,
        now=now,
        time_left=meeting_time_left(meeting, now),
        remaining=state.remaining(now) if focus else 0,
        suggested=suggested_seconds(meeting, now=now, remaining_topics=len(waiting)),
        poll_token=poll_token(meeting=meeting, user=user),
    )


def meeting_people(*, meeting: Meeting):
    """Everyone who may own a follow-up: the group's heads, moderators and participants."""
    group_id = meeting.group_id
    return User.objects.filter(
        Q(pk__in=Department.heads.through.objects.filter(department__group=group_id).values("user"))
        | Q(pk__in=Group.moderators.through.objects.filter(group=group_id).values("user"))
        | Q(pk__in=Group.participants.through.objects.filter(group=group_id).values("user"))
        | Q(pk__in=Attendance.objects.filter(meeting=meeting).values("user"))
    ).order_by("full_name", "email")


def link_candidates(*, meeting: Meeting, focus: Topic, query: str, limit: int = 10) -> list[Topic]:
    """Post-its of this group, this meeting or earlier, matching the words typed."""
    qs = (
        Topic.objects.filter(
            meeting__group=meeting.group_id,
            meeting__starts_at__lte=meeting.starts_at,
            status__in=ON_BOARD,
        )
        .exclude(pk=focus.pk)
        .select_related("department", "meeting")
    )
    for word in query.split()[:6]:
        qs = qs.filter(
            Q(title__icontains=word)
            | Q(background__icontains=word)
            | Q(current_state__icontains=word)
            | Q(goal__icontains=word)
            | Q(obstacle__icontains=word)
        )
    return list(qs.order_by("-meeting__starts_at", "position")[:limit])
