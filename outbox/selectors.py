"""Reads of the outbox: the pages' lists and counts, the estimated finish, the backlog."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from outbox.models import IN_FLIGHT, Channel, Clock, Message, MessageStatus
from outbox.services import STUCK_AFTER

PER_PAGE = 100
STATUS_ORDER = [
    MessageStatus.FAILED,
    MessageStatus.SENDING,
    MessageStatus.PENDING,
    MessageStatus.SENT,
]


def messages_about(obj: models.Model) -> QuerySet[Message]:
    """The messages queued about one object (a meeting, a group)."""
    return Message.objects.filter(
        about_type=ContentType.objects.get_for_model(type(obj)), about_id=obj.pk
    )


def messages_about_any(objects: QuerySet) -> QuerySet[Message]:
    """The messages queued about any of `objects` (a queryset of one model)."""
    return Message.objects.filter(
        about_type=ContentType.objects.get_for_model(objects.model),
        about_id__in=objects.values("pk"),
    )


def _stuck(now: datetime) -> Q:
    return Q(status=MessageStatus.PENDING, not_before__lt=now - STUCK_AFTER) | Q(
        status=MessageStatus.SENDING, lease_until__lt=now
    )


@dataclass
class OutboxList:
    """One page of an outbox: its rows, the counts over the whole set, what can be done."""

    messages: list[Message]
    counts: dict[str, int]
    total: int
    stuck: int
    waiting: int  # pending and held for later (a retry's back-off, a PDF being made)
    finish: datetime | None
    status: str
    page: int
    pages: int

    @property
    def in_flight(self) -> bool:
        return bool(self.counts[MessageStatus.PENDING] or self.counts[MessageStatus.SENDING])

    @property
    def resendable(self) -> int:
        return self.counts[MessageStatus.FAILED]


def outbox_list(
    *, messages: QuerySet[Message], status: str = "", page: int = 1, now: datetime | None = None
) -> OutboxList:
    """A page of `messages` (newest first), filtered by status; counts cover the whole set.

    Two queries whatever the size (the counts, the page with its recipients), plus
    three for the estimated finish when a sending rate is set and something waits.
    """
    now = now or timezone.now()
    totals = messages.aggregate(
        **{status: Count("pk", filter=Q(status=status)) for status in MessageStatus.values},
        stuck=Count("pk", filter=_stuck(now)),
        waiting=Count("pk", filter=Q(status=MessageStatus.PENDING, not_before__gt=now)),
    )
    stuck = totals.pop("stuck")
    waiting = totals.pop("waiting")
    counts = {status: totals[status] for status in MessageStatus.values}
    if status not in MessageStatus.values:
        status = ""
    total = counts[status] if status else sum(counts.values())
    pages = max((total + PER_PAGE - 1) // PER_PAGE, 1)
    page = min(max(page, 1), pages)
    rows = messages.filter(status=status) if status else messages
    start = (page - 1) * PER_PAGE
    listed = list(
        rows.select_related("recipient").order_by("-created_at", "-pk")[start : start + PER_PAGE]
    )
    finish = None
    if counts[MessageStatus.PENDING] or counts[MessageStatus.SENDING]:
        finish = estimated_finish(messages=messages, now=now)
    return OutboxList(
        messages=listed,
        counts=counts,
        total=total,
        stuck=stuck,
        waiting=waiting,
        finish=finish,
        status=status,
        page=page,
        pages=pages,
    )


def estimated_finish(*, messages: QuerySet[Message], now: datetime) -> datetime | None:
    """When the last e-mail of `messages` still on its way should have gone, at the set rate.

    The rate is the installation's, shared by every message: the last of these
    goes after everything queued before it, one slot each from the next free slot.
    """
    rate = settings.MAIL_RATE_PER_MINUTE
    if not rate:
        return None
    last = (
        messages.filter(status__in=IN_FLIGHT, channel=Channel.EMAIL)
        .order_by("-priority", "-not_before", "-pk")
        .values("priority", "not_before", "pk")
        .first()
    )
    if last is None:
        return None
    ahead = (
        Message.objects.filter(status__in=IN_FLIGHT, channel=Channel.EMAIL)
        .filter(
            Q(priority__lt=last["priority"])
            | Q(priority=last["priority"], not_before__lt=last["not_before"])
            | Q(priority=last["priority"], not_before=last["not_before"], pk__lte=last["pk"])
        )
        .count()
    )
    next_slot = Clock.objects.filter(pk=1).values_list("next_email_slot", flat=True).first()
    start = max(now, next_slot or now)
    return max(start + timedelta(minutes=max(ahead - 1, 0) / rate), last["not_before"])


@dataclass(frozen=True)
class Backlog:
    pending: int
    sending: int
    stuck: int
    failed_last_day: int
    oldest_due: datetime | None


def outbox_backlog(*, now: datetime | None = None) -> Backlog:
    """The installation's backlog in two queries, for readiness checks and the admin page."""
    now = now or timezone.now()
    totals = Message.objects.aggregate(
        pending=Count("pk", filter=Q(status=MessageStatus.PENDING)),
        sending=Count("pk", filter=Q(status=MessageStatus.SENDING)),
        stuck=Count("pk", filter=_stuck(now)),
        failed_last_day=Count(
            "pk",
            filter=Q(status=MessageStatus.FAILED, updated_at__gte=now - timedelta(days=1)),
        ),
    )
    oldest = (
        Message.objects.filter(status=MessageStatus.PENDING, not_before__lte=now)
        .order_by("not_before")
        .values_list("not_before", flat=True)
        .first()
    )
    return Backlog(oldest_due=oldest, **totals)
