from dataclasses import dataclass
from datetime import timedelta

from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from accounts.models import User
from groups.access import Action, Role, group_role, groups_visible_to, groups_with_roles, require
from groups.models import Department, Group, Invitation
from groups.selectors import departments_with_heads, invitations_pending
from meetings.models import Attendance, AttendanceStatus, Meeting, Schedule


def meeting_get_for_user(*, user: User, code: str, action: Action = Action.VIEW) -> Meeting:
    """The meeting behind `code`, its group annotated with the user's role.

    The role is the person's role in the group, raised to participant for this
    meeting if they are invited to it (attendance lives here, so this is where it
    counts). Outsiders get 404, members without the right 403.
    """
    meetings = Meeting.objects.filter(code=code)
    if user.is_authenticated:
        meetings = meetings.annotate(
            user_is_invited=Exists(
                Attendance.objects.filter(meeting_id=OuterRef("pk"), user_id=user.pk)
            )
        )
    meeting = meetings.first()
    if meeting is None:
        raise Http404
    group = groups_with_roles(user).filter(pk=meeting.group_id).first()
    if group is None:
        raise Http404
    meeting.group = group
    meeting.role = group_role(user=user, group=group)
    if meeting.role == Role.OUTSIDER and getattr(meeting, "user_is_invited", False):
        meeting.role = Role.PARTICIPANT if user.is_active else Role.OUTSIDER
    require(meeting.role, action)
    return meeting


def upcoming_meetings_prefetch(to_attr: str = "upcoming_meetings") -> Prefetch:
    return Prefetch(
        "meetings",
        queryset=Meeting.objects.filter(ends_at__gte=timezone.now()).order_by("starts_at"),
        to_attr=to_attr,
    )


def group_list_for_user(*, user: User) -> QuerySet[Group]:
    """The groups on a person's home page, with their coming meetings."""
    return (
        groups_visible_to(user)
        .annotate(
            department_count=Count(
                "departments", filter=Q(departments__archived_at__isnull=True), distinct=True
            )
        )
        .prefetch_related(upcoming_meetings_prefetch())
        .order_by("name")
    )


@dataclass
class GroupPage:
    group: Group
    departments: list[Department]
    moderators: list[User]
    upcoming: list[Meeting]
    past: list[Meeting]
    invitations: list[Invitation]
    can_moderate: bool
    schedule: Schedule | None
    archived_count: int


def group_page(*, group: Group) -> GroupPage:
    """The group's overview: departments and moderators (from groups), meetings, schedule."""
    now = timezone.now()
    meetings = list(group.meetings.order_by("starts_at"))
    can_moderate = group.role >= Role.MODERATOR
    return GroupPage(
        group=group,
        departments=departments_with_heads(group=group),
        moderators=list(group.moderators.order_by("full_name")),
        upcoming=[m for m in meetings if m.ends_at >= now],
        past=[m for m in reversed(meetings) if m.ends_at < now],
        invitations=invitations_pending(group=group) if can_moderate else [],
        can_moderate=can_moderate,
        schedule=Schedule.objects.filter(group=group).first(),
        archived_count=group.departments.filter(archived_at__isnull=False).count(),
    )


def meetings_for_feed(*, user: User) -> list[Meeting]:
    """Every meeting of the person's groups (and meetings they are invited to) from
    60 days back, for the calendar feed."""
    since = timezone.now() - timedelta(days=60)
    groups = groups_visible_to(user).values("pk")
    invited = Attendance.objects.filter(user=user).values("meeting_id")
    return list(
        Meeting.objects.filter(Q(group__in=groups) | Q(pk__in=invited), starts_at__gte=since)
        .select_related("group")
        .order_by("starts_at")
    )


def attendance_roll(*, meeting: Meeting) -> list[User]:
    """Who may come to the meeting, with their answer and whether they are present.

    Everyone invited and every member of the group (moderators, participants,
    heads), so that a member who turns up unannounced can be marked present too.
    Each person carries `answer` (an `AttendanceStatus`, "invited" when they have
    no attendance yet), `present`, and the department they come for
    (`dept_short`, `dept_colour`). Coming first, then no answer, then not coming;
    by name within each. One query.
    """
    group_id = meeting.group_id
    heads = Department.heads.through.objects.filter(department__group=group_id)
    attendance = Attendance.objects.filter(meeting=meeting, user=OuterRef("pk"))
    headed = heads.filter(user=OuterRef("pk"), department__archived_at__isnull=True).order_by(
        "department__position", "department__name"
    )
    return list(
        User.objects.filter(
            Q(pk__in=heads.values("user"))
            | Q(pk__in=Group.moderators.through.objects.filter(group=group_id).values("user"))
            | Q(pk__in=Group.participants.through.objects.filter(group=group_id).values("user"))
            | Q(pk__in=Attendance.objects.filter(meeting=meeting).values("user"))
        )
        .annotate(
            answer=Coalesce(
                Subquery(attendance.values("status")[:1]), Value(AttendanceStatus.INVITED)
            ),
            present=Coalesce(
                Subquery(attendance.values("present")[:1]),
                Value(False),
                output_field=BooleanField(),
            ),
            dept_short=Coalesce(
                Subquery(attendance.values("department__short_name")[:1]),
                Subquery(headed.values("department__short_name")[:1]),
            ),
            dept_colour=Coalesce(
                Subquery(attendance.values("department__colour")[:1]),
                Subquery(headed.values("department__colour")[:1]),
            ),
            answer_rank=Case(
                When(answer=AttendanceStatus.ACCEPTED, then=Value(0)),
                When(answer=AttendanceStatus.INVITED, then=Value(1)),
                default=Value(2),
                output_field=IntegerField(),
            ),
        )
        .order_by("answer_rank", "full_name", "email")
    )
