from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from groups.models import Department, Group
from tvargrupp.models import TimestampedModel, new_code


class MeetingStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    OPEN = "open", _("Open for post-its")
    LIVE = "live", _("In progress")
    CLOSED = "closed", _("Closed")
    SUMMARY_SENT = "summary_sent", _("Summary sent")


class Meeting(TimestampedModel):
    """One monthly session of a group."""

    group = models.ForeignKey(
        Group, on_delete=models.CASCADE, related_name="meetings", verbose_name=_("group")
    )
    code = models.CharField(_("code"), max_length=16, unique=True, default=new_code, editable=False)
    title = models.CharField(_("title"), max_length=120, blank=True)
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    location = models.CharField(_("location"), max_length=200, blank=True)
    video_url = models.URLField(_("video link"), max_length=500, blank=True)
    submission_deadline = models.DateTimeField(_("post-it deadline"))
    status = models.CharField(
        _("status"), max_length=16, choices=MeetingStatus.choices, default=MeetingStatus.PLANNED
    )

    class Meta:
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        ordering = ["-starts_at"]
        indexes = [models.Index(fields=["group", "starts_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="meeting_ends_after_start",
            ),
            models.CheckConstraint(
                condition=models.Q(submission_deadline__lte=models.F("starts_at")),
                name="meeting_deadline_before_start",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=MeetingStatus.values), name="meeting_status_known"
            ),
        ]

    def __str__(self) -> str:
        return self.title or f"{self.group} {self.starts_at:%Y-%m-%d}"

    def get_absolute_url(self) -> str:
        return reverse("meetings:meeting_detail", kwargs={"code": self.code})

    def clean(self) -> None:
        super().clean()
        errors = {}
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            errors["ends_at"] = _("The meeting must end after it starts.")
        if (
            self.starts_at
            and self.submission_deadline
            and self.submission_deadline > self.starts_at
        ):
            errors["submission_deadline"] = _("The deadline must be before the meeting starts.")
        if errors:
            raise ValidationError(errors)


class AttendanceStatus(models.TextChoices):
    INVITED = "invited", _("Invited")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    ATTENDED = "attended", _("Attended")


class Attendance(TimestampedModel):
    meeting = models.ForeignKey(
        Meeting, on_delete=models.CASCADE, related_name="attendances", verbose_name=_("meeting")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="attendances",
        verbose_name=_("person"),
    )
    department = models.ForeignKey(
        Department,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="attendances",
        verbose_name=_("department"),
    )
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=AttendanceStatus.choices,
        default=AttendanceStatus.INVITED,
    )

    class Meta:
        verbose_name = _("attendance")
        verbose_name_plural = _("attendances")
        constraints = [
            models.UniqueConstraint(fields=["meeting", "user"], name="attendance_once_per_meeting"),
            models.CheckConstraint(
                condition=models.Q(status__in=AttendanceStatus.values),
                name="attendance_status_known",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.meeting} ({self.get_status_display()})"
