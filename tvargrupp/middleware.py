"""Cross-cutting middleware: headers every response gets, and the request log."""

import logging
import time

from django.contrib.auth import SESSION_KEY
from django.core.exceptions import ImproperlyConfigured
from django.utils.cache import patch_cache_control

request_logger = logging.getLogger("tvargrupp.request")

# No page of Tvärgrupp uses any of these browser features; a page that is ever
# injected with foreign script gets none of them either.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "publickey-credentials-get",
        "screen-wake-lock",
        "usb",
        "xr-spatial-tracking",
    )
)


class PermissionsPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response


class PrivateResponsesMiddleware:
    """Nothing shown to a signed-in person is kept by a browser's or a proxy's cache.

    Decided from the session itself (already loaded when the response depends on
    who asks), so a view that never touches the session, like the board's
    one-query poll, costs no extra query.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is not None and session.accessed and SESSION_KEY in session:
            patch_cache_control(response, private=True, no_store=True)  # drops "public"
        return response


def client_ip(request) -> str | None:
    """The client's address, read as allauth's sign-in limits read it (TRUSTED_PROXY_COUNT)."""
    from allauth.core.internal.httpkit import get_client_ip

    try:
        return get_client_ip(request)
    except ImproperlyConfigured:  # fewer X-Forwarded-For entries than trusted proxies
        return None


class RequestLogMiddleware:
    """One log line per request: method, path, status, time taken, client and person.

    Health checks and the board's "nothing changed" answers (204, once a second per
    open screen) are left out; everything else, refusals included, is logged.
    """

    QUIET_PATHS = ("/healthz", "/readyz")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.monotonic()
        response = self.get_response(request)
        if response.status_code == 204 or request.path in self.QUIET_PATHS:
            return response
        session = getattr(request, "session", None)
        # The person, if the view looked at the session anyway: logging costs no query.
        user_id = session.get(SESSION_KEY) if session is not None and session.accessed else None
        status = response.status_code
        level = logging.WARNING if status in (401, 403, 429) else logging.INFO
        request_logger.log(
            level,
            "%s %s %s",
            request.method,
            request.path,
            status,
            extra={
                "method": request.method,
                "path": request.path,
                "status": status,
                "duration_ms": round((time.monotonic() - started) * 1000, 1),
                "client_ip": client_ip(request),
                "user_id": user_id,
            },
        )
        return response
