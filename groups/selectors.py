from dataclasses import dataclass, field

from django.db.models import Count, F, OuterRef, Prefetch, Q, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from groups.access import Action, group_role, groups_visible_to, require
from groups.models import Department, Group, Invitation, MemberRole, StrategyGoal
from outbox.models import Channel, Message


def group_get_for_user(*, user: User, code: str, action: Action = Action.VIEW) -> Group:
    """The group behind `code` with `group.role` set, or 404/403 as the access rules say."""
    group = groups_visible_to(user).filter(code=code).first()
    if group is None:
        raise Http404
    group.role = group_role(user=user, group=group)
    require(group.role, action)
    return group


def departments_with_heads(*, group: Group, archived: bool = False) -> list[Department]:
    """The group's active departments (or its archived ones) in board order, with heads."""
    departments = group.departments.filter(archived_at__isnull=not archived)
    return list(
        departments.order_by("position", "name").prefetch_related(
            Prefetch("heads", queryset=User.objects.order_by("full_name", "email"))
        )
    )


def invitations_pending(*, group: Group) -> list[Invitation]:
    """Invitations nobody has used or withdrawn, newest first (expired ones included)."""
    return list(
        group.invitations.filter(accepted_at__isnull=True, revoked_at__isnull=True)
        .select_related("department", "invited_by")
        .order_by("-created_at")
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


# --- Members ---------------------------------------------------------------------


@dataclass
class Member:
    user: User
    role: str  # a MemberRole value
    departments: list[Department] = field(default_factory=list)  # headed, active first

    @property
    def role_label(self) -> str:
        return MemberRole(self.role).label

    @property
    def active_departments(self) -> list[Department]:
        return [d for d in self.departments if not d.archived]

    @property
    def archived_departments(self) -> list[Department]:
        return [d for d in self.departments if d.archived]


@dataclass
class MembersPage:
    group: Group
    members: list[Member]
    invitations: list[Invitation]
    departments: list[Department]  # active, for the forms


def group_members(*, group: Group) -> list[Member]:
    """Everyone in the group with their one role, in a fixed number of queries.

    Moderator beats head beats the IT role beats participant; a moderator may also
    head departments.
    Heading only archived departments makes a participant (see `groups.access`).
    """
    moderator_ids = set(group.moderators.values_list("pk", flat=True))
    participant_ids = set(group.participants.values_list("pk", flat=True))
    it_ids = set(group.it_members.values_list("pk", flat=True))
    headships = list(
        Department.heads.through.objects.filter(department__group=group)
        .select_related("department")
        .order_by("department__archived_at", "department__position", "department__name")
    )
    headed: dict[int, list[Department]] = {}
    for row in headships:
        headed.setdefault(row.user_id, []).append(row.department)
    ids = moderator_ids | participant_ids | it_ids | set(headed)
    members = []
    for user in User.objects.filter(pk__in=ids).order_by("full_name", "email"):
        departments = headed.get(user.pk, [])
        if user.pk in moderator_ids:
            role = MemberRole.MODERATOR
        elif any(not d.archived for d in departments):
            role = MemberRole.HEAD
        elif user.pk in it_ids:
            role = MemberRole.IT
        else:
            role = MemberRole.PARTICIPANT
        members.append(Member(user=user, role=role, departments=departments))
    return members


def members_page(*, group: Group) -> MembersPage:
    members = group_members(group=group)
    return MembersPage(
        group=group,
        members=members,
        invitations=invitations_pending(group=group),
        departments=list(group.departments.active().order_by("position", "name")),
    )


def member_get(*, group: Group, code: str) -> Member:
    """One member of the group by their code, or 404 (people outside it included)."""
    member = next((m for m in group_members(group=group) if m.user.code == code), None)
    if member is None:
        raise Http404
    return member


def invitation_refusal(*, group: Group, email: str) -> str:
    """Why `email` cannot be invited to the group now ("" if it can)."""
    return invitation_refusals(group=group, emails=[email]).get(email.strip().lower(), "")


def invitation_refusals(*, group: Group, emails: list[str]) -> dict[str, str]:
    """Why each of `emails` cannot be invited now (addresses that can are left out);
    a fixed number of queries however long the list."""
    wanted = {e.strip().lower() for e in emails}
    members = {
        m.user.email.lower(): m
        for m in group_members(group=group)
        if m.user.email.lower() in wanted
    }
    pending = {
        email.lower()
        for email in group.invitations.filter(
            accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
        ).values_list("email", flat=True)
    }
    refusals = {}
    for email in wanted:
        if email in members:
            refusals[email] = _(
                "%(email)s is already in the group (%(role)s); change the role in the list "
                "of members instead."
            ) % {"email": email, "role": members[email].role_label}
        elif email in pending:
            refusals[email] = _(
                "%(email)s has an invitation already; send it again from the list instead."
            ) % {"email": email}
    return refusals


# --- The settings page ---------------------------------------------------------------


@dataclass
class SettingsPage:
    group: Group
    departments: list[Department]
    archived: list[Department]
    chat_posts: list[Message]


def settings_page(*, group: Group) -> SettingsPage:
    departments = list(
        group.departments.annotate(
            head_count=Count("heads", filter=Q(heads__is_active=True))
        ).order_by("position", "name")
    )
    return SettingsPage(
        group=group,
        departments=[d for d in departments if not d.archived],
        archived=[d for d in departments if d.archived],
        chat_posts=chat_posts(group=group),
    )


def chat_posts(*, group: Group, limit: int = 5) -> list[Message]:
    """The group's latest posts to its chat channel, each with its state."""
    return list(
        Message.objects.filter(channel=Channel.WEBHOOK, payload__group=group.pk).order_by(
            "-created_at", "-pk"
        )[:limit]
    )


def department_get(*, group: Group, code: str) -> Department:
    department = group.departments.filter(code=code).first()
    if department is None:
        raise Http404
    return department


def administrators() -> list[User]:
    """Whom to ask for a group: the installation's active administrators."""
    return list(User.objects.filter(is_superuser=True, is_active=True).order_by("full_name"))


# --- Strategy goals -----------------------------------------------------------------


def _tag_count(relation: str):
    """How many rows of `relation` (post-its, solutions, micro-projects) carry a goal."""
    through = getattr(StrategyGoal, relation).through
    return Coalesce(
        Subquery(
            through.objects.filter(strategygoal_id=OuterRef("pk"))
            .order_by()
            .values("strategygoal_id")
            .annotate(n=Count("pk"))
            .values("n")
        ),
        0,
    )


@dataclass
class GoalsPage:
    group: Group
    goals: list[StrategyGoal]  # active, in the group's order
    archived: list[StrategyGoal]


def goals_page(*, group: Group) -> GoalsPage:
    """The group's goals, each with how many post-its (`topic_count`), solutions
    (`solution_count`) and micro-projects (`project_count`) carry it; one query."""
    goals = list(
        StrategyGoal.objects.filter(group=group)
        .annotate(
            topic_count=_tag_count("topics"),
            solution_count=_tag_count("solutions"),
            project_count=_tag_count("micro_projects"),
        )
        .order_by("position", "title")
    )
    return GoalsPage(
        group=group,
        goals=[g for g in goals if not g.archived],
        archived=sorted((g for g in goals if g.archived), key=lambda g: g.title.lower()),
    )


def goal_get(*, group: Group, code: str) -> StrategyGoal:
    goal = StrategyGoal.objects.filter(group=group, code=code).first()
    if goal is None:
        raise Http404
    return goal


def goals_offered(*, group_id: int, keep: list[StrategyGoal] = ()) -> list[StrategyGoal]:
    """The goals a form offers for tagging: the group's active goals, and the archived
    ones in `keep` (what the item already carries, so it can be kept or removed)."""
    kept = [g.pk for g in keep if g.group_id == group_id]
    return list(
        StrategyGoal.objects.filter(group_id=group_id)
        .filter(Q(archived_at__isnull=True) | Q(pk__in=kept))
        .order_by(F("archived_at").asc(nulls_first=True), "position", "title")
    )
