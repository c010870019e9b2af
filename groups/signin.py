"""Organisation sign-in (OpenID Connect through allauth): only invited people get in.

The identity provider says who someone is; Tvärgrupp decides whether they belong.
A verified e-mail address from the provider is matched to an existing person or
to usable invitations (which are then accepted); anyone else sees a page saying
nobody has invited them, and no account is created.
"""

import logging

from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.shortcuts import render

from groups.services import invitations_accept_for_email
from tvargrupp.middleware import client_ip

security_log = logging.getLogger("tvargrupp.security")


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request, sociallogin) -> bool:
        return False

    def pre_social_login(self, request, sociallogin) -> None:
        if sociallogin.is_existing:
            return
        verified = [address.email for address in sociallogin.email_addresses if address.verified]
        data = sociallogin.account.extra_data
        claims = data.get("userinfo") or data.get("id_token") or {}
        name = str(claims.get("name") or "")[:150]
        for email in verified:
            user = invitations_accept_for_email(email=email, full_name=name)
            if user is not None:
                sociallogin.connect(request, user)
                return
        unverified = [a.email for a in sociallogin.email_addresses if not a.verified]
        security_log.warning(
            "organisation sign-in refused: not invited",
            extra={
                "email": ", ".join(verified or unverified),
                "email_verified": bool(verified),
                "client_ip": client_ip(request),
            },
        )
        response = render(
            request,
            "groups/not_invited.html",
            {"emails": verified or unverified, "verified": bool(verified)},
            status=403,
        )
        raise ImmediateHttpResponse(response)
