"""Writes for groups: creating and changing a group, its departments, its members and
their invitations."""

import logging
from dataclasses import dataclass
from datetime import datetime

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import router, transaction
from django.db.models.deletion import Collector, ProtectedError
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from groups.messages import INVITATION_KIND, WEBHOOK_TEST_KIND, chat_post
from groups.models import (
    BoardColour,
    Department,
    Group,
    Invitation,
    MemberRole,
    StrategyGoal,
    invitation_expiry,
)
from groups.selectors import invitation_refusal
from groups.signals import member_removed
from outbox.services import Outgoing, messages_queue

logger = logging.getLogger(__name__)


# --- The group -------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    """Someone named in a form: an address and, if given, a name."""

    email: str
    name: str = ""


@transaction.atomic
def group_create(
    *,
    by: User,
    name: str,
    description: str = "",
    time_zone: str = "Europe/Stockholm",
    moderators: list[Person] = (),
    creator_moderates: bool = True,
    language: str = settings.LANGUAGE_CODE,
) -> Group:
    """A new Tvärgrupp. Only the installation's administrators create groups.

    The creator moderates it unless they say otherwise; everyone else named as a
    moderator is invited by e-mail (an invitation is also how a person who
    already has an account learns of the group).
    """
    if not (by.is_active and by.is_superuser):
        raise PermissionDenied
    others = [p for p in moderators if p.email.strip().lower() != by.email.lower()]
    creator_moderates = creator_moderates or len(others) < len(moderators)
    if not creator_moderates and not others:
        raise ValidationError(
            {"moderators": _("A group needs a moderator: yourself, or someone you invite.")}
        )
    group = Group(name=name.strip(), description=description.strip(), time_zone=time_zone)
    group.full_clean()
    group.save()
    if creator_moderates:
        group.moderators.add(by)
    for person in others:
        invitation_create(
            group=group,
            invited_by=by,
            email=person.email,
            full_name=person.name,
            role=MemberRole.MODERATOR,
            language=language,
        )
    return group


@transaction.atomic
def group_update(
    *,
    group: Group,
    name: str,
    description: str,
    time_zone: str,
    allow_read_ahead: bool,
    status_days_before: int | None = None,
) -> Group:
    """Rename or re-describe a group. Meetings already planned keep their times."""
    group.name = name.strip()
    group.description = description.strip()
    group.time_zone = time_zone
    group.allow_read_ahead = allow_read_ahead
    if status_days_before is not None:
        group.status_days_before = status_days_before
    group.full_clean()
    group.save()
    return group


@transaction.atomic
def group_webhook_set(*, group: Group, webhook_url: str) -> Group:
    """Set (or clear, with "") the chat channel the group's news is posted to."""
    group.webhook_url = webhook_url.strip()
    group.full_clean()
    group.save(update_fields=["webhook_url", "updated_at"])
    return group


@transaction.atomic
def group_webhook_test(*, group: Group) -> list:
    """Post a test message to the group's chat channel, through the outbox."""
    post = chat_post(
        group=group,
        kind=WEBHOOK_TEST_KIND,
        key=f"{WEBHOOK_TEST_KIND}:{group.pk}:{timezone.now().isoformat()}",
    )
    if post is None:
        raise ValidationError(_("Save the chat address first."))
    return messages_queue(outgoing=[post])


# --- Departments -------------------------------------------------------------------


def _check_colour(colour: str) -> None:
    if colour not in BoardColour.values:
        raise ValidationError({"colour": _("Choose one of the board colours.")})


@transaction.atomic
def department_create(*, group: Group, name: str, short_name: str, colour: str) -> Department:
    _check_colour(colour)
    last = group.departments.order_by("-position").values_list("position", flat=True).first()
    department = Department(
        group=group,
        name=name,
        short_name=short_name,
        colour=colour,
        position=0 if last is None else last + 1,
    )
    department.full_clean()
    department.save()
    return department


@transaction.atomic
def department_update(
    *, department: Department, name: str, short_name: str, colour: str
) -> Department:
    _check_colour(colour)
    department.name = name
    department.short_name = short_name
    department.colour = colour
    department.full_clean()
    department.save()
    return department


@transaction.atomic
def department_reorder(*, group: Group, codes: list[str]) -> list[Department]:
    """Put the group's active departments in the order of `codes`.

    Codes not given keep their relative order after the named ones; unknown codes
    are an error (the list was made for another group, or is stale).
    """
    departments = list(group.departments.active().select_for_update().order_by("position", "name"))
    by_code = {d.code: d for d in departments}
    if len(set(codes)) != len(codes) or any(code not in by_code for code in codes):
        raise ValidationError(_("The list of departments has changed; reload the page."))
    ordered = [by_code[code] for code in codes]
    ordered += [d for d in departments if d.code not in codes]
    for position, department in enumerate(ordered):
        if department.position != position:
            department.position = position
            department.save(update_fields=["position", "updated_at"])
    return ordered


def department_move(*, department: Department, offset: int) -> list[Department]:
    """One step up (-1) or down (+1) among the group's active departments."""
    codes = list(
        department.group.departments.active()
        .order_by("position", "name")
        .values_list("code", flat=True)
    )
    index = codes.index(department.code)
    target = max(0, min(len(codes) - 1, index + offset))
    codes.insert(target, codes.pop(index))
    return department_reorder(group=department.group, codes=codes)


@transaction.atomic
def department_archive(*, department: Department, now: datetime | None = None) -> Department:
    """Archived: no more invitations or post-it links; post-its and history stay."""
    if department.archived_at is None:
        department.archived_at = now or timezone.now()
        department.save(update_fields=["archived_at", "updated_at"])
        # Invitations to head it that nobody has used would make heads of an archive.
        department.invitations.filter(accepted_at__isnull=True, revoked_at__isnull=True).update(
            revoked_at=department.archived_at
        )
    return department


@transaction.atomic
def department_restore(*, department: Department) -> Department:
    if department.archived_at is not None:
        last = (
            department.group.departments.active()
            .order_by("-position")
            .values_list("position", flat=True)
            .first()
        )
        department.archived_at = None
        department.position = 0 if last is None else last + 1
        department.full_clean()
        department.save(update_fields=["archived_at", "position", "updated_at"])
    return department


def department_deletable(*, department: Department) -> bool:
    """True if deleting would lose no history: no post-it, idea, follow-up or attendance
    refers to the department (only its heads and unused invitations would go).

    Asked of Django's deletion collector, so `groups` need not know the models above it.
    """
    collector = Collector(using=router.db_for_write(Department), origin=department)
    try:
        collector.collect([department])
    except ProtectedError:
        return False
    # Rows that would lose their link to the department (SET_NULL), as querysets.
    return not any(
        objs.exists() if hasattr(objs, "exists") else bool(objs)
        for instances_list in collector.field_updates.values()
        for objs in instances_list
    )


@transaction.atomic
def department_delete(*, department: Department) -> None:
    Department.objects.select_for_update().filter(pk=department.pk).first()
    if not department_deletable(department=department):
        raise ValidationError(
            _("%(name)s has post-its or other history and cannot be deleted; archive it instead.")
            % {"name": department.name}
        )
    department.delete()


# --- Strategy goals -----------------------------------------------------------------


def _next_goal_position(group: Group) -> int:
    last = group.strategy_goals.active().order_by("-position").values_list("position", flat=True)
    last = last.first()
    return 0 if last is None else last + 1


@transaction.atomic
def goal_create(*, group: Group, title: str, description: str = "") -> StrategyGoal:
    """A new goal, last in the group's list."""
    goal = StrategyGoal(
        group=group,
        title=title.strip(),
        description=description.strip(),
        position=_next_goal_position(group),
    )
    goal.full_clean()
    goal.save()
    return goal


@transaction.atomic
def goal_update(*, goal: StrategyGoal, title: str, description: str = "") -> StrategyGoal:
    """Rename or describe a goal; its tags stay with it."""
    goal.title = title.strip()
    goal.description = description.strip()
    goal.full_clean()
    goal.save()
    return goal


@transaction.atomic
def goal_move(*, goal: StrategyGoal, offset: int) -> list[StrategyGoal]:
    """One step up (-1) or down (+1) among the group's active goals; returns them in order."""
    goals = list(
        StrategyGoal.objects.select_for_update()
        .filter(group_id=goal.group_id)
        .active()
        .order_by("position", "title")
    )
    codes = [g.code for g in goals]
    if goal.code not in codes:
        raise ValidationError(_("An archived goal has no place in the list; restore it first."))
    index = codes.index(goal.code)
    target = max(0, min(len(goals) - 1, index + offset))
    goals.insert(target, goals.pop(index))
    for position, each in enumerate(goals):
        if each.position != position:
            each.position = position
            each.save(update_fields=["position", "updated_at"])
    return goals


@transaction.atomic
def goal_archive(*, goal: StrategyGoal, now: datetime | None = None) -> StrategyGoal:
    """Archived: no longer offered for new tags; the post-its, solutions and
    micro-projects tagged with it keep the tag, and the insights still count them."""
    if goal.archived_at is None:
        goal.archived_at = now or timezone.now()
        goal.save(update_fields=["archived_at", "updated_at"])
    return goal


@transaction.atomic
def goal_restore(*, goal: StrategyGoal) -> StrategyGoal:
    """Offered again, last in the list."""
    if goal.archived_at is not None:
        goal.archived_at = None
        goal.position = _next_goal_position(goal.group)
        goal.full_clean()
        goal.save(update_fields=["archived_at", "position", "updated_at"])
    return goal


# --- Members ----------------------------------------------------------------------


def _moderator_count(group: Group) -> int:
    return group.moderators.filter(is_active=True).count()


def _check_not_last_moderator(group: Group, user: User) -> None:
    if group.moderators.filter(pk=user.pk).exists() and _moderator_count(group) <= 1:
        raise ValidationError(
            _("%(name)s is the group's only moderator. Make someone else a moderator first.")
            % {"name": user.display_name}
        )


@transaction.atomic
def member_set_role(
    *, group: Group, user: User, role: str, departments: list[Department] = ()
) -> None:
    """Give a member one role: moderator (who may also head departments), head of the
    given departments, participant, or the IT role (a participant who reads and writes
    the IT perspective). Heads move between departments this way."""
    Group.objects.select_for_update().filter(pk=group.pk).first()
    departments = list(departments)
    if role not in MemberRole.values:
        raise ValidationError({"role": _("Choose a role.")})
    if any(d.group_id != group.pk for d in departments):
        raise PermissionDenied
    if any(d.archived for d in departments):
        raise ValidationError({"departments": _("An archived department has no heads.")})
    if role == MemberRole.HEAD and not departments:
        raise ValidationError({"departments": _("Choose the departments this person heads.")})
    if role in (MemberRole.PARTICIPANT, MemberRole.IT) and departments:
        raise ValidationError(
            {"departments": _("A participant heads no department; choose the role head.")}
        )
    if role != MemberRole.MODERATOR:
        _check_not_last_moderator(group, user)
        group.moderators.remove(user)
    else:
        group.moderators.add(user)
    if role == MemberRole.PARTICIPANT:
        group.participants.add(user)
    else:
        group.participants.remove(user)
    if role == MemberRole.IT:
        group.it_members.add(user)
    else:
        group.it_members.remove(user)
    headed = Department.heads.through.objects.filter(user=user, department__group=group)
    headed.exclude(department__in=departments).delete()
    for department in departments:
        department.heads.add(user)


@transaction.atomic
def member_remove(*, group: Group, user: User) -> None:
    """Take a person out of the group. Their post-its and ideas stay, credited to them;
    the apps above hear of it (`groups.signals.member_removed`)."""
    Group.objects.select_for_update().filter(pk=group.pk).first()
    _check_not_last_moderator(group, user)
    group.moderators.remove(user)
    group.participants.remove(user)
    group.it_members.remove(user)
    Department.heads.through.objects.filter(user=user, department__group=group).delete()
    group.invitations.filter(
        email__iexact=user.email, accepted_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=timezone.now())
    member_removed.send(sender=Group, group=group, user=user)


# --- Invitations ----------------------------------------------------------------


@transaction.atomic
def invitation_create(
    *,
    group: Group,
    invited_by: User,
    email: str,
    role: str,
    full_name: str = "",
    department: Department | None = None,
    language: str = settings.LANGUAGE_CODE,
) -> Invitation:
    """Record an invitation and send it by e-mail once the transaction commits.

    Refused for a member of the group or someone with an unused invitation."""
    refusal = invitation_refusal(group=group, email=email)
    if refusal:
        raise ValidationError({"email": refusal})
    invitation = Invitation(
        group=group,
        invited_by=invited_by,
        email=email,
        role=role,
        full_name=full_name.strip(),
        department=department,
        language=language,
    )
    invitation.full_clean()
    invitation.save()
    _send_after_commit(invitation)
    return invitation


def _send_after_commit(invitation: Invitation) -> None:
    """Queue the invitation e-mail in the outbox; it goes once the transaction commits.

    The key holds the expiry, so a resend (which extends it) is a new message."""
    messages_queue(
        outgoing=[
            Outgoing(
                kind=INVITATION_KIND,
                key=f"{INVITATION_KIND}:{invitation.pk}:{invitation.expires_at.isoformat()}",
                address=invitation.email,
                name=invitation.full_name,
                language=invitation.language,
                about=invitation.group,
                payload={"invitation": invitation.pk},
            )
        ]
    )


@dataclass(frozen=True)
class InvitationLine:
    """One person of a pasted list, checked: the line it came from and what it says."""

    number: int
    email: str
    name: str = ""
    department: Department | None = None


@transaction.atomic
def invitations_create_bulk(
    *,
    group: Group,
    invited_by: User,
    role: str,
    people: list[InvitationLine],
    language: str = settings.LANGUAGE_CODE,
) -> list[Invitation]:
    """Invite everyone on a checked list, or nobody: one error undoes the whole list."""
    invitations = []
    for line in people:
        try:
            invitations.append(
                invitation_create(
                    group=group,
                    invited_by=invited_by,
                    email=line.email,
                    full_name=line.name,
                    role=role,
                    department=line.department if role == MemberRole.HEAD else None,
                    language=language,
                )
            )
        except ValidationError as error:
            raise ValidationError(
                _("Line %(number)s: %(error)s")
                % {"number": line.number, "error": " ".join(error.messages)}
            ) from error
    return invitations


@transaction.atomic
def invitation_resend(*, invitation: Invitation) -> Invitation:
    """Send a pending (or expired) invitation again, valid for another two weeks."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at is not None or invitation.revoked_at is not None:
        raise ValidationError(_("This invitation has been used or withdrawn."))
    invitation.expires_at = invitation_expiry()
    invitation.sent_at = None
    invitation.save(update_fields=["expires_at", "sent_at", "updated_at"])
    _send_after_commit(invitation)
    return invitation


@transaction.atomic
def invitation_revoke(*, invitation: Invitation) -> Invitation:
    """Withdraw an invitation: its link stops working."""
    updated = Invitation.objects.filter(
        pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=timezone.now())
    invitation.refresh_from_db()
    if not updated:
        raise ValidationError(_("This invitation has been used or withdrawn already."))
    return invitation


@transaction.atomic
def invitation_accept(*, key: str, full_name: str) -> User:
    """Use an invitation: create or find the person, name them, give them their role."""
    invitation = (
        Invitation.objects.select_for_update(of=("self",))
        .select_related("group", "department")
        .get(key=key)
    )
    if not invitation.is_usable:
        raise ValidationError(_("This invitation has already been used or has expired."))
    full_name = full_name.strip()
    user = User.objects.filter(email__iexact=invitation.email).first()
    if user is None:
        user = User(email=invitation.email, full_name=full_name, language=invitation.language)
        user.set_unusable_password()
    elif full_name:
        user.full_name = full_name
    user.full_clean()
    user.save()
    EmailAddress.objects.update_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )

    if invitation.role == MemberRole.MODERATOR:
        invitation.group.moderators.add(user)
    elif invitation.role == MemberRole.HEAD and not invitation.department.archived:
        invitation.department.heads.add(user)
    elif invitation.role == MemberRole.IT:
        invitation.group.it_members.add(user)
    else:
        invitation.group.participants.add(user)

    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by", "updated_at"])
    return user


@transaction.atomic
def invitations_accept_for_email(*, email: str, full_name: str = "") -> User | None:
    """Sign-in through the organisation: the person behind a verified address.

    Accepts every usable invitation to that address (creating the person on the
    first) and returns the person; an existing person is returned as they are.
    None when nobody has an account or a usable invitation under that address.
    """
    keys = [
        invitation.key
        for invitation in Invitation.objects.filter(email__iexact=email.strip()).order_by(
            "created_at"
        )
        if invitation.is_usable
    ]
    user = None
    for key in keys:
        user = invitation_accept(key=key, full_name=full_name)
    return user or User.objects.filter(email__iexact=email.strip(), is_active=True).first()
