"""The summary's e-mail: one per recipient, HTML and text, with the PDF attached.

`render_summary` reads the summary and its PDF once per batch (the `cache`),
so a worker sending 300 copies reads the PDF once; the PDF's MIME part, base64
and all, is built once per summary version in each worker process and attached
as it is to every copy, so each copy encodes only its own text and HTML. Until
the PDF of the sent version exists the message is not ready and waits (it is
released the moment the render finishes). When the last copy of a summary has
gone, `summary_settle` marks the summary sent.
"""

from email import encoders
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.html import escape
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from groups.messages import card
from outbox.kinds import Kind, NotReady, register
from outbox.models import Channel, Message, Priority
from outbox.transports import FrozenPart
from summaries.models import Summary
from summaries.pdf import render_pdf
from topics.models import ITPerspective, TopicStatus
from topics.selectors import it_perspective_document
from tvargrupp.mail import header_safe

SUMMARY_KIND = "summaries.summary"
SUMMARY_POST_KIND = "summaries.chat_post"


def summary_key(*, summary: Summary, email: str) -> str:
    return f"{SUMMARY_KIND}:{summary.pk}:{email.lower()}"


def _prepared(message: Message, cache: dict) -> tuple[Summary, bytes, list[tuple[str, str]]]:
    """The summary, its PDF and its post-its, read once per batch and version."""
    summary = cache.get(("summary", message.payload["summary"]))
    if summary is None:
        summary = Summary.objects.select_related("meeting__group", "sent_by").get(
            pk=message.payload["summary"]
        )
        cache[("summary", summary.pk)] = summary
    if summary.pdf_version != summary.content_version or not summary.pdf:
        cache.pop(("summary", summary.pk))  # look again next time
        raise NotReady("the PDF is being rendered")
    key = ("summary-files", summary.pk, summary.content_version)
    if key not in cache:
        with summary.pdf.open("rb") as pdf:
            data = pdf.read()
        topics = summary.meeting.topics.filter(
            status__in=[TopicStatus.SUBMITTED, TopicStatus.DISCUSSED]
        ).select_related("department")
        listed = [
            (t.department.short_name, t.title) for t in topics.order_by("position", "created_at")
        ]
        cache[key] = (data, listed)
    data, listed = cache[key]
    return summary, data, listed


_PARTS: dict[tuple, FrozenPart] = {}  # the PDF parts this worker process has built
_PARTS_KEPT = 4  # a few summaries' parts at most, however long the process lives


def pdf_part(*, summary: Summary, pdf: bytes, filename: str) -> FrozenPart:
    """The PDF as a base64 MIME part, built once per summary version and reused.

    The same part object goes into every copy, and is written to the wire once
    (a `FrozenPart`), so each message encodes only its own text and HTML.
    """
    key = (summary.pk, summary.content_version, summary.pdf.name, filename)
    part = _PARTS.get(key)
    if part is None:
        part = FrozenPart("application", "pdf")
        part.set_payload(pdf)
        encoders.encode_base64(part)
        part.add_header("Content-Disposition", "attachment", filename=filename)
        while len(_PARTS) >= _PARTS_KEPT:
            _PARTS.pop(next(iter(_PARTS)))
        _PARTS[key] = part
    return part


def summary_bodies(*, summary: Summary, topics: list, name: str, email: str) -> tuple[str, str]:
    """The e-mail's text and HTML for one recipient, in the active language and zone."""
    context = {
        "summary": summary,
        "meeting": summary.meeting,
        "delivery": {"name": name, "email": email},
        "topics": topics,
        "url": settings.SITE_URL + reverse("summaries:pdf", args=[summary.meeting.code]),
    }
    return (
        render_to_string("summaries/email/summary.txt", context),
        render_to_string("summaries/email/summary.html", context),
    )


# Stand-ins for a recipient's name and address: private-use characters, which no
# name contains and escaping leaves as they are.
_NAME, _EMAIL = "\ue000name\ue000", "\ue000email\ue000"


def _bodies(summary: Summary, topics: list, message: Message, cache: dict) -> tuple[str, str]:
    """`summary_bodies` for this recipient, rendered once per batch, version and language.

    Everyone's text is the same but for their name (and address): the templates
    are rendered once with stand-ins, which each copy then replaces with its own,
    escaped in the HTML as the template would have escaped it. A template that
    changes the stand-in (a filter on the name) leaves a trace, and then every
    copy is rendered for itself.
    """
    key = (
        "summary-bodies",
        summary.pk,
        summary.content_version,
        message.language,
        bool(message.name),
    )
    if key not in cache:
        cache[key] = summary_bodies(
            summary=summary, topics=topics, name=_NAME if message.name else "", email=_EMAIL
        )
    text, html = cache[key]
    text = text.replace(_NAME, message.name).replace(_EMAIL, message.address)
    html = html.replace(_NAME, escape(message.name)).replace(_EMAIL, escape(message.address))
    if "\ue000" in text or "\ue000" in html:
        return summary_bodies(
            summary=summary, topics=topics, name=message.name, email=message.address
        )
    return text, html


def render_summary(message: Message, cache: dict) -> EmailMultiAlternatives:
    summary, pdf, topics = _prepared(message, cache)
    meeting = summary.meeting
    moderator = summary.sent_by
    with translation.override(message.language), timezone.override(meeting.group.time_zone):
        date = formats.date_format(timezone.localtime(meeting.starts_at), "DATE_FORMAT")
        subject = gettext("Summary: %(group)s %(date)s") % {
            "group": meeting.group.name,
            "date": date,
        }
        text, html = _bodies(summary, topics, message, cache)
    email = EmailMultiAlternatives(
        subject=header_safe(settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + subject),
        body=text,
        to=[message.address],
        reply_to=[header_safe(moderator.email)] if moderator else [],
    )
    email.attach_alternative(html, "text/html")
    # The file name stays ISO (sortable, no spaces); the subject is written for people.
    iso = timezone.localtime(meeting.starts_at, ZoneInfo(meeting.group.time_zone)).date()
    email.attach(pdf_part(summary=summary, pdf=pdf, filename=f"sammanfattning-{iso}.pdf"))
    return email


def _settle(messages: list[Message]) -> None:
    from summaries.services import summary_settle

    for summary_id in {m.payload.get("summary") for m in messages}:
        summary_settle(summary_id=summary_id)


SUMMARY = register(
    Kind(
        name=SUMMARY_KIND,
        label=_("Summary"),
        render=render_summary,
        priority=Priority.BULK,
        finished=_settle,
    )
)


def render_summary_post(message: Message, cache: dict) -> dict:
    """The group's chat channel hears that the summary went out, with a link to it."""
    summary, _pdf, topics = _prepared(message, cache)  # waits for the PDF, as the e-mail does
    meeting = summary.meeting
    with translation.override(message.language), timezone.override(meeting.group.time_zone):
        date = formats.date_format(timezone.localtime(meeting.starts_at), "DATE_FORMAT")
        return card(
            message,
            title=gettext("Summary: %(group)s %(date)s")
            % {"group": meeting.group.name, "date": date},
            text=ngettext(
                "The summary of %(count)s post-it has been e-mailed to %(recipients)s people.",
                "The summary of %(count)s post-its has been e-mailed to %(recipients)s people.",
                len(topics),
            )
            % {"count": len(topics), "recipients": message.payload.get("recipients", 0)},
            path=meeting.get_absolute_url(),
            link_label=gettext("Open the meeting"),
        )


SUMMARY_POST = register(
    Kind(
        name=SUMMARY_POST_KIND,
        label=_("Summary, to the chat"),
        render=render_summary_post,
        channel=Channel.WEBHOOK,
    )
)


# --- The IT perspective: its own PDF, by e-mail ------------------------------------------

IT_PERSPECTIVE_KIND = "summaries.it_perspective"


def it_perspective_pdf_html(*, meeting, language: str) -> str:
    """The IT perspective as the HTML its PDF is rendered from, in `language`."""
    with translation.override(language), timezone.override(meeting.group.time_zone):
        return render_to_string(
            "summaries/it_perspective_pdf.html",
            {"page": it_perspective_document(meeting=meeting), "for_pdf": True},
        )


def render_it_perspective(message: Message, cache: dict) -> EmailMultiAlternatives:
    """The IT perspective's e-mail with its PDF, rendered through the summary's renderer
    once per batch and language (the recipients read it in their own language)."""
    perspective = cache.get(("it", message.payload["meeting"]))
    if perspective is None:
        perspective = ITPerspective.objects.select_related("meeting__group").get(
            meeting_id=message.payload["meeting"]
        )
        cache[("it", message.payload["meeting"])] = perspective
    meeting = perspective.meeting
    key = ("it-pdf", meeting.pk, message.language)
    if key not in cache:
        cache[key] = render_pdf(it_perspective_pdf_html(meeting=meeting, language=message.language))
    with translation.override(message.language), timezone.override(meeting.group.time_zone):
        date = formats.date_format(timezone.localtime(meeting.starts_at), "DATE_FORMAT")
        day = timezone.localtime(meeting.starts_at).date().isoformat()  # the file's name
        subject = gettext("IT perspective: %(group)s %(date)s") % {
            "group": meeting.group.name,
            "date": date,
        }
        context = {
            "meeting": meeting,
            "perspective": perspective,
            "delivery": {"name": message.name, "email": message.address},
            "url": settings.SITE_URL + reverse("topics:it_perspective", args=[meeting.code]),
        }
        text = render_to_string("summaries/email/it_perspective.txt", context)
        html = render_to_string("summaries/email/it_perspective.html", context)
    email = EmailMultiAlternatives(
        subject=header_safe(settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + subject),
        body=text,
        to=[message.address],
    )
    email.attach_alternative(html, "text/html")
    email.attach(f"it-perspektiv-{day}.pdf", cache[key], "application/pdf")
    return email


IT_PERSPECTIVE = register(
    Kind(
        name=IT_PERSPECTIVE_KIND,
        label=_("IT perspective"),
        render=render_it_perspective,
        priority=Priority.BULK,
    )
)
