from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import Language
from meetings.models import Meeting
from tvargrupp.models import BoundedTextField, TimestampedModel


class SummaryStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")


class Summary(TimestampedModel):
    """The post-meeting document sent to every party."""

    meeting = models.OneToOneField(
        Meeting, on_delete=models.CASCADE, related_name="summary", verbose_name=_("meeting")
    )
    intro = BoundedTextField(_("introduction"), max_length=8000, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=SummaryStatus.choices, default=SummaryStatus.DRAFT
    )
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    extra_recipients = BoundedTextField(
        _("extra recipients"),
        max_length=8000,
        blank=True,
        help_text=_("One e-mail address per line."),
    )
    excluded = models.JSONField(_("left out"), default=list, blank=True)
    content_version = models.PositiveIntegerField(_("content version"), default=1)
    pdf = models.FileField(_("PDF"), upload_to="summaries/", blank=True)
    pdf_version = models.PositiveIntegerField(_("PDF of content version"), default=0)
    pdf_requested_version = models.PositiveIntegerField(default=0, editable=False)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("sent by"),
    )

    class Meta:
        verbose_name = _("summary")
        verbose_name_plural = _("summaries")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=SummaryStatus.values), name="summary_status_known"
            ),
        ]

    def __str__(self) -> str:
        return str(self.meeting)


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class Delivery(TimestampedModel):
    """One recipient's copy of a summary: the outbox row that says what must be sent."""

    summary = models.ForeignKey(
        Summary, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("summary")
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="deliveries",
        verbose_name=_("recipient"),
    )
    email = models.EmailField(_("e-mail address"))
    name = models.CharField(_("name"), max_length=150, blank=True)
    language = models.CharField(
        _("language"), max_length=8, choices=Language.choices, default=Language.SWEDISH
    )
    status = models.CharField(
        _("status"), max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    scheduled_at = models.DateTimeField(
        _("queued to go at"), null=True, blank=True, help_text=_("Spaced by the sending rate.")
    )
    last_error = models.TextField(_("last error"), blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["summary", "email"]
        constraints = [
            models.UniqueConstraint(fields=["summary", "email"], name="delivery_once_per_address"),
            models.CheckConstraint(
                condition=models.Q(status__in=DeliveryStatus.values), name="delivery_status_known"
            ),
            models.CheckConstraint(
                condition=~models.Q(status=DeliveryStatus.SENT) | models.Q(sent_at__isnull=False),
                name="delivery_sent_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} ({self.get_status_display()})"
