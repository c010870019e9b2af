"""Kinds of message: the one place that says how each message is made.

Every message in the outbox has a kind, and every kind is declared once, in the
`messages.py` of the app that owns it (`meetings/messages.py`,
`summaries/messages.py`, …), which the outbox imports at start-up. A kind is a
name, a label for the outbox pages, and a `render` function that turns one
outbox row into what goes on the wire:

- for e-mail, a Django `EmailMessage` (usually `EmailMultiAlternatives`), with
  its attachments: calendar files, a PDF, anything `message.attach()` takes;
- for a chat webhook, the JSON body to post (a dict) — see `webhook_card()`.

`render` runs in the worker, at sending time, in no transaction. It reads what
it needs from the database (the row's `payload` holds the ids it was queued
with), renders in `message.language`, and may keep data shared by many
messages (a PDF, a list of post-its) in `cache`, a dict that lives for one
batch. It raises `NotReady` when the message cannot be made yet (the PDF is
still being rendered): the row goes back to the queue without counting an
attempt. Any other exception fails the message with the error shown.

Adding a kind, e.g. an overdue reminder::

    # followups/messages.py
    from outbox.kinds import Kind, register

    def render_overdue(message, cache):
        follow_up = FollowUp.objects.get(pk=message.payload["follow_up"])
        with translation.override(message.language):
            ...
        return EmailMultiAlternatives(subject=..., body=..., to=[message.address])

    OVERDUE = register(Kind("followups.overdue", _("Overdue follow-up"), render_overdue))

    # and where the reminder is decided, inside the transaction that decides it:
    messages_queue(outgoing=[Outgoing(kind=OVERDUE.name, key=f"overdue:{f.pk}:{day}", ...)])

The key makes a message unique: queuing the same key twice sends it once.
`finished`, if given, is called after a batch with the messages of this kind
that reached `sent` or `failed` (to mark an invitation sent, or a summary done).
`secret` kinds (sign-in codes) have their payload wiped once sent or failed and
cannot be resent.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.utils.functional import Promise

from outbox.models import Channel, Message, Priority


class NotReady(Exception):
    """Raised by `render`: try again later, without counting an attempt."""

    def __init__(self, reason: str = "", retry_in: timedelta = timedelta(minutes=1)):
        super().__init__(reason)
        self.retry_in = retry_in


@dataclass(frozen=True)
class Kind:
    name: str
    label: str | Promise
    render: Callable[[Message, dict], Any]
    channel: str = Channel.EMAIL
    priority: int = Priority.NORMAL
    finished: Callable[[list[Message]], None] | None = None
    secret: bool = False


_KINDS: dict[str, Kind] = {}


def register(kind: Kind) -> Kind:
    existing = _KINDS.get(kind.name)
    if existing is not None and existing != kind:
        raise ImproperlyConfigured(f"The outbox kind {kind.name!r} is declared twice.")
    _KINDS[kind.name] = kind
    return kind


def get(name: str) -> Kind:
    try:
        return _KINDS[name]
    except KeyError:
        raise LookupError(f"No outbox kind {name!r}; declare it in an app's messages.py.") from None


def is_secret(name: str) -> bool:
    kind = _KINDS.get(name)
    return bool(kind and kind.secret)


def secret_names() -> list[str]:
    return [name for name, kind in _KINDS.items() if kind.secret]


def label(name: str) -> str:
    kind = _KINDS.get(name)
    return str(kind.label) if kind else name


def webhook_card(*, title: str, text: str, url: str, url_label: str, slack: bool) -> dict:
    """A short chat post with one link: Slack's format, or an Adaptive Card for Teams.

    Teams workflows ("Post to a channel when a webhook request is received") take
    a message with an Adaptive Card attachment; Slack and compatible chats take
    `text` with mrkdwn links.
    """
    if slack:
        return {"text": f"*{title}*\n{text}\n<{url}|{url_label}>"}
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "body": [
                        {"type": "TextBlock", "text": title, "weight": "Bolder", "wrap": True},
                        {"type": "TextBlock", "text": text, "wrap": True},
                    ],
                    "actions": [{"type": "Action.OpenUrl", "title": url_label, "url": url}],
                },
            }
        ],
    }
