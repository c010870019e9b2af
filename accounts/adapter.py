import logging
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from django.conf import settings
from django.core.exceptions import ValidationError

from accounts.messages import ACCOUNT_EMAIL_KIND, LOGIN_CODE_KIND
from accounts.models import User
from outbox.services import Outgoing, messages_queue
from tvargrupp.middleware import client_ip

security_log = logging.getLogger("tvargrupp.security")


@dataclass(frozen=True)
class Product:
    """What allauth's e-mail calls the "site": the product's name and its address.

    Without `django.contrib.sites`, allauth names the site after the request's
    host ("Hello from 127.0.0.1:8000!"); its e-mail greets with this instead."""

    name: str
    domain: str


def product() -> Product:
    return Product(name="Tvärgrupp", domain=urlsplit(settings.SITE_URL).netloc)


class AccountAdapter(DefaultAccountAdapter):
    """Tvärgrupp is invitation-only: people join through a moderator's invitation."""

    def is_open_for_signup(self, request) -> bool:
        return False

    def pre_authenticate(self, request, **credentials) -> None:
        try:
            super().pre_authenticate(request, **credentials)
        except ValidationError:
            security_log.warning(
                "sign-in refused: too many failed attempts",
                extra={"email": credentials.get("email", ""), "client_ip": client_ip(request)},
            )
            raise

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        """allauth's e-mail (sign-in codes, password resets) goes through the outbox.

        allauth renders it here, in the request, as it always does; the outbox
        then sends it, retries it and shows it, like every other message.
        """
        request = allauth_context.request  # as allauth's own send_mail builds it
        context = {
            "request": request,
            "email": email,
            "current_site": product(),
            **context,
        }
        message = self.render_mail(template_prefix, email, context)
        kind = LOGIN_CODE_KIND if template_prefix.endswith("login_code") else ACCOUNT_EMAIL_KIND
        user = User.objects.filter(email__iexact=email).first()
        messages_queue(
            outgoing=[
                Outgoing(
                    kind=kind,
                    key=f"{kind}:{secrets.token_urlsafe(16)}",
                    address=email,
                    name=user.full_name if user else "",
                    language=user.language if user else "",
                    recipient=user,
                    payload={
                        "subject": message.subject,
                        "body": message.body,
                        "from_email": message.from_email,
                        "headers": dict(message.extra_headers),
                        "alternatives": [
                            [content, mimetype]
                            for content, mimetype in getattr(message, "alternatives", [])
                        ],
                    },
                )
            ]
        )
