"""Who may do what: the one place every view, selector and service asks.

A person's role in a group is the strongest that applies:

- admin: a superuser of the installation, sees and changes everything;
- moderator: listed among the group's moderators;
- head: heads one of the group's active departments;
- participant: invited to the group as a participant, or heads only archived
  departments (they keep reading the group's history); a person with the
  group's IT role reads the group as a participant, and besides reads and
  writes its IT perspective (`may_work_on_it_perspective`);
- outsider: none of these, and sees nothing of the group (404, not 403).

Only the group's own memberships count here: this module sits in `groups` and
reads nothing above it. A person invited to one meeting without being a member
is that meeting's participant: `meetings.selectors.meeting_get_for_user` raises
the role for that meeting, where attendance lives.
"""

import logging
from enum import IntEnum

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from groups.models import Department, Group

security_log = logging.getLogger("tvargrupp.security")


class Role(IntEnum):
    OUTSIDER = 0
    PARTICIPANT = 1
    HEAD = 2
    MODERATOR = 3
    ADMIN = 4

    @property
    def label(self) -> str:
        return str(ROLE_LABELS[self])


ROLE_LABELS = {
    Role.OUTSIDER: _("Outsider"),
    Role.PARTICIPANT: _("Participant"),
    Role.HEAD: _("Department head"),
    Role.MODERATOR: _("Moderator"),
    Role.ADMIN: _("Administrator"),
}


class Action(IntEnum):
    """What can be asked of a group, each with the least role that may do it."""

    VIEW = Role.PARTICIPANT
    MODERATE = Role.MODERATOR


def groups_with_roles(user) -> QuerySet[Group]:
    """Groups annotated with the user's memberships, ready for `role_from_annotations`."""
    qs = Group.objects.all()
    if not user.is_authenticated:
        return qs.none()
    return qs.annotate(
        user_is_moderator=Exists(
            Group.moderators.through.objects.filter(group_id=OuterRef("pk"), user_id=user.pk)
        ),
        user_is_head=Exists(
            Department.heads.through.objects.filter(
                department__group_id=OuterRef("pk"),
                department__archived_at__isnull=True,
                user_id=user.pk,
            )
        ),
        user_is_it=Exists(
            Group.it_members.through.objects.filter(group_id=OuterRef("pk"), user_id=user.pk)
        ),
        user_is_participant=Exists(
            Group.participants.through.objects.filter(group_id=OuterRef("pk"), user_id=user.pk)
        )
        | Exists(Group.it_members.through.objects.filter(group_id=OuterRef("pk"), user_id=user.pk))
        | Exists(
            Department.heads.through.objects.filter(
                department__group_id=OuterRef("pk"), user_id=user.pk
            )
        ),
    )


def groups_visible_to(user) -> QuerySet[Group]:
    qs = groups_with_roles(user)
    if user.is_authenticated and user.is_superuser:
        return qs
    return qs.filter(Q(user_is_moderator=True) | Q(user_is_head=True) | Q(user_is_participant=True))


def role_from_annotations(user, group: Group) -> Role:
    if not user.is_authenticated or not user.is_active:
        return Role.OUTSIDER
    if user.is_superuser:
        return Role.ADMIN
    if group.user_is_moderator:
        return Role.MODERATOR
    if group.user_is_head:
        return Role.HEAD
    if group.user_is_participant:
        return Role.PARTICIPANT
    return Role.OUTSIDER


def group_role(*, user, group: Group) -> Role:
    """The user's role in a group; one query unless the group carries the annotations."""
    if hasattr(group, "user_is_moderator"):
        return role_from_annotations(user, group)
    if not user.is_authenticated:
        return Role.OUTSIDER
    annotated = groups_with_roles(user).filter(pk=group.pk).first()
    return role_from_annotations(user, annotated) if annotated else Role.OUTSIDER


def can(role: Role, action: Action) -> bool:
    return role >= action.value


def require(role: Role, action: Action) -> None:
    """Refuse: outsiders learn nothing (404), members lacking the right get 403."""
    if can(role, action):
        return
    security_log.warning(
        "access denied", extra={"role": role.name.lower(), "action": action.name.lower()}
    )
    if role == Role.OUTSIDER:
        raise Http404
    raise PermissionDenied


def may_work_on_it_perspective(role: Role, group: Group) -> bool:
    """Moderators and the group's IT role read and write the IT perspective, published
    or not. `group` carries the annotations of `groups_with_roles`."""
    return role >= Role.MODERATOR or (
        role > Role.OUTSIDER and bool(getattr(group, "user_is_it", False))
    )
