from django.db.models import Prefetch
from django.http import Http404
from django.utils import timezone

from accounts.models import User
from groups.access import Action, group_role, groups_visible_to, require
from groups.models import Department, Group, Invitation


def group_get_for_user(*, user: User, code: str, action: Action = Action.VIEW) -> Group:
    """The group behind `code` with `group.role` set, or 404/403 as the access rules say."""
    group = groups_visible_to(user).filter(code=code).first()
    if group is None:
        raise Http404
    group.role = group_role(user=user, group=group)
    require(group.role, action)
    return group


def departments_with_heads(*, group: Group) -> list[Department]:
    return list(
        group.departments.prefetch_related(
            Prefetch("heads", queryset=User.objects.order_by("full_name"))
        )
    )


def invitations_pending(*, group: Group) -> list[Invitation]:
    return list(
        group.invitations.filter(accepted_at__isnull=True, expires_at__gt=timezone.now())
        .select_related("department")
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
