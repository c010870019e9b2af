import logging

from allauth.account.adapter import DefaultAccountAdapter
from django.core.exceptions import ValidationError

from tvargrupp.middleware import client_ip

security_log = logging.getLogger("tvargrupp.security")


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
