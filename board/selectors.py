from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property

from django.core import signing
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from accounts.models import User
from board.models import BoardState
from board.services import ENDED, ON_BOARD, meeting_time_left, suggested_seconds
from groups.access import Role
from groups.models import Department, Group
from meetings.models import Attendance, Meeting, MeetingStatus
from meetings.selectors import attendance_roll
from topics.models import Contribution, FollowUp, Topic, TopicLink, TopicStatus
from topics.selectors import Lane, follow_up_lane, topics_readable

POLL_SALT = "board.poll"
AGENDA_FIELDS = (
    "code",
    "title",
    "status",
    "position",
    "created_at",
    "meeting_id",
    "department__code",
    "department__name",
    "department__short_name",
    "department__colour",
)


@dataclass
class RoomPeople:
    """Whom the moderator can note an idea or a follow-up for, who is in the room first.

    Once attendance has been taken (someone is marked present), `present` holds the
    people in the room and `others` the rest of the group and its invitees; before
    that, `present` is empty and `others` holds everyone. Each keeps the roll's order:
    those who said they were coming first, then by name.
    """

    present: list[User] = field(default_factory=list)
    others: list[User] = field(default_factory=list)

    @property
    def taken(self) -> bool:
        return bool(self.present)

    @property
    def key(self) -> str:
        """Changes when the list or who is present changes: the board's script re-fills its
        pickers only then (never while someone has one open for nothing)."""
        return ",".join([f"{p.pk}+" for p in self.present] + [str(p.pk) for p in self.others])


def room_people(*, roll: list[User]) -> RoomPeople:
    """The pickers' people from the attendance roll (`attendance_roll`): no query of its own."""
    return RoomPeople(
        present=[person for person in roll if person.present],
        others=[person for person in roll if not person.present],
    )


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
    can_moderate: bool
    topics_hidden: bool
    now: datetime
    time_left: timedelta
    remaining: int
    suggested: int
    poll_token: str
    # The attendance panel (moderators only): members and invitees, answers, presence.
    roll: list[User] = field(default_factory=list)
    lane: Lane | None = None  # "Uppföljning", on the moderator's board

    # The tools column's pickers: read when the whole page is rendered, not for the
    # live part an action answers with, nor for the screens' fragments.
    @cached_property
    def departments(self) -> list[Department]:
        return list(self.meeting.group.departments.active().order_by("position", "name"))

    @cached_property
    def people(self) -> "RoomPeople":
        """Those marked present first: from the attendance roll, no query of its own (the
        live part carries them too, for the pickers to follow attendance)."""
        return room_people(roll=self.roll)

    @property
    def ended(self) -> bool:
        """Closed, summarised or cancelled: nothing on the board changes any more."""
        return self.meeting.status in ENDED

    @property
    def waiting(self) -> bool:
        """Not started yet (planned or open for post-its)."""
        return self.meeting.status in (MeetingStatus.PLANNED, MeetingStatus.OPEN)

    @property
    def state_name(self) -> str:
        return "ended" if self.ended else "waiting" if self.waiting else "live"

    @property
    def density(self) -> str:
        """How much the post-it with the word says: the projector sizes its type by it."""
        if self.focus is None:
            return "normal"
        topic = self.focus
        length = sum(
            len(text)
            for text in (topic.background, topic.current_state, topic.goal, topic.obstacle)
        )
        return "normal" if length <= 700 else "dense" if length <= 1600 else "denser"

    @property
    def present_count(self) -> int:
        return sum(1 for person in self.roll if person.present)

    @property
    def now_ms(self) -> int:
        return int(self.now.timestamp() * 1000)

    @property
    def timer_ends_ms(self) -> int | None:
        """When a running timer reaches zero (epoch ms); None while paused."""
        if not self.state.running or self.ended:
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


def board_page(*, meeting: Meeting, user: User, now: datetime, lane: bool = False) -> BoardPage:
    """Everything the three board views show, in a fixed number of queries.

    Before the meeting starts, post-its are shown only to those the meeting page
    shows them to (moderators, or everyone when the group allows reading ahead).
    """
    readable = topics_readable(meeting=meeting)
    state = BoardState.objects.filter(meeting=meeting).select_related(
        "topic__department", "topic__author"
    ).first() or BoardState(meeting=meeting, version=0)
    # The agenda shows a title, a department and a count: not the four long fields.
    topics = list(
        meeting.topics.filter(status__in=ON_BOARD if readable else [])
        .select_related("department")
        .only(*AGENDA_FIELDS)
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
    focus = state.topic if readable and state.topic_id and state.topic.status in ON_BOARD else None
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
    roll = attendance_roll(meeting=meeting) if can_moderate else []
    return BoardPage(
        meeting=meeting,
        state=state,
        agenda=[t for t in topics if t.status != TopicStatus.PARKED],
        parked=[t for t in topics if t.status == TopicStatus.PARKED],
        focus=focus,
        contributions=contributions,
        links=links,
        follow_ups=follow_ups,
        can_moderate=can_moderate,
        topics_hidden=not readable,
        now=now,
        time_left=meeting_time_left(meeting, now),
        remaining=state.remaining(now) if focus else 0,
        suggested=suggested_seconds(meeting, now=now, remaining_topics=len(waiting)),
        poll_token=poll_token(meeting=meeting, user=user),
        roll=roll,
        lane=follow_up_lane(meeting=meeting) if can_moderate and lane else None,
    )


def meeting_people(*, meeting: Meeting):
    """Everyone who may speak or own a follow-up: attendees and the group's members
    (the same people as the attendance roll; the board's pickers list them from it).

    Each person carries the department they come for (`dept_code`): the one their
    attendance names, else the first they head in this group, if any.
    """
    group_id = meeting.group_id
    heads = Department.heads.through.objects.filter(department__group=group_id)
    headed = heads.filter(user=OuterRef("pk"), department__archived_at__isnull=True).order_by(
        "department__position", "department__name"
    )
    attending = Attendance.objects.filter(meeting=meeting, user=OuterRef("pk"))
    return (
        User.objects.filter(
            Q(pk__in=heads.values("user"))
            | Q(pk__in=Group.moderators.through.objects.filter(group=group_id).values("user"))
            | Q(pk__in=Group.participants.through.objects.filter(group=group_id).values("user"))
            | Q(pk__in=Attendance.objects.filter(meeting=meeting).values("user"))
        )
        .annotate(
            dept_code=Coalesce(
                Subquery(attending.values("department__code")[:1]),
                Subquery(headed.values("department__code")[:1]),
            ),
        )
        .order_by("full_name", "email")
    )


def idea_department(*, meeting: Meeting, user: User) -> Department | None:
    """The department a participant's idea is from, never asked: the one their attendance
    at this meeting names, else the first they head in the group, else none."""
    attending = (
        Attendance.objects.filter(meeting=meeting, user=user, department__archived_at__isnull=True)
        .select_related("department")
        .first()
    )
    if attending is not None and attending.department is not None:
        return attending.department
    return (
        user.headed_departments.active()
        .filter(group=meeting.group_id)
        .order_by("position", "name")
        .first()
    )


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
