import logging

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from groups.models import Department, Group, Invitation, InvitationRole
from tvargrupp.mail import header_safe

logger = logging.getLogger(__name__)


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
    """Record an invitation and send it by e-mail once the transaction commits."""
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

    from groups.tasks import invitation_send_task

    transaction.on_commit(lambda: invitation_send_task.delay(invitation.pk))
    return invitation


def invitation_send(*, invitation: Invitation) -> bool:
    """Send the invitation e-mail unless it has been sent or used. True if sent now."""
    claimed = Invitation.objects.filter(
        pk=invitation.pk, sent_at__isnull=True, accepted_at__isnull=True
    ).update(sent_at=timezone.now())
    if not claimed:
        return False
    try:
        _invitation_message(invitation).send()
    except Exception:
        # Give the claim back so a retry can send it.
        Invitation.objects.filter(pk=invitation.pk).update(sent_at=None)
        raise
    return True


def _invitation_message(invitation: Invitation) -> EmailMultiAlternatives:
    inviter = invitation.invited_by
    context = {
        "invitation": invitation,
        "group": invitation.group,
        "inviter_name": inviter.display_name if inviter else "",
        "accept_url": settings.SITE_URL + invitation.get_absolute_url(),
    }
    with translation.override(invitation.language):
        context["role"] = invitation.get_role_display()
        subject = _("You are invited to %(group)s") % {"group": invitation.group.name}
        text = render_to_string("groups/email/invitation.txt", context)
        html = render_to_string("groups/email/invitation.html", context)
    reply_to = [header_safe(inviter.email)] if inviter else []
    message = EmailMultiAlternatives(
        subject=header_safe(settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + subject),
        body=text,
        to=[invitation.email],
        reply_to=reply_to,
    )
    message.attach_alternative(html, "text/html")
    return message


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

    if invitation.role == InvitationRole.MODERATOR:
        invitation.group.moderators.add(user)
    elif invitation.role == InvitationRole.HEAD:
        invitation.department.heads.add(user)
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
