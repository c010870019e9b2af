from datetime import date, datetime, time
from itertools import islice
from zoneinfo import ZoneInfo

from dateutil.rrule import FR, MO, MONTHLY, SA, SU, TH, TU, WE, rrule
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext_lazy as _

from groups.models import Department, Group
from tvargrupp.models import TimestampedModel, new_code


class MeetingStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    OPEN = "open", _("Open for post-its")
    LIVE = "live", _("In progress")
    CLOSED = "closed", _("Closed")
    SUMMARY_SENT = "summary_sent", _("Summary sent")
    CANCELLED = "cancelled", _("Cancelled")


# A meeting takes answers to its invitation until it ends (and while it is not cancelled).
ANSWERABLE = (MeetingStatus.PLANNED, MeetingStatus.OPEN, MeetingStatus.LIVE)


class ScheduleRule(models.TextChoices):
    NTH_WEEKDAY = "nth_weekday", _("A weekday of the month, e.g. the first Tuesday")
    DAY_OF_MONTH = "day_of_month", _("A fixed day of the month")


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class WeekOfMonth(models.IntegerChoices):
    FIRST = 1, _("first")
    SECOND = 2, _("second")
    THIRD = 3, _("third")
    FOURTH = 4, _("fourth")
    LAST = -1, _("last")


# `Weekday`'s values are Python's (Monday 0), and so are dateutil's weekdays.
WEEKDAYS = (MO, TU, WE, TH, FR, SA, SU)


class Schedule(TimestampedModel):
    """A group's monthly rhythm; the next meetings are created from it."""

    group = models.OneToOneField(
        Group, on_delete=models.CASCADE, related_name="schedule", verbose_name=_("group")
    )
    rule = models.CharField(
        _("rule"), max_length=16, choices=ScheduleRule.choices, default=ScheduleRule.NTH_WEEKDAY
    )
    week = models.SmallIntegerField(
        _("which week"), choices=WeekOfMonth.choices, default=WeekOfMonth.FIRST
    )
    weekday = models.PositiveSmallIntegerField(
        _("weekday"), choices=Weekday.choices, default=Weekday.TUESDAY
    )
    day_of_month = models.PositiveSmallIntegerField(
        _("day of the month"),
        default=1,
        help_text=_("In months that are shorter, the meeting is on the last day."),
    )
    start_time = models.TimeField(_("starts at"))
    duration_minutes = models.PositiveSmallIntegerField(_("length in minutes"), default=60)
    location = models.CharField(_("location"), max_length=200, blank=True)
    video_url = models.URLField(_("video link"), max_length=500, blank=True)
    deadline_hours_before = models.PositiveSmallIntegerField(
        _("post-it deadline, hours before the meeting"), default=48
    )
    open_days_before = models.PositiveSmallIntegerField(
        _("open for post-its, days before the meeting"), default=14
    )
    topics_per_department = models.PositiveSmallIntegerField(
        _("post-its per department"), default=1
    )
    active = models.BooleanField(_("create meetings from this schedule"), default=True)

    class Meta:
        verbose_name = _("schedule")
        verbose_name_plural = _("schedules")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(day_of_month__gte=1, day_of_month__lte=31),
                name="schedule_day_of_month_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(weekday__gte=0, weekday__lte=6), name="schedule_weekday_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(week__in=WeekOfMonth.values), name="schedule_week_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(duration_minutes__gte=5, duration_minutes__lte=720),
                name="schedule_duration_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(topics_per_department__gte=1, topics_per_department__lte=10),
                name="schedule_topic_limit_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(open_days_before__lte=60), name="schedule_open_days_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.group}: {self.describe()}"

    def describe(self) -> str:
        if self.rule == ScheduleRule.NTH_WEEKDAY:
            return _("%(week)s %(weekday)s of the month, %(time)s") % {
                "week": self.get_week_display(),
                "weekday": self.get_weekday_display().lower(),
                "time": formats.time_format(self.start_time, "TIME_FORMAT"),
            }
        return _("day %(day)s of the month, %(time)s") % {
            "day": self.day_of_month,
            "time": formats.time_format(self.start_time, "TIME_FORMAT"),
        }

    def recurrence(self, *, start: date) -> rrule:
        """The schedule's dates from `start` on, as a `dateutil.rrule`.

        "The last Friday" is `FR(-1)`; "day 31" in a shorter month falls on its last
        day: of the month's days {31, last}, the first (`bysetpos=1`)."""
        begin = datetime.combine(start, time())
        if self.rule == ScheduleRule.DAY_OF_MONTH:
            return rrule(MONTHLY, dtstart=begin, bymonthday=(self.day_of_month, -1), bysetpos=1)
        return rrule(MONTHLY, dtstart=begin, byweekday=WEEKDAYS[self.weekday](self.week))

    def date_in_month(self, year: int, month: int) -> date:
        return self.recurrence(start=date(year, month, 1))[0].date()

    def next_dates(self, *, after: datetime, count: int) -> list[date]:
        """The next `count` meeting dates whose start lies after `after`."""
        local = after.astimezone(ZoneInfo(self.group.time_zone))
        dates = (moment.date() for moment in self.recurrence(start=local.date().replace(day=1)))
        return list(islice((day for day in dates if self.starts_at(day) > after), count))

    def starts_at(self, day: date) -> datetime:
        """The wall-clock start time on `day` in the group's zone (DST-proof)."""
        return datetime.combine(day, self.start_time, tzinfo=ZoneInfo(self.group.time_zone))


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
    opens_at = models.DateTimeField(
        _("opens for post-its"),
        null=True,
        blank=True,
        help_text=_("Invitations go out then. Empty: when a moderator opens it."),
    )
    schedule_date = models.DateField(
        _("date in the schedule"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("The schedule's date this meeting was created for; kept when it is moved."),
    )
    sequence = models.PositiveIntegerField(_("calendar revision"), default=0, editable=False)

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
            models.UniqueConstraint(
                fields=["group", "schedule_date"],
                condition=models.Q(schedule_date__isnull=False),
                name="meeting_once_per_schedule_date",
            ),
        ]

    def __str__(self) -> str:
        return self.title or f"{self.group} {self.starts_at:%Y-%m-%d}"

    def get_absolute_url(self) -> str:
        # The meeting page shows the post-its, so the topics app serves it.
        return reverse("topics:meeting_detail", kwargs={"code": self.code})

    def accepts_answers(self, now: datetime) -> bool:
        """Whether invitees may still say if they come: until it ends, unless cancelled."""
        return self.status in ANSWERABLE and self.ends_at > now

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
    """A person's answer to the invitation. Who came is `Attendance.present`."""

    INVITED = "invited", _("No answer")
    ACCEPTED = "accepted", _("Coming")
    DECLINED = "declined", _("Not coming")


class Attendance(TimestampedModel):
    """One person and one meeting: their answer before it, whether they came.

    `response_version` rises with every answer; the answer links in an e-mail
    carry the version they were made for, so a link works once.
    """

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
        _("answer"),
        max_length=16,
        choices=AttendanceStatus.choices,
        default=AttendanceStatus.INVITED,
    )
    responded_at = models.DateTimeField(_("answered"), null=True, blank=True)
    response_version = models.PositiveIntegerField(_("answer revision"), default=0)
    present = models.BooleanField(_("present"), default=False)
    marked_at = models.DateTimeField(_("attendance taken"), null=True, blank=True)

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


class NoticeKind(models.TextChoices):
    """The e-mails about a meeting; each is an outbox kind (meetings/messages.py)."""

    INVITATION = "invitation", _("Invitation")
    UPDATE = "update", _("Changed meeting")
    CANCELLATION = "cancellation", _("Cancelled meeting")
    REMINDER_7 = "reminder_7", _("Reminder a week before the deadline")
    REMINDER_2 = "reminder_2", _("Reminder two days before the deadline")
    NUDGE = "nudge", _("Nudge from the moderator")
