"""Putting a rendered message on the wire: SMTP for e-mail, HTTPS for chat webhooks.

A `Transports` object lives for one batch: it opens one SMTP connection on first
use, reuses it for every e-mail of the batch, and drops it after any error (the
next message opens a fresh one). `refusal()` reads an exception as the server's
reply and says whether trying again can help.
"""

import contextlib
import json
import smtplib
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend
from django.utils.translation import gettext as _


class WebhookRefused(Exception):
    def __init__(self, status: int, body: str):
        super().__init__(f"HTTP {status} {body}".strip())
        self.status = status
        self.body = body


@dataclass(frozen=True)
class Refusal:
    permanent: bool
    reply: str


def refusal(error: BaseException) -> Refusal:
    """The server's reply to show, and whether it is final (5xx, or a bad message)."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        code, text = next(iter(error.recipients.values()), (0, b""))
        return Refusal(permanent=code >= 500, reply=_reply(code, text))
    if isinstance(error, smtplib.SMTPResponseException):
        return Refusal(
            permanent=error.smtp_code >= 500, reply=_reply(error.smtp_code, error.smtp_error)
        )
    if isinstance(error, WebhookRefused):
        transient = error.status in (408, 425, 429) or error.status >= 500
        return Refusal(permanent=not transient, reply=str(error)[:500])
    if isinstance(error, OSError):  # connection refused or dropped, timeouts, TLS
        return Refusal(permanent=False, reply=f"{type(error).__name__}: {error}"[:2000])
    return Refusal(permanent=True, reply=f"{type(error).__name__}: {error}"[:2000])


def _reply(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {' '.join(text.split())}".strip()[:2000]


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # a webhook that redirects is answered as refused, never followed


_opener = urllib.request.build_opener(_NoRedirects)


def _host_allowed(host: str) -> bool:
    host = host.lower().rstrip(".")
    for allowed in settings.WEBHOOK_ALLOWED_HOSTS:
        allowed = allowed.lower()
        if allowed == "*" or host == allowed.lstrip("."):
            return True
        if allowed.startswith(".") and host.endswith(allowed):
            return True
    return False


def validate_webhook_url(url: str) -> None:
    """Only HTTPS to the allowed chat hosts (WEBHOOK_ALLOWED_HOSTS): the server posts
    there, so an address must not reach into the organisation's own network."""
    parts = urlsplit(url)
    schemes = ("https", "http") if settings.WEBHOOK_ALLOW_HTTP else ("https",)
    if parts.scheme not in schemes:
        raise ValidationError(_("The address must start with https://."), code="scheme")
    if not parts.hostname or not _host_allowed(parts.hostname):
        raise ValidationError(
            _(
                "Only Microsoft Teams and Slack addresses are allowed here "
                "(%(hosts)s); the administrator can allow others."
            )
            % {"hosts": ", ".join(settings.WEBHOOK_ALLOWED_HOSTS)},
            code="host",
        )


def is_slack(url: str) -> bool:
    return (urlsplit(url).hostname or "").lower() == "hooks.slack.com"


def webhook_post(url: str, body: dict) -> None:
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked when the address is saved
        url,
        data=json.dumps(body, ensure_ascii=False).encode(),
        headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": "Tvargrupp"},
        method="POST",
    )
    try:
        with _opener.open(request, timeout=settings.WEBHOOK_TIMEOUT) as response:
            response.read(1024)
    except urllib.error.HTTPError as error:
        text = error.read(300).decode("utf-8", "replace") if error.fp else ""
        raise WebhookRefused(error.code, " ".join(text.split())) from None


class Transports:
    def __init__(self):
        self._smtp = None
        self._fresh = False

    def send_email(self, message: EmailMessage) -> None:
        for attempt in (1, 2):
            if self._smtp is None:
                connection = get_connection()
                if not isinstance(connection, SmtpBackend):
                    # Files (`make run`) and memory (tests): one message per call,
                    # so each e-mail is its own file under var/mail/.
                    connection.send_messages([message])
                    return
                self._smtp = connection
                self._smtp.open()
                self._fresh = True
            message.connection = self._smtp
            try:
                self._smtp.send_messages([message])
            except smtplib.SMTPServerDisconnected:
                # A reused connection the server had dropped: once more, fresh.
                fresh = self._fresh
                self.close()
                if fresh or attempt == 2:
                    raise
            except Exception:
                self.close()
                raise
            else:
                self._fresh = False
                return

    def close(self) -> None:
        if self._smtp is not None:
            with contextlib.suppress(Exception):  # closing a broken connection may fail too
                self._smtp.close()
        self._smtp = None
