"""Writes for summaries: closing a meeting, editing, rendering the PDF, sending it.

The database is the record of what must be sent: one `Delivery` row per
recipient. Tasks only carry row ids; each send claims its row, so a delivery is
sent once however often its task runs, and a sweeper re-enqueues rows a lost
broker forgot.
"""

import contextlib
import logging
import smtplib
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from meetings.models import Meeting, MeetingStatus
from summaries.models import Delivery, DeliveryStatus, Summary, SummaryStatus
from summaries.pdf import render_pdf
from summaries.selectors import extra_addresses, summary_document, summary_recipients
from topics.models import TopicStatus
from tvargrupp.mail import header_safe

logger = logging.getLogger(__name__)

DELIVERY_MAX_ATTEMPTS = 6
DELIVERY_STUCK_AFTER = timedelta(minutes=10)
CLOSABLE = [MeetingStatus.OPEN, MeetingStatus.LIVE]


@transaction.atomic
def meeting_close(*, meeting: Meeting) -> Summary:
    """End the meeting; its summary is assembled from the board, as a draft."""
    closed = Meeting.objects.filter(pk=meeting.pk, status__in=CLOSABLE).update(
        status=MeetingStatus.CLOSED, updated_at=timezone.now()
    )
    meeting.refresh_from_db()
    if not closed and meeting.status != MeetingStatus.CLOSED:
        raise ValidationError(_("Only an open or running meeting can be closed."))
    summary, _created = Summary.objects.get_or_create(meeting=meeting)
    return summary


def _editable(summary: Summary) -> Summary:
    summary = Summary.objects.select_for_update().select_related("meeting").get(pk=summary.pk)
    if summary.status != SummaryStatus.DRAFT:
        raise ValidationError(_("The summary has been sent and can no longer be changed."))
    return summary


@transaction.atomic
def summary_update(
    *,
    summary: Summary,
    intro: str,
    topic_summaries: dict[str, str],
    extra_recipients: str,
) -> Summary:
    summary = _editable(summary)
    _valid, invalid = extra_addresses(extra_recipients)
    if invalid:
        raise ValidationError(
            {
                "extra_recipients": _("Not an e-mail address: %(lines)s")
                % {"lines": ", ".join(invalid)}
            }
        )
    summary.intro = intro
    summary.extra_recipients = extra_recipients
    summary.content_version = F("content_version") + 1
    summary.full_clean(exclude=["content_version"])
    summary.save()
    for topic in summary.meeting.topics.filter(code__in=topic_summaries):
        text = topic_summaries[topic.code]
        if topic.summary != text:
            topic.summary = text
            topic.full_clean()
            topic.save(update_fields=["summary", "updated_at"])
    summary.refresh_from_db()
    return summary


@transaction.atomic
def summary_set_recipient(*, summary: Summary, email: str, include: bool) -> Summary:
    summary = _editable(summary)
    excluded = {e.lower() for e in summary.excluded}
    (excluded.discard if include else excluded.add)(email.lower())
    summary.excluded = sorted(excluded)
    summary.save(update_fields=["excluded", "updated_at"])
    return summary


def summary_pdf_html(*, summary: Summary) -> str:
    """The HTML the PDF is rendered from; the preview shows exactly this."""
    meeting = summary.meeting
    with timezone.override(meeting.group.time_zone):
        return render_to_string(
            "summaries/pdf.html",
            {"summary": summary, "page": summary_document(meeting=meeting), "for_pdf": True},
        )


def summary_render(*, summary_id: int) -> bool:
    """Render the PDF for the summary's current content, once. True if rendered now."""
    summary = Summary.objects.select_related("meeting__group").filter(pk=summary_id).first()
    if summary is None or summary.pdf_version == summary.content_version:
        return False
    version = summary.content_version
    with translation.override(settings.LANGUAGE_CODE):
        pdf = render_pdf(summary_pdf_html(summary=summary))
    name = f"tvargrupp-{summary.meeting.code}-v{version}.pdf"
    with transaction.atomic():
        locked = Summary.objects.select_for_update().get(pk=summary.pk)
        if locked.content_version != version:
            return False  # edited while rendering: the newer render will come
        locked.pdf.save(name, ContentFile(pdf), save=False)
        locked.pdf_version = version
        locked.save(update_fields=["pdf", "pdf_version", "updated_at"])
        if locked.status == SummaryStatus.SENDING:
            _enqueue_pending(locked)
    return True


def summary_request_pdf(*, summary: Summary) -> None:
    from summaries.tasks import summary_render_task

    if summary.pdf_version != summary.content_version:
        Summary.objects.filter(pk=summary.pk).update(pdf_requested_version=summary.content_version)
        transaction.on_commit(lambda: summary_render_task.delay(summary.pk))


@transaction.atomic
def summary_send(*, summary: Summary, by: User) -> list[Delivery]:
    """Freeze the summary, write one delivery per recipient, render, then send."""
    summary = _editable(summary)
    recipients = summary_recipients(summary=summary)
    if not recipients:
        raise ValidationError(_("There is nobody to send the summary to."))
    deliveries = [
        Delivery.objects.get_or_create(
            summary=summary,
            email=recipient.email,
            defaults={
                "recipient": recipient.user,
                "name": header_safe(recipient.name, 150),
                "language": recipient.language,
            },
        )[0]
        for recipient in recipients
    ]
    summary.status = SummaryStatus.SENDING
    summary.sent_by = by
    summary.save(update_fields=["status", "sent_by", "updated_at"])
    if summary.pdf_version == summary.content_version:
        _enqueue_pending(summary)
    else:
        summary_request_pdf(summary=summary)
    return deliveries


def _enqueue_pending(summary: Summary, ids: list[int] | None = None) -> int:
    """Queue pending deliveries, spaced to the installation's sending rate.

    Each row records when its turn comes (`scheduled_at`), so the sweeper knows a
    delivery waiting for its turn from one the broker lost.
    """
    from summaries.tasks import delivery_send_task

    if ids is None:
        ids = list(
            summary.deliveries.filter(status=DeliveryStatus.PENDING)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    rate = settings.MAIL_RATE_PER_MINUTE
    spacing = 60.0 / rate if rate else 0.0
    now = timezone.now()
    for index, pk in enumerate(ids):
        Delivery.objects.filter(pk=pk).update(
            scheduled_at=now + timedelta(seconds=index * spacing), updated_at=now
        )

    def enqueue():
        for index, pk in enumerate(ids):
            delivery_send_task.apply_async((pk,), countdown=index * spacing or None)

    transaction.on_commit(enqueue)
    return len(ids)


def estimated_finish(*, summary: Summary, pending: int, now: datetime) -> datetime | None:
    rate = settings.MAIL_RATE_PER_MINUTE
    if not pending or not rate:
        return None
    return now + timedelta(minutes=pending / rate)


class DeliveryRetry(Exception):
    """The SMTP server refused for now; the task retries later."""


def delivery_send(*, delivery_id: int) -> bool:
    """Send one pending delivery; True if sent now. Safe to run twice or concurrently."""
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("summary__meeting__group", "summary__sent_by")
            .filter(pk=delivery_id, status=DeliveryStatus.PENDING)
            .first()
        )
        if delivery is None:
            return False
        summary = delivery.summary
        if summary.pdf_version != summary.content_version or not summary.pdf:
            return False  # the render task enqueues it once the PDF exists
        delivery.attempts += 1
        try:
            _send(delivery_message(delivery))
        except (OSError, ValueError) as error:
            failure = error
        else:
            delivery.status = DeliveryStatus.SENT
            delivery.sent_at = timezone.now()
            delivery.last_error = ""
            delivery.save(
                update_fields=["status", "sent_at", "attempts", "last_error", "updated_at"]
            )
            _finish_if_done(summary)
            return True
        delivery.last_error = _smtp_reply(failure)
        if delivery.attempts >= DELIVERY_MAX_ATTEMPTS:
            delivery.status = DeliveryStatus.FAILED
        delivery.save(update_fields=["status", "attempts", "last_error", "updated_at"])
    if delivery.status == DeliveryStatus.FAILED:
        logger.warning("Giving up on delivery %s: %s", delivery_id, delivery.last_error)
        with transaction.atomic():
            _finish_if_done(summary)
        return False
    raise DeliveryRetry(delivery.last_error) from failure


# Each worker process keeps its SMTP connection for a while instead of opening
# one per message (about twice the throughput to a local relay).
_connection = None
_connection_opened = 0.0
_connection_key: tuple = ()
CONNECTION_MAX_AGE = 60.0


def _send(message: EmailMultiAlternatives) -> None:
    global _connection, _connection_opened, _connection_key
    key = (settings.EMAIL_BACKEND, settings.EMAIL_HOST, settings.EMAIL_PORT)
    for attempt in (1, 2):
        if (
            _connection is None
            or _connection_key != key
            or time.monotonic() - _connection_opened > CONNECTION_MAX_AGE
        ):
            _close_connection()
            _connection = get_connection()
            _connection.open()
            _connection_opened = time.monotonic()
            _connection_key = key
        try:
            _connection.send_messages([message])
            return
        except smtplib.SMTPServerDisconnected:
            _close_connection()  # the server dropped an idle connection: once more, fresh
            if attempt == 2:
                raise
        except Exception:
            _close_connection()
            raise


def _close_connection() -> None:
    global _connection
    if _connection is not None:
        with contextlib.suppress(Exception):  # closing a broken connection may fail too
            _connection.close()
    _connection = None


def _smtp_reply(error: Exception) -> str:
    code = getattr(error, "smtp_code", None)
    message = getattr(error, "smtp_error", b"")
    if isinstance(message, bytes):
        message = message.decode("utf-8", "replace")
    text = f"{code} {message}".strip() if code else f"{type(error).__name__}: {error}"
    return text[:2000]


def _finish_if_done(summary: Summary) -> None:
    """Mark the summary sent once no delivery is pending.

    The summary row is locked first, so the last two deliveries finishing at the
    same moment cannot each see the other as still pending.
    """
    Summary.objects.select_for_update().filter(pk=summary.pk).first()
    if summary.deliveries.filter(status=DeliveryStatus.PENDING).exists():
        return
    updated = Summary.objects.filter(pk=summary.pk, status=SummaryStatus.SENDING).update(
        status=SummaryStatus.SENT, sent_at=timezone.now(), updated_at=timezone.now()
    )
    if updated:
        Meeting.objects.filter(pk=summary.meeting_id, status=MeetingStatus.CLOSED).update(
            status=MeetingStatus.SUMMARY_SENT
        )


@transaction.atomic
def deliveries_resend(*, summary: Summary, delivery_ids: list[int] | None = None) -> int:
    """Put failed deliveries (all, or the given ones) back in the queue."""
    failed = summary.deliveries.filter(status=DeliveryStatus.FAILED)
    if delivery_ids is not None:
        failed = failed.filter(pk__in=delivery_ids)
    count = failed.update(status=DeliveryStatus.PENDING, attempts=0, updated_at=timezone.now())
    if count:
        Summary.objects.filter(pk=summary.pk).update(status=SummaryStatus.SENDING)
        summary.refresh_from_db()
        _enqueue_pending(summary)
    return count


def deliveries_sweep(*, now: datetime) -> int:
    """Re-enqueue what a lost broker forgot: due deliveries, renders, and finish summaries.

    A delivery counts as lost once it has been pending for DELIVERY_STUCK_AFTER past
    its turn; they are queued again at the sending rate.
    """
    from summaries.tasks import summary_render_task

    stale = now - DELIVERY_STUCK_AFTER
    lost = Delivery.objects.filter(
        status=DeliveryStatus.PENDING,
        updated_at__lt=stale,
        summary__pdf_version=F("summary__content_version"),
    ).filter(Q(scheduled_at__isnull=True) | Q(scheduled_at__lt=stale))
    count = 0
    for summary in Summary.objects.filter(pk__in=lost.values("summary")):
        with transaction.atomic():
            count += _enqueue_pending(
                summary,
                list(
                    lost.filter(summary=summary).order_by("pk").values_list("pk", flat=True)[:5000]
                ),
            )
    for pk in (
        Summary.objects.filter(status=SummaryStatus.SENDING, updated_at__lt=stale)
        .exclude(pdf_version=F("content_version"))
        .values_list("pk", flat=True)
    ):
        summary_render_task.delay(pk)
    for summary in Summary.objects.filter(status=SummaryStatus.SENDING).exclude(
        deliveries__status=DeliveryStatus.PENDING
    ):
        with transaction.atomic():
            _finish_if_done(summary)
    return count


def delivery_message(delivery: Delivery) -> EmailMultiAlternatives:
    summary = delivery.summary
    meeting = summary.meeting
    moderator = summary.sent_by
    with translation.override(delivery.language), timezone.override(meeting.group.time_zone):
        date = timezone.localtime(meeting.starts_at).strftime("%Y-%m-%d")
        subject = _("Summary: %(group)s %(date)s") % {"group": meeting.group.name, "date": date}
        context = {
            "summary": summary,
            "meeting": meeting,
            "delivery": delivery,
            "topics": _listed_topics(summary),
            "url": settings.SITE_URL + reverse("summaries:pdf", args=[meeting.code]),
        }
        text = render_to_string("summaries/email/summary.txt", context)
        html = render_to_string("summaries/email/summary.html", context)
    message = EmailMultiAlternatives(
        subject=header_safe(settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + subject),
        body=text,
        to=[delivery.email],
        reply_to=[header_safe(moderator.email)] if moderator else [],
    )
    message.attach_alternative(html, "text/html")
    message.attach(f"sammanfattning-{date}.pdf", _pdf_bytes(summary), "application/pdf")
    return message


# One worker process sends many copies of the same summary: the PDF and the
# list of post-its are read once per summary version, not once per e-mail.
_per_version: dict[tuple[int, int, str], object] = {}


def _cached(summary: Summary, what: str, load):
    key = (summary.pk, summary.content_version, what)
    if key not in _per_version:
        if len(_per_version) > 16:
            _per_version.clear()
        _per_version[key] = load()
    return _per_version[key]


def _pdf_bytes(summary: Summary) -> bytes:
    def load() -> bytes:
        with summary.pdf.open("rb") as pdf:
            return pdf.read()

    return _cached(summary, "pdf", load)


def _listed_topics(summary: Summary) -> list[tuple[str, str]]:
    def load():
        topics = summary.meeting.topics.filter(
            status__in=[TopicStatus.SUBMITTED, TopicStatus.DISCUSSED]
        ).select_related("department")
        return [
            (t.department.short_name, t.title) for t in topics.order_by("position", "created_at")
        ]

    return _cached(summary, "topics", load)
