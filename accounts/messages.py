"""Sign-in codes and allauth's other account e-mail, through the outbox.

allauth renders its e-mail in the request (its templates need the request);
the rendered text waits in the outbox row until a worker sends it, and is wiped
once sent or failed (`secret`): a sign-in code does not outlive its sending.
They are urgent: a code never waits behind a summary's 300 copies.
"""

from django.core.mail import EmailMultiAlternatives
from django.utils.translation import gettext_lazy as _

from outbox.kinds import Kind, register
from outbox.models import Message, Priority

LOGIN_CODE_KIND = "accounts.login_code"
ACCOUNT_EMAIL_KIND = "accounts.account_email"


def render_prerendered(message: Message, cache: dict) -> EmailMultiAlternatives:
    data = message.payload
    if not data:
        raise LookupError("the text of this e-mail is gone (sent or failed before)")
    email = EmailMultiAlternatives(
        subject=data["subject"],
        body=data["body"],
        from_email=data["from_email"],
        to=[message.address],
        headers=data.get("headers") or None,
    )
    for content, mimetype in data.get("alternatives", []):
        email.attach_alternative(content, mimetype)
    return email


LOGIN_CODE = register(
    Kind(
        name=LOGIN_CODE_KIND,
        label=_("Sign-in code"),
        render=render_prerendered,
        priority=Priority.URGENT,
        secret=True,
    )
)
ACCOUNT_EMAIL = register(
    Kind(
        name=ACCOUNT_EMAIL_KIND,
        label=_("Account e-mail"),
        render=render_prerendered,
        priority=Priority.URGENT,
        secret=True,
    )
)
