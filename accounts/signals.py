"""Sign-in events written to the security log, each line with the request id."""

import logging

from allauth.account.signals import login_code_rejected
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from tvargrupp.middleware import client_ip

security_log = logging.getLogger("tvargrupp.security")


@receiver(user_login_failed)
def log_failed_sign_in(sender, credentials, request=None, **kwargs):
    security_log.warning(
        "sign-in failed: wrong e-mail or password",
        extra={
            "email": credentials.get("email") or credentials.get("username", ""),
            "client_ip": client_ip(request) if request is not None else None,
        },
    )


@receiver(login_code_rejected)
def log_rejected_code(sender, request, user, last_attempt, **kwargs):
    security_log.warning(
        "sign-in failed: wrong one-time code",
        extra={"user_id": user.pk, "last_attempt": last_attempt, "client_ip": client_ip(request)},
    )


@receiver(user_logged_in)
def log_sign_in(sender, request, user, **kwargs):
    security_log.info("signed in", extra={"user_id": user.pk, "client_ip": client_ip(request)})
