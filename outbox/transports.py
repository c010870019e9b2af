"""Putting a rendered message on the wire: SMTP for e-mail, HTTPS for chat webhooks.

A `Transports` object lives for one drain: it opens one SMTP connection on first
use, reuses it for every e-mail of the drain, and drops it after any error (the
next message opens a fresh one). `refusal()` reads an exception as the server's
reply and says whether trying again can help.

An e-mail goes on the wire as Django would send it (`EmailMessage.message()`),
flattened to bytes by `wire_bytes`, which takes two shortcuts that change
nothing a receiver can see: each multipart gets a random boundary before it is
written (Python's generator would otherwise search every part's text for a
boundary that does not occur in it), and a part built as a `FrozenPart` (the
summary's PDF, attached to 300 copies) is written once and its bytes reused.
"""

import contextlib
import functools
import json
import re
import secrets
import smtplib
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from email.generator import BytesGenerator
from email.message import Message
from email.mime.base import MIMEBase
from email.utils import formatdate, make_msgid
from functools import partial
from io import BytesIO
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend
from django.core.mail.message import SafeMIMEText, forbid_multi_line_headers, sanitize_address
from django.core.mail.utils import DNS_NAME
from django.utils.translation import gettext as _

from outbox.models import Channel


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


class FrozenPart(MIMEBase):
    """A MIME part that many messages carry unchanged: flattened once, its bytes reused.

    Build it completely (payload, encoding, headers) before the first message
    that carries it is sent, and never change it afterwards.
    """

    def __init__(self, maintype: str, subtype: str, **params):
        super().__init__(maintype, subtype, **params)
        self.flattened: dict[str, bytes] = {}


_FOLDED: dict[tuple, bytes] = {}  # header lines as written, for headers many messages share
_FOLDED_KEPT = 2000


class _WireGenerator(BytesGenerator):
    """Python's bytes generator, writing a `FrozenPart` from its bytes once made, and a
    header line it has written before (the same name, value and policy) from its bytes."""

    _policy = _policy_key = None

    def _write_headers(self, msg):
        policy = self.policy
        if policy is not self._policy:
            self._policy, self._policy_key = policy, repr(policy)
        for name, value in msg.raw_items():
            if type(value) is not str:  # a Header object: written as Python writes it
                self._fp.write(policy.fold_binary(name, value))
                continue
            key = (name, value, self._policy_key)
            line = _FOLDED.get(key)
            if line is None:
                if len(_FOLDED) >= _FOLDED_KEPT:
                    _FOLDED.clear()
                line = _FOLDED[key] = policy.fold_binary(name, value)
            self._fp.write(line)
        self.write(self._NL)

    def flatten(self, msg, unixfrom=False, linesep=None):
        if not isinstance(msg, FrozenPart) or unixfrom:
            return super().flatten(msg, unixfrom=unixfrom, linesep=linesep)
        policy = msg.policy if self.policy is None else self.policy
        if linesep is not None:
            policy = policy.clone(linesep=linesep)
        key = f"{policy!r} {self._mangle_from_} {self.maxheaderlen}"
        data = msg.flattened.get(key)
        if data is None:
            buffer = BytesIO()
            BytesGenerator(buffer, self._mangle_from_, self.maxheaderlen, policy=policy).flatten(
                msg
            )
            data = msg.flattened[key] = buffer.getvalue()
        self._fp.write(data)


@functools.lru_cache(maxsize=256)
def _header(name: str, value: str, encoding: str) -> tuple[str, str]:
    """Django's check and encoding of a header, once per process for each name and value:
    a subject or a sender's name with å, ä or ö is a Python `Header` encoding each time."""
    return forbid_multi_line_headers(name, value, encoding)


_sanitized_address = functools.lru_cache(maxsize=64)(sanitize_address)


def _message(email: EmailMessage) -> Message:
    """`email.message()` as Django 5.2 makes it, with the headers shared by many
    messages (subject, sender, reply-to) encoded once per process (`_header`)."""
    encoding = email.encoding or settings.DEFAULT_CHARSET
    message = email._create_message(SafeMIMEText(email.body, email.content_subtype, encoding))
    extra = email.extra_headers
    headers = [("Subject", email.subject), ("From", extra.get("From", email.from_email))]
    for name, values in (("To", email.to), ("Cc", email.cc), ("Reply-To", email.reply_to)):
        if name in extra:
            headers.append((name, extra[name]))
        elif values:
            headers.append((name, ", ".join(str(value) for value in values)))
    names = {name.lower() for name in extra}
    if "date" not in names:
        headers.append(("Date", formatdate(localtime=settings.EMAIL_USE_LOCALTIME)))
    if "message-id" not in names:
        headers.append(("Message-ID", make_msgid(domain=DNS_NAME)))
    headers.extend(
        (name, value)
        for name, value in extra.items()
        if name.lower() not in {"from", "to", "cc", "reply-to"}
    )
    for name, value in headers:
        if name in ("Date", "Message-ID", "To"):  # one message's own: nothing to share
            name, value = forbid_multi_line_headers(name, value, encoding)
        else:
            name, value = _header(name, str(value), encoding)
        Message.__setitem__(message, name, value)  # checked and encoded just now
    return message


def wire_bytes(email: EmailMessage) -> bytes:
    """The bytes Django's SMTP backend would send for `email`, made with less work."""
    message = _message(email)
    multiparts, texts = [], []
    for part in message.walk():
        if part.get_content_maintype() == "multipart":
            if part.get_boundary() is None:
                multiparts.append(part)
        elif isinstance(payload := part.get_payload(), str):
            texts.append(payload)
    for part in multiparts:
        # RFC 2045's "=_" occurs in no base64 or quoted-printable text; searching the
        # parts' own text (not Python's, over everything written) rules out the rest.
        boundary = f"=_{secrets.token_hex(12)}"
        while any(boundary in text for text in texts):
            boundary = f"=_{secrets.token_hex(12)}"
        part.set_boundary(boundary)
    buffer = BytesIO()
    _WireGenerator(buffer, mangle_from_=False).flatten(message, linesep="\r\n")
    return buffer.getvalue()


class Transports:
    """One drain's ways out, and its one SMTP connection.

    A message is made ready for the wire in the caller's thread (`conversation`:
    for e-mail the bytes, by `wire_bytes`) and its conversation held in one
    second thread (`start`), so the drain makes the next message while the server
    takes this one. An e-mail's conversation goes as far as it can without
    delivering anything (MAIL, RCPT, DATA) and then waits for the caller's `go`:
    True delivers it (the message and its final dot), False calls it off (RSET).
    The caller waits for each conversation before it starts the next: one
    message on the wire at a time.
    """

    def __init__(self):
        self._backend = None
        self._fresh = False
        self._thread: ThreadPoolExecutor | None = None
        self._go: Future | None = None

    def conversation(self, *, channel: str, address: str, rendered) -> Callable[[Future], None]:
        """What putting `rendered` on the wire takes, with the work done here and now."""
        if channel == Channel.WEBHOOK:
            return partial(_when_told, partial(webhook_post, address, rendered))
        if self._backend is None:
            self._backend = get_connection()
        if not isinstance(self._backend, SmtpBackend):
            # Files (`make run`) and memory (tests): a backend per message,
            # so each e-mail is its own file under var/mail/.
            return partial(_when_told, partial(get_connection().send_messages, [rendered]))
        recipients = rendered.recipients()
        if not recipients:
            return lambda go: None
        encoding = rendered.encoding or settings.DEFAULT_CHARSET
        return partial(
            self._sendmail,
            _sanitized_address(rendered.from_email, encoding),
            [sanitize_address(recipient, encoding) for recipient in recipients],
            wire_bytes(rendered),
        )

    def start(self, conversation: Callable[[Future], None]) -> tuple[Future, Future]:
        """Begin the conversation in the second thread. Returns how it ends (a `Future`),
        and its `go`, which the caller must resolve: True to deliver, False not to."""
        if self._thread is None:
            self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox-send")
        self._go = Future()
        return self._thread.submit(conversation, self._go), self._go

    def _sendmail(self, sender: str, recipients: list[str], data: bytes, go: Future) -> None:
        """What `smtplib.SMTP.sendmail` does, over the drain's connection, waiting for `go`
        between the DATA command and the message itself."""
        for attempt in (1, 2):
            if self._backend.connection is None:
                self._backend.open()
                self._fresh = True
            try:
                self._envelope(self._backend.connection, sender, recipients, len(data))
            except smtplib.SMTPServerDisconnected:
                # A reused connection the server had dropped: once more, fresh.
                fresh = self._fresh
                self._close_connection()
                if fresh or attempt == 2:
                    raise
            except Exception:
                self._close_connection()
                raise
            else:
                break
        smtp = self._backend.connection
        try:
            if not go.result():
                smtp.rset()  # nothing delivered: the message is no longer ours to send
                return
            quoted = re.sub(rb"(?m)^\.", b"..", data)
            smtp.send(quoted + (b"" if quoted.endswith(b"\r\n") else b"\r\n") + b".\r\n")
            code, reply = smtp.getreply()
            if code != 250:
                raise smtplib.SMTPDataError(code, reply)
        except Exception:
            self._close_connection()
            raise
        self._fresh = False

    @staticmethod
    def _envelope(smtp: smtplib.SMTP, sender: str, recipients: list[str], size: int) -> None:
        """MAIL, RCPT and DATA, as `sendmail` sends them; nothing is delivered yet."""
        smtp.ehlo_or_helo_if_needed()
        options = [f"size={size}"] if smtp.does_esmtp and smtp.has_extn("size") else []
        code, reply = smtp.mail(sender, options)
        if code != 250:
            raise smtplib.SMTPSenderRefused(code, reply, sender)
        refused = {}
        for recipient in recipients:
            code, reply = smtp.rcpt(recipient)
            if code not in (250, 251):
                refused[recipient] = (code, reply)
            if code == 421:
                raise smtplib.SMTPRecipientsRefused(refused)
        if len(refused) == len(recipients):
            raise smtplib.SMTPRecipientsRefused(refused)
        smtp.putcmd("data")
        code, reply = smtp.getreply()
        if code != 354:
            raise smtplib.SMTPDataError(code, reply)

    def _close_connection(self) -> None:
        if isinstance(self._backend, SmtpBackend):
            with contextlib.suppress(Exception):  # closing a broken connection may fail too
                self._backend.close()

    def close(self) -> None:
        """Call off a conversation still waiting for its go, wait for it, then hang up."""
        if self._go is not None and not self._go.done():
            self._go.set_result(False)
        if self._thread is not None:
            self._thread.shutdown(wait=True)
            self._thread = None
        self._close_connection()


def _when_told(deliver: Callable[[], None], go: Future) -> None:
    """A conversation with nothing to do before its go: all of it, if told to."""
    if go.result():
        deliver()
