from dataclasses import dataclass

from django.db.models import Count, Prefetch, QuerySet
from django.http import Http404
from django.utils import timezone

from accounts.models import User
from groups.access import Action, Role, group_role, groups_visible_to, require
from groups.models import Department, Group, Invitation
from meetings.models import Meeting, Schedule


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
        .annotate(department_count=Count("departments", distinct=True))
        .prefetch_related(upcoming_meetings_prefetch())
        .order_by("name")
    )


def group_get_for_user(*, user: User, code: str, action: Action = Action.VIEW) -> Group:
    """The group behind `code` with `group.role` set, or 404/403 as the access rules say."""
    group = groups_visible_to(user).filter(code=code).first()
    if group is None:
        raise Http404
    group.role = group_role(user=user, group=group)
    require(group.role, action)
    return group


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


def group_page(*, group: Group) -> GroupPage:
    departments = list(
        group.departments.prefetch_related(
            Prefetch("heads", queryset=User.objects.order_by("full_name"))
        )
    )
    now = timezone.now()
    meetings = list(group.meetings.order_by("starts_at"))
    can_moderate = group.role >= Role.MODERATOR
    invitations: list[Invitation] = []
    if can_moderate:
        invitations = list(
            group.invitations.filter(accepted_at__isnull=True, expires_at__gt=now)
            .select_related("department")
            .order_by("-created_at")
        )
    return GroupPage(
        group=group,
        departments=departments,
        moderators=list(group.moderators.order_by("full_name")),
        upcoming=[m for m in meetings if m.ends_at >= now],
        past=[m for m in reversed(meetings) if m.ends_at < now],
        invitations=invitations,
        can_moderate=can_moderate,
        schedule=Schedule.objects.filter(group=group).first(),
    )


def invitation_get_usable(*, key: str) -> Invitation:
    invitation = (
        Invitation.objects.select_related("group", "department", "invited_by")
        .filter(key=key)
        .first()
    )
    if invitation is None:
        raise Http404
    return invitation
