from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

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
