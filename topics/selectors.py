from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied
from django.db.models import F, Prefetch, Q
from django.http import Http404
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from accounts.models import User
from groups.access import (
    Action,
    Role,
    group_role,
    groups_with_roles,
    may_work_on_it_perspective,
    require,
)
from groups.models import Department, Group
from meetings.models import Attendance, AttendanceStatus, Meeting, MeetingStatus
from meetings.selectors import meeting_get_for_user
from topics.models import (
    MICRO_PROJECT_OPEN,
    MICRO_PROJECT_TRANSITIONS,
    Change,
    Contribution,
    FollowUp,
    FollowUpChange,
    FollowUpStatus,
    ITPerspective,
    MicroProject,
    MicroProjectChange,
    MicroProjectStatus,
    Solution,
    StatusAnswer,
    Topic,
    TopicLink,
    TopicStatus,
)
from topics.services import (
    COUNTED_STATUSES,
    VISIBLE_TOPIC_STATUSES,
    Window,
    draft_is_private,
    follow_up_may_change,
    micro_project_may_change,
    submission_window,
    topic_limit,
)

BEFORE_MEETING = [MeetingStatus.PLANNED, MeetingStatus.OPEN, MeetingStatus.CANCELLED]


# --- The meeting page -------------------------------------------------------------


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
    my_attendance: Attendance | None = None
    can_answer: bool = False
    is_member: bool = False  # of the group, not only this meeting's guest
    it_perspective: "ITPerspective | None" = None
    works_on_it: bool = False  # a moderator or the group's IT role

    @property
    def it_perspective_shown(self) -> bool:
        """The published IT perspective is shown on the meeting page."""
        return self.it_perspective is not None and self.it_perspective.published

    @property
    def parked(self) -> list[Topic]:
        return [t for t in self.topics if t.status == TopicStatus.PARKED]

    @property
    def present(self) -> list[Attendance]:
        """Who took part: those the moderator marked present in the room."""
        return [a for a in self.attendances if a.present]

    @property
    def present_departments(self) -> list[Department]:
        """Departments someone was marked present for, in the group's order."""
        codes = {a.department.code for a in self.present if a.department}
        return [d for d in self.departments if d.code in codes]

    @property
    def answers(self) -> dict[str, int]:
        """How many are coming, not coming, and have not answered."""
        counts = {status: 0 for status in AttendanceStatus.values}
        for attendance in self.attendances:
            counts[attendance.status] += 1
        return counts

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
            _solutions_prefetch(),
        )
        .order_by("position", "created_at")
    )
    follow_up_qs = FollowUp.objects.select_related("owner", "owner_department", "topic")
    attendances = list(
        meeting.attendances.select_related("user", "department").order_by("user__full_name")
    )
    mine = next((a for a in attendances if user is not None and a.user_id == user.pk), None)
    return MeetingPage(
        meeting=meeting,
        topics=topics,
        departments=list(meeting.group.departments.all()),
        attendances=attendances,
        my_attendance=mine,
        # The invited, and members who were not (they joined later), answer until it ends.
        can_answer=user is not None
        and meeting.accepts_answers(timezone.now())
        and (mine is not None or Role.PARTICIPANT <= meeting.role <= Role.MODERATOR),
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
            or user.headed_departments.active().filter(group=meeting.group_id).exists()
        ),
        topics_hidden=not readable,
        is_member=meeting.role >= Role.ADMIN
        or any(
            getattr(meeting.group, name, False)
            for name in ("user_is_moderator", "user_is_head", "user_is_participant")
        ),
        it_perspective=ITPerspective.objects.filter(meeting=meeting).first(),
        works_on_it=may_work_on_it_perspective(meeting.role, meeting.group),
    )


# --- The post-it form ---------------------------------------------------------------


@dataclass
class PostitPage:
    user: User
    meeting: Meeting
    departments: list[Department]
    department: Department
    on_behalf: bool
    topics: list[Topic]
    topic: Topic | None
    window: Window
    limit: int
    can_add: bool

    @property
    def draft_in_progress(self) -> Topic | None:
        """A head's private draft the moderator (writing on the department's behalf) may
        not read: they are shown that it exists, by whom and when, and may replace it."""
        topic = self.topic
        if self.on_behalf and topic is not None and draft_is_private(topic, self.user):
            return topic
        return None


def writable_departments(*, user: User, meeting: Meeting) -> tuple[list[Department], bool]:
    """Departments the person may write post-its for, and whether on someone's behalf."""
    departments = meeting.group.departments.active().order_by("position", "name")
    if meeting.role >= Role.MODERATOR:
        return list(departments), True
    headed = list(departments.filter(heads=user))
    if not headed:
        raise PermissionDenied
    return headed, False


def postit_page(
    *, user: User, meeting: Meeting, department_code: str = "", topic_code: str = ""
) -> PostitPage:
    departments, moderating = writable_departments(user=user, meeting=meeting)
    if department_code:
        department = next((d for d in departments if d.code == department_code), None)
        if department is None:
            raise PermissionDenied
    else:
        department = departments[0] if departments else None
        if department is None:
            raise Http404
    heads_this = department.heads.filter(pk=user.pk).exists()
    topics = list(
        Topic.objects.filter(meeting=meeting, department=department, status__in=COUNTED_STATUSES)
        .select_related("author", "entered_by")
        .order_by("created_at")
    )
    if topic_code == "new":
        topic = None
    elif topic_code:
        topic = next((t for t in topics if t.code == topic_code), None)
        if topic is None:
            raise Http404
    else:
        topic = topics[0] if topics else None
    limit = topic_limit(meeting=meeting)
    window = submission_window(meeting=meeting, department=department, now=timezone.now())
    return PostitPage(
        user=user,
        meeting=meeting,
        departments=departments,
        department=department,
        on_behalf=moderating and not heads_this,
        topics=topics,
        topic=topic,
        window=window,
        limit=limit,
        can_add=window.open and len(topics) < limit,
    )


# --- Which departments are ready ------------------------------------------------------


@dataclass
class IntakeRow:
    department: Department
    submitted: list[Topic]
    drafts: list[Topic]

    @property
    def state(self) -> str:
        if self.submitted:
            return "submitted"
        return "draft" if self.drafts else "nothing"


def intake_rows(*, meeting: Meeting) -> list[IntakeRow]:
    """Per department: submitted post-its and drafts (times only; drafts stay private)."""
    departments = list(meeting.group.departments.active().prefetch_related("heads"))
    topics = Topic.objects.filter(meeting=meeting, status__in=COUNTED_STATUSES).select_related(
        "author", "entered_by"
    )
    rows = {d.pk: IntakeRow(department=d, submitted=[], drafts=[]) for d in departments}
    for topic in topics.order_by("created_at"):
        row = rows.get(topic.department_id)
        if row is None:
            continue
        (row.submitted if topic.status == TopicStatus.SUBMITTED else row.drafts).append(topic)
    return list(rows.values())


def drafts_left_behind(*, group, user: User) -> list[str]:
    """What a moderator should know before removing `user`: their unsubmitted drafts
    for meetings still ahead, which stay with the department."""
    drafts = (
        Topic.objects.filter(
            meeting__group=group,
            meeting__status__in=[MeetingStatus.PLANNED, MeetingStatus.OPEN],
            author=user,
            status=TopicStatus.DRAFT,
        )
        .select_related("meeting", "department")
        .order_by("meeting__starts_at")
    )
    return [
        _(
            "The draft post-it “%(title)s” for the meeting on %(date)s is not submitted. "
            "It stays with %(department)s, where another head or a moderator can finish "
            "and submit it."
        )
        % {
            "title": draft.title or _("(no title)"),
            "date": formats.date_format(timezone.localtime(draft.meeting.starts_at), "DATE_FORMAT"),
            "department": draft.department.name,
        }
        for draft in drafts
    ]


# --- Follow-ups ---------------------------------------------------------------------


def group_today(group: Group):
    return timezone.localdate(timezone.now(), ZoneInfo(group.time_zone))


def group_people(*, group: Group, also=None):
    """Who may own a follow-up: the group's moderators, heads and participants (and
    `also`, a current owner who may have left), by name."""
    members = (
        Q(pk__in=Department.heads.through.objects.filter(department__group=group).values("user"))
        | Q(pk__in=Group.moderators.through.objects.filter(group=group).values("user"))
        | Q(pk__in=Group.participants.through.objects.filter(group=group).values("user"))
        | Q(pk__in=Group.it_members.through.objects.filter(group=group).values("user"))
    )
    if also is not None:
        members |= Q(pk=also.pk)
    return User.objects.filter(members, is_active=True).order_by("full_name", "email")


@dataclass
class FollowUpFilters:
    status: str = FollowUpStatus.OPEN  # a status, or "" for all
    department: Department | None = None
    owner: User | None = None
    overdue: bool = False


def follow_ups_of_group(*, group: Group, filters: FollowUpFilters) -> list[FollowUp]:
    """The group's follow-ups, filtered, by due date (undated last), then age."""
    qs = FollowUp.objects.filter(meeting__group=group).select_related(
        "owner", "owner_department", "meeting", "topic__department"
    )
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.department is not None:
        qs = qs.filter(
            Q(owner_department=filters.department) | Q(topic__department=filters.department)
        )
    if filters.owner is not None:
        qs = qs.filter(owner=filters.owner)
    if filters.overdue:
        qs = qs.filter(status=FollowUpStatus.OPEN, due_date__lt=group_today(group))
    return list(qs.order_by(F("due_date").asc(nulls_last=True), "created_at"))


def follow_up_get_for_user(*, user: User, code: str) -> FollowUp:
    """The follow-up behind `code`, its group annotated with the user's role.

    Members of the group read it; its owner reads it even from outside the group
    (a meeting's guest can own one). `follow_up.can_change` says whether this
    person may change it. Anyone else: 404.
    """
    follow_up = (
        FollowUp.objects.select_related(
            "owner", "owner_department", "meeting", "topic__department", "topic__meeting"
        )
        .filter(code=code)
        .first()
    )
    if follow_up is None:
        raise Http404
    group = groups_with_roles(user).filter(pk=follow_up.meeting.group_id).first()
    if group is None:
        raise Http404
    follow_up.meeting.group = group
    role = group_role(user=user, group=group)
    follow_up.is_member = role > Role.OUTSIDER
    if role == Role.OUTSIDER and user.is_active and follow_up.owner_id == user.pk:
        role = Role.PARTICIPANT
    require(role, Action.VIEW)
    follow_up.role = role
    follow_up.can_change = follow_up_may_change(user=user, follow_up=follow_up, role=role)
    return follow_up


@dataclass
class HistoryLine:
    change: Change
    rows: list[tuple[str, str, str]]  # (field label, before, after)
    created: bool = False


def _shown_value(name: str, value: str, statuses) -> str:
    if not value:
        return "–"
    if name == "status" and value in statuses.values:
        return str(statuses(value).label)
    if name in ("due_date", "target_date"):
        try:
            return formats.date_format(date.fromisoformat(value), "DATE_FORMAT")
        except ValueError:
            return value
    return value


def history(*, changes, model, statuses) -> list[HistoryLine]:
    """The lines of a history (`changes`: a related manager of `Change` rows), newest
    first, with each field's label and its values as shown."""
    labels = {
        f.name: f.verbose_name for f in model._meta.get_fields() if hasattr(f, "verbose_name")
    }
    lines = []
    for change in changes.select_related("by").order_by("-at", "-pk"):
        if any(row.get("field") == "created" for row in change.changes):
            lines.append(HistoryLine(change=change, rows=[], created=True))
            continue
        rows = [
            (
                str(labels.get(row.get("field"), row.get("field"))),
                _shown_value(row.get("field"), row.get("old", ""), statuses),
                _shown_value(row.get("field"), row.get("new", ""), statuses),
            )
            for row in change.changes
        ]
        lines.append(HistoryLine(change=change, rows=rows))
    return lines


def follow_up_history(*, follow_up: FollowUp) -> list[HistoryLine]:
    return history(changes=follow_up.changes, model=FollowUp, statuses=FollowUpStatus)


# --- The IT perspective --------------------------------------------------------------


def _solutions_prefetch() -> Prefetch:
    return Prefetch(
        "solutions",
        queryset=Solution.objects.select_related("micro_project__owner")
        .prefetch_related("goals")
        .order_by("created_at"),
    )


@dataclass
class ITPerspectivePage:
    meeting: Meeting
    perspective: ITPerspective | None
    topics: list[Topic]
    can_write: bool
    can_publish: bool

    @property
    def published(self) -> bool:
        return self.perspective is not None and self.perspective.published


def it_perspective_page(*, meeting: Meeting) -> ITPerspectivePage:
    """The IT perspective of a meeting (`meeting` from `meeting_get_for_user`):
    moderators and the IT role always, everyone else of the meeting once published;
    to them an unpublished one does not exist (404)."""
    perspective = ITPerspective.objects.filter(meeting=meeting).first()
    works_on_it = may_work_on_it_perspective(meeting.role, meeting.group)
    if not works_on_it and (perspective is None or not perspective.published):
        raise Http404
    writable = meeting.status in (MeetingStatus.CLOSED, MeetingStatus.SUMMARY_SENT)
    topics = list(
        meeting.topics.filter(status__in=VISIBLE_TOPIC_STATUSES)
        .select_related("department")
        .prefetch_related(_solutions_prefetch())
        .order_by("position", "created_at")
    )
    return ITPerspectivePage(
        meeting=meeting,
        perspective=perspective,
        topics=topics,
        can_write=works_on_it and writable,
        can_publish=meeting.role >= Role.MODERATOR and writable,
    )


def it_perspective_document(*, meeting: Meeting) -> ITPerspectivePage:
    """The IT perspective for its PDF: every post-it with solutions, whoever reads it."""
    perspective = ITPerspective.objects.filter(meeting=meeting).first()
    topics = [
        t
        for t in meeting.topics.filter(status__in=VISIBLE_TOPIC_STATUSES)
        .select_related("department")
        .prefetch_related(_solutions_prefetch())
        .order_by("position", "created_at")
        if t.solutions.all()
    ]
    return ITPerspectivePage(
        meeting=meeting, perspective=perspective, topics=topics, can_write=False, can_publish=False
    )


def solution_get_for_user(*, user: User, code: str) -> Solution:
    """A solution with its post-it and meeting; the meeting carries the user's role.
    Only those who work on the IT perspective reach it (others: 404)."""
    solution = Solution.objects.select_related("topic__meeting", "topic__department").filter(
        code=code
    )
    solution = solution.first()
    if solution is None:
        raise Http404
    meeting = meeting_get_for_user(user=user, code=solution.topic.meeting.code)
    if not may_work_on_it_perspective(meeting.role, meeting.group):
        raise Http404
    solution.topic.meeting = meeting
    return solution


# --- Micro-projects ------------------------------------------------------------------


def _visible_micro_projects(*, role: Role, group: Group):
    """Micro-projects of published IT perspectives, or all for those who work on it."""
    qs = MicroProject.objects.all()
    if not may_work_on_it_perspective(role, group):
        qs = qs.filter(topic__meeting__it_perspective__published_at__isnull=False)
    return qs


@dataclass
class MicroProjectFilters:
    status: str = ""  # a status, "open" for every open one, or "" for all
    department: Department | None = None
    owner: User | None = None


def micro_projects_of_group(*, group: Group, filters: MicroProjectFilters) -> list[MicroProject]:
    qs = (
        _visible_micro_projects(role=group.role, group=group)
        .filter(topic__meeting__group=group)
        .select_related("owner", "topic__department", "topic__meeting")
    )
    if filters.status == "open":
        qs = qs.filter(status__in=MICRO_PROJECT_OPEN)
    elif filters.status:
        qs = qs.filter(status=filters.status)
    if filters.department is not None:
        qs = qs.filter(topic__department=filters.department)
    if filters.owner is not None:
        qs = qs.filter(owner=filters.owner)
    return list(qs.order_by(F("target_date").asc(nulls_last=True), "created_at"))


def micro_project_get_for_user(*, user: User, code: str) -> MicroProject:
    """A micro-project for its group's members (once its IT perspective is published,
    unless they work on it) and its owner; `can_change` says who may change it."""
    project = (
        MicroProject.objects.select_related(
            "owner", "solution", "topic__department", "topic__meeting"
        )
        .filter(code=code)
        .first()
    )
    if project is None:
        raise Http404
    meeting = project.topic.meeting
    group = groups_with_roles(user).filter(pk=meeting.group_id).first()
    if group is None:
        raise Http404
    role = group_role(user=user, group=group)
    project.is_member = role > Role.OUTSIDER
    owner = user.is_active and project.owner_id == user.pk
    if role == Role.OUTSIDER and owner:
        role = Role.PARTICIPANT
    require(role, Action.VIEW)
    if (
        not owner
        and not _visible_micro_projects(role=role, group=group).filter(pk=project.pk).exists()
    ):
        raise Http404
    meeting.group = group
    project.role = role
    project.can_change = micro_project_may_change(
        user=user, micro_project=project, role=role, group=group
    )
    return project


def micro_project_history(*, micro_project: MicroProject) -> list[HistoryLine]:
    return history(changes=micro_project.changes, model=MicroProject, statuses=MicroProjectStatus)


# --- The post-it's page and the department's page --------------------------------------


@dataclass
class TopicPage:
    topic: Topic
    micro_projects: list[MicroProject]
    can_moderate: bool


def topic_page(*, user: User, code: str) -> TopicPage:
    """One post-it with its ideas, links, follow-ups and the micro-projects born from it."""
    topic = (
        Topic.objects.filter(code=code, status__in=VISIBLE_TOPIC_STATUSES)
        .select_related("department", "author", "meeting")
        .first()
    )
    if topic is None:
        raise Http404
    meeting = meeting_get_for_user(user=user, code=topic.meeting.code)
    if (
        not topics_readable(meeting=meeting)
        and not topic.department.heads.filter(pk=user.pk).exists()
    ):
        raise Http404
    topic = (
        Topic.objects.filter(pk=topic.pk)
        .select_related("department", "author")
        .prefetch_related(
            Prefetch(
                "contributions",
                queryset=Contribution.objects.select_related("author", "department"),
            ),
            Prefetch(
                "follow_ups", queryset=FollowUp.objects.select_related("owner", "owner_department")
            ),
            *_link_prefetches(),
        )
        .get()
    )
    topic.meeting = meeting
    projects = list(
        _visible_micro_projects(role=meeting.role, group=meeting.group)
        .filter(topic=topic)
        .select_related("owner")
        .order_by("created_at")
    )
    return TopicPage(
        topic=topic, micro_projects=projects, can_moderate=meeting.role >= Role.MODERATOR
    )


@dataclass
class DepartmentPage:
    group: Group
    department: Department
    topics: list[Topic]
    follow_ups: list[FollowUp]
    micro_projects: list[MicroProject]


def department_page(*, group: Group, code: str) -> DepartmentPage:
    """A department over time, newest first: its post-its (as the meeting page would show
    them to this person), the follow-ups it owns or that came from its post-its, and the
    micro-projects born from its post-its."""
    department = group.departments.filter(code=code).first()
    if department is None:
        raise Http404
    topics = Topic.objects.filter(department=department, status__in=VISIBLE_TOPIC_STATUSES)
    if group.role < Role.MODERATOR and not group.allow_read_ahead:
        topics = topics.exclude(meeting__status__in=BEFORE_MEETING)
    return DepartmentPage(
        group=group,
        department=department,
        topics=list(topics.select_related("meeting").order_by("-meeting__starts_at", "position")),
        follow_ups=list(
            FollowUp.objects.filter(
                Q(owner_department=department) | Q(topic__department=department)
            )
            .select_related("owner", "owner_department", "meeting")
            .order_by("-meeting__starts_at", "-created_at")
        ),
        micro_projects=list(
            _visible_micro_projects(role=group.role, group=group)
            .filter(topic__department=department)
            .select_related("owner", "topic__meeting")
            .order_by("-topic__meeting__starts_at", "-created_at")
        ),
    )


# --- The follow-up lane: what the next meeting opens with ---------------------------------


@dataclass
class LaneItem:
    item: FollowUp | MicroProject
    answer: StatusAnswer | None
    changes: list[Change]  # since the previous meeting, newest first

    @property
    def is_follow_up(self) -> bool:
        return isinstance(self.item, FollowUp)

    @property
    def date(self):
        return self.item.due_date if self.is_follow_up else self.item.target_date

    @property
    def changeable(self) -> bool:
        """Still open: the lane offers its next step (done, or the micro-project's next)."""
        if self.is_follow_up:
            return self.item.status == FollowUpStatus.OPEN
        return self.item.status in MICRO_PROJECT_OPEN

    @property
    def next_statuses(self) -> list[tuple[str, str]]:
        """A micro-project's next statuses short of dropping (which needs a reason: its page)."""
        allowed = MICRO_PROJECT_TRANSITIONS.get(self.item.status, set())
        return [
            (value, label)
            for value, label in MicroProjectStatus.choices
            if value in allowed and value != MicroProjectStatus.DROPPED
        ]


@dataclass
class Lane:
    """ "Uppföljning": open follow-ups and micro-projects of earlier meetings (and those
    closed since the previous one), with the owners' answers and what changed, overdue
    first; and the post-its parked at the previous meeting."""

    meeting: Meeting
    previous: Meeting | None
    items: list[LaneItem]
    parked: list[Topic]

    @property
    def empty(self) -> bool:
        return not self.items and not self.parked

    @property
    def size(self) -> int:
        return len(self.items) + len(self.parked)


def follow_up_lane(*, meeting: Meeting) -> Lane:
    """The lane of `meeting`, in a fixed number of queries. Micro-projects appear once
    their IT perspective is published: the board is on the projector for everyone."""
    previous = (
        Meeting.objects.filter(group=meeting.group_id, starts_at__lt=meeting.starts_at)
        .exclude(status=MeetingStatus.CANCELLED)
        .order_by("-starts_at")
        .first()
    )
    since = previous.starts_at if previous else meeting.starts_at
    answers = StatusAnswer.objects.filter(meeting=meeting).select_related("by")
    follow_ups = (
        FollowUp.objects.filter(
            meeting__group=meeting.group_id, meeting__starts_at__lt=meeting.starts_at
        )
        .filter(Q(status=FollowUpStatus.OPEN) | Q(closed_at__gte=since))
        .select_related("owner", "owner_department", "meeting", "topic__department")
        .prefetch_related(
            Prefetch("status_answers", queryset=answers, to_attr="lane_answers"),
            Prefetch(
                "changes",
                queryset=FollowUpChange.objects.filter(at__gte=since).order_by("-at", "-pk"),
                to_attr="lane_changes",
            ),
        )
    )
    projects = (
        MicroProject.objects.filter(
            topic__meeting__group=meeting.group_id,
            topic__meeting__starts_at__lt=meeting.starts_at,
            topic__meeting__it_perspective__published_at__isnull=False,
        )
        .filter(Q(status__in=MICRO_PROJECT_OPEN) | Q(closed_at__gte=since))
        .select_related("owner", "topic__department", "topic__meeting")
        .prefetch_related(
            Prefetch("status_answers", queryset=answers, to_attr="lane_answers"),
            Prefetch(
                "changes",
                queryset=MicroProjectChange.objects.filter(at__gte=since).order_by("-at", "-pk"),
                to_attr="lane_changes",
            ),
        )
    )
    items = [
        LaneItem(
            item=item,
            answer=item.lane_answers[0] if item.lane_answers else None,
            changes=[c for c in item.lane_changes if c.changes != [{"field": "created"}]],
        )
        for item in [*follow_ups, *projects]
    ]
    items.sort(
        key=lambda lane: (
            not lane.item.is_overdue,
            lane.item.status not in (FollowUpStatus.OPEN, *MICRO_PROJECT_OPEN),
            lane.date is None,
            lane.date or date.max,
            lane.item.created_at,
        )
    )
    parked = (
        list(
            previous.topics.filter(status=TopicStatus.PARKED)
            .select_related("department")
            .order_by("position", "created_at")
        )
        if previous
        else []
    )
    return Lane(meeting=meeting, previous=previous, items=items, parked=parked)
