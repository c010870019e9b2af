from django.conf import settings
from django.urls import reverse


def signin(request) -> dict:
    """Which ways of signing in this installation offers (the sign-in pages ask)."""
    oidc_url = ""
    if settings.SIGNIN_OIDC:
        oidc_url = reverse("openid_connect_login", kwargs={"provider_id": "organisation"})
    return {
        "signin": {
            "password": settings.SIGNIN_PASSWORD,
            "email_code": settings.SIGNIN_EMAIL_CODE,
            "oidc_url": oidc_url,
            "oidc_name": settings.OIDC_NAME,
        }
    }
