"""The outbox: one row per message and recipient, the record of what must be sent.

A message is written in the same transaction as the change that causes it,
then claimed by a worker in a short transaction (status `sending` with a lease),
sent outside any transaction, and marked sent or failed. See docs/architecture.md.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tvargrupp.models import TimestampedModel, new_code


class Channel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    WEBHOOK = "webhook", _("Chat (webhook)")


class MessageStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class Priority(models.IntegerChoices):
    """Claimed in this order: a sign-in code never waits behind 300 summaries."""

    URGENT = 0, _("Urgent")
    NORMAL = 5, _("Normal")
    BULK = 9, _("Bulk")


IN_FLIGHT = [MessageStatus.PENDING, MessageStatus.SENDING]


class Message(TimestampedModel):
    code = models.CharField(_("code"), max_length=16, unique=True, default=new_code, editable=False)
    kind = models.CharField(_("kind"), max_length=64, help_text=_("A kind from outbox/kinds.py."))
    channel = models.CharField(
        _("channel"), max_length=16, choices=Channel.choices, default=Channel.EMAIL
    )
    key = models.CharField(
        _("key"),
        max_length=255,
        unique=True,
        help_text=_("What makes this message unique: the same key is never queued twice."),
    )
    about_type = models.ForeignKey(
        ContentType, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    about_id = models.PositiveBigIntegerField(null=True, blank=True)
    about = GenericForeignKey("about_type", "about_id")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="outbox_messages",
        verbose_name=_("recipient"),
    )
    address = models.CharField(_("address"), max_length=500)
    name = models.CharField(_("name"), max_length=150, blank=True)
    language = models.CharField(_("language"), max_length=8, default=settings.LANGUAGE_CODE)
    payload = models.JSONField(_("payload"), default=dict, blank=True)
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Priority.choices, default=Priority.NORMAL
    )
    status = models.CharField(
        _("status"), max_length=16, choices=MessageStatus.choices, default=MessageStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    not_before = models.DateTimeField(_("not before"), default=timezone.now)
    lease_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    claimed_by = models.CharField(_("claimed by"), max_length=200, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["priority", "not_before", "id"],
                condition=models.Q(status__in=IN_FLIGHT),
                name="outbox_message_queue",
            ),
            models.Index(fields=["about_type", "about_id", "status"], name="outbox_message_about"),
            models.Index(fields=["status", "created_at"], name="outbox_message_status"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=MessageStatus.values), name="message_status_known"
            ),
            models.CheckConstraint(
                condition=models.Q(channel__in=Channel.values), name="message_channel_known"
            ),
            models.CheckConstraint(
                condition=~models.Q(status=MessageStatus.SENT) | models.Q(sent_at__isnull=False),
                name="message_sent_has_time",
            ),
            models.CheckConstraint(
                condition=~models.Q(status=MessageStatus.SENDING)
                | models.Q(lease_until__isnull=False),
                name="message_sending_has_lease",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} → {self.address} ({self.get_status_display()})"

    @property
    def kind_label(self) -> str:
        from outbox.kinds import label

        return label(self.kind)

    @property
    def is_secret(self) -> bool:
        from outbox.kinds import is_secret

        return is_secret(self.kind)

    @property
    def display_address(self) -> str:
        """The e-mail address, or a webhook's host only: its path is a secret."""
        if self.channel == Channel.WEBHOOK:
            return urlsplit(self.address).hostname or ""
        return self.address

    @property
    def waits(self) -> bool:
        """Pending and not due yet: a back-off, the sending rate, or a PDF being made."""
        return self.status == MessageStatus.PENDING and self.not_before > timezone.now()


class Clock(models.Model):
    """One row for the installation: the sending rate shared by every worker, and wake-ups.

    `next_email_slot` is the earliest moment the next e-mail may be claimed; each
    claim moves it on by 60 / MAIL_RATE_PER_MINUTE seconds, so the rate holds
    across all workers. `wakeup_at` is the moment a worker has been asked to look
    again (a retry's back-off, the next slot), so one task waits, not one per worker.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    next_email_slot = models.DateTimeField(default=timezone.now)
    wakeup_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("outbox clock")
        verbose_name_plural = _("outbox clocks")
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="clock_single_row")]

    def __str__(self) -> str:
        return f"next e-mail slot {self.next_email_slot:%H:%M:%S}"
