from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from groups.models import Department, StrategyGoal
from meetings.models import Meeting
from tvargrupp.models import BoundedTextField, TimestampedModel, new_code

TITLE_MAX = 120
FIELD_MAX = 2000
TEXT_MAX = 4000


class TopicStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    DISCUSSED = "discussed", _("Discussed")
    PARKED = "parked", _("Parked")


# Handed in: what the other departments may read and the moderator puts on the board.
VISIBLE_TOPIC_STATUSES = [TopicStatus.SUBMITTED, TopicStatus.DISCUSSED, TopicStatus.PARKED]


class Topic(TimestampedModel):
    """A post-it: one department's challenge, brought to one meeting."""

    meeting = models.ForeignKey(
        Meeting, on_delete=models.CASCADE, related_name="topics", verbose_name=_("meeting")
    )
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="topics", verbose_name=_("department")
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="topics",
        verbose_name=_("author"),
    )
    code = models.CharField(_("code"), max_length=16, unique=True, default=new_code, editable=False)
    title = models.CharField(_("title"), max_length=TITLE_MAX)
    background = BoundedTextField(_("background"), max_length=FIELD_MAX, blank=True)
    current_state = BoundedTextField(_("how it is now"), max_length=FIELD_MAX, blank=True)
    goal = BoundedTextField(_("where we want to go"), max_length=FIELD_MAX, blank=True)
    obstacle = BoundedTextField(_("what stands in the way"), max_length=FIELD_MAX, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=TopicStatus.choices, default=TopicStatus.DRAFT
    )
    position = models.PositiveIntegerField(_("position"), default=0)
    version = models.PositiveIntegerField(_("version"), default=1)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("entered on the department's behalf by"),
    )
    notes = BoundedTextField(_("moderator's notes"), max_length=TEXT_MAX, blank=True)
    summary = BoundedTextField(_("short summary"), max_length=TEXT_MAX, blank=True)
    notes_version = models.PositiveIntegerField(_("notes version"), default=1)
    goals = models.ManyToManyField(
        StrategyGoal, blank=True, related_name="topics", verbose_name=_("strategy goals")
    )

    class Meta:
        verbose_name = _("post-it")
        verbose_name_plural = _("post-its")
        ordering = ["meeting", "position", "created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(version__gte=1), name="topic_version_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=TopicStatus.values), name="topic_status_known"
            ),
            models.CheckConstraint(
                condition=models.Q(status=TopicStatus.DRAFT) | models.Q(submitted_at__isnull=False),
                name="topic_submitted_has_time",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        super().clean()
        if (
            self.department_id
            and self.meeting_id
            and (self.department.group_id != self.meeting.group_id)
        ):
            raise ValidationError({"department": _("This department belongs to another group.")})


class SubmissionReopening(TimestampedModel):
    """A moderator lets one department edit its post-its after the deadline."""

    meeting = models.ForeignKey(
        Meeting, on_delete=models.CASCADE, related_name="reopenings", verbose_name=_("meeting")
    )
    department = models.ForeignKey(
        Department, on_delete=models.CASCADE, related_name="+", verbose_name=_("department")
    )
    until = models.DateTimeField(_("open until"))
    reopened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("reopened by"),
    )

    class Meta:
        verbose_name = _("reopened submission")
        verbose_name_plural = _("reopened submissions")
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "department"], name="reopening_once_per_department"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.department} @ {self.meeting} → {self.until}"


class ContributionKind(models.TextChoices):
    IDEA = "idea", _("Idea")
    THOUGHT = "thought", _("Thought")


class Contribution(TimestampedModel):
    """An idea or thought offered on a post-it during the meeting."""

    topic = models.ForeignKey(
        Topic, on_delete=models.CASCADE, related_name="contributions", verbose_name=_("post-it")
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="contributions",
        verbose_name=_("author"),
    )
    department = models.ForeignKey(
        Department,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="contributions",
        verbose_name=_("department"),
    )
    kind = models.CharField(
        _("kind"), max_length=16, choices=ContributionKind.choices, default=ContributionKind.IDEA
    )
    text = BoundedTextField(_("text"), max_length=TEXT_MAX)

    class Meta:
        verbose_name = _("idea or thought")
        verbose_name_plural = _("ideas and thoughts")
        ordering = ["topic", "created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=ContributionKind.values),
                name="contribution_kind_known",
            ),
        ]

    def __str__(self) -> str:
        return self.text[:60]


class LinkKind(models.TextChoices):
    SIMILAR = "similar", _("Similar challenge")
    HELPS_SOLVE = "helps_solve", _("Can help solve")
    RAISED_AGAIN = "raised_again", _("Raised again, earlier post-it")


class TopicLink(TimestampedModel):
    """A link between two post-its, also across meetings: shown on both."""

    from_topic = models.ForeignKey(
        Topic, on_delete=models.CASCADE, related_name="links_out", verbose_name=_("from post-it")
    )
    to_topic = models.ForeignKey(
        Topic, on_delete=models.CASCADE, related_name="links_in", verbose_name=_("to post-it")
    )
    kind = models.CharField(
        _("kind"), max_length=16, choices=LinkKind.choices, default=LinkKind.SIMILAR
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )

    class Meta:
        verbose_name = _("similar challenge")
        verbose_name_plural = _("similar challenges")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(from_topic=models.F("to_topic")), name="topiclink_not_to_self"
            ),
            models.UniqueConstraint(fields=["from_topic", "to_topic"], name="topiclink_unique"),
            models.CheckConstraint(
                condition=models.Q(kind__in=LinkKind.values), name="topiclink_kind_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.from_topic} ↔ {self.to_topic}"


class FollowUpStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    DROPPED = "dropped", _("Dropped")


# The follow-up's lifecycle: open → done, or dropped with a reason; a closed one can be
# reopened (a mistake is undone in the product, and the history keeps both steps).
FOLLOW_UP_TRANSITIONS = {
    FollowUpStatus.OPEN: {FollowUpStatus.DONE, FollowUpStatus.DROPPED},
    FollowUpStatus.DONE: {FollowUpStatus.OPEN},
    FollowUpStatus.DROPPED: {FollowUpStatus.OPEN},
}


class FollowUp(TimestampedModel):
    """An agreed action, with an owner and a due date, reviewed at later meetings."""

    meeting = models.ForeignKey(
        Meeting, on_delete=models.CASCADE, related_name="follow_ups", verbose_name=_("meeting")
    )
    topic = models.ForeignKey(
        Topic,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="follow_ups",
        verbose_name=_("post-it"),
    )
    code = models.CharField(_("code"), max_length=16, unique=True, default=new_code, editable=False)
    title = models.CharField(_("title"), max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="follow_ups",
        verbose_name=_("owner"),
    )
    owner_department = models.ForeignKey(
        Department,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="follow_ups",
        verbose_name=_("owning department"),
    )
    due_date = models.DateField(_("due date"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=FollowUpStatus.choices, default=FollowUpStatus.OPEN
    )
    outcome = BoundedTextField(_("outcome"), max_length=TEXT_MAX, blank=True)
    reason = BoundedTextField(_("why it was dropped"), max_length=TEXT_MAX, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        ordering = ["due_date", "created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(owner__isnull=False) | models.Q(owner_department__isnull=False),
                name="followup_has_owner",
                violation_error_message=_("A follow-up needs an owner: a person or a department."),
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=FollowUpStatus.values), name="followup_status_known"
            ),
            models.CheckConstraint(
                condition=~models.Q(status=FollowUpStatus.DROPPED) | ~models.Q(reason=""),
                name="followup_dropped_has_reason",
                violation_error_message=_("Say why the follow-up is dropped."),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("topics:follow_up_detail", kwargs={"code": self.code})

    @property
    def is_overdue(self) -> bool:
        """Still open after its due date (today in the active time zone)."""
        return (
            self.status == FollowUpStatus.OPEN
            and self.due_date is not None
            and self.due_date < timezone.localdate()
        )

    @property
    def owner_label(self) -> str:
        names = [self.owner.display_name] if self.owner else []
        if self.owner_department:
            names.append(self.owner_department.short_name)
        return ", ".join(names)


class Change(models.Model):
    """One change of something with a history: who made it, when, and each field
    before and after.

    `changes` is a list of ``{"field": …, "old": …, "new": …}`` with values as shown
    (a status's value, a date in ISO form, a person's or department's name), or
    ``[{"field": "created"}]`` for its creation.
    """

    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("changed by"),
    )
    by_name = models.CharField(_("changed by (as shown)"), max_length=150, blank=True)
    at = models.DateTimeField(_("changed"), default=timezone.now)
    changes = models.JSONField(_("changes"), default=list)

    class Meta:
        abstract = True
        ordering = ["-at", "-pk"]


class FollowUpChange(Change):
    follow_up = models.ForeignKey(
        FollowUp, on_delete=models.CASCADE, related_name="changes", verbose_name=_("follow-up")
    )

    class Meta:
        verbose_name = _("change of a follow-up")
        verbose_name_plural = _("changes of follow-ups")
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.follow_up} @ {self.at:%Y-%m-%d %H:%M}"


# --- The IT perspective and micro-projects ------------------------------------------


class ITPerspective(TimestampedModel):
    """IT's reading of one meeting, written after the summary: solutions per post-it.

    Moderators and the group's IT role read and write it; the group's heads and
    participants see it only once a moderator has published it.
    """

    meeting = models.OneToOneField(
        Meeting, on_delete=models.CASCADE, related_name="it_perspective", verbose_name=_("meeting")
    )
    introduction = BoundedTextField(_("introduction"), max_length=TEXT_MAX, blank=True)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("published by"),
    )

    class Meta:
        verbose_name = _("IT perspective")
        verbose_name_plural = _("IT perspectives")

    def __str__(self) -> str:
        return str(self.meeting)

    def get_absolute_url(self) -> str:
        return reverse("topics:it_perspective", kwargs={"code": self.meeting.code})

    @property
    def published(self) -> bool:
        return self.published_at is not None


class Effort(models.TextChoices):
    S = "S", _("S – days")
    M = "M", _("M – weeks")
    L = "L", _("L – months")


class Solution(TimestampedModel):
    """A possible technical answer to a post-it, in the IT perspective."""

    topic = models.ForeignKey(
        Topic, on_delete=models.CASCADE, related_name="solutions", verbose_name=_("post-it")
    )
    code = models.CharField(_("code"), max_length=16, unique=True, default=new_code, editable=False)
    title = models.CharField(_("title"), max_length=TITLE_MAX)
    description = BoundedTextField(_("description"), max_length=TEXT_MAX, blank=True)
    systems = models.CharField(_("systems affected"), max_length=300, blank=True)
    effort = models.CharField(_("rough effort"), max_length=1, choices=Effort.choices)
    risks = BoundedTextField(_("risks"), max_length=FIELD_MAX, blank=True)
    recommendation = BoundedTextField(_("recommendation"), max_length=FIELD_MAX, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("written by"),
    )
    goals = models.ManyToManyField(
        StrategyGoal, blank=True, related_name="solutions", verbose_name=_("strategy goals")
    )

    class Meta:
        verbose_name = _("solution")
        verbose_name_plural = _("solutions")
        ordering = ["topic", "created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(effort__in=Effort.values), name="solution_effort_known"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class MicroProjectStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    APPROVED = "approved", _("Approved")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")
    DROPPED = "dropped", _("Dropped")


# Strict: forward one step at a time, or dropped (with a reason) before done; nothing else.
MICRO_PROJECT_TRANSITIONS = {
    MicroProjectStatus.PROPOSED: {MicroProjectStatus.APPROVED, MicroProjectStatus.DROPPED},
    MicroProjectStatus.APPROVED: {MicroProjectStatus.IN_PROGRESS, MicroProjectStatus.DROPPED},
    MicroProjectStatus.IN_PROGRESS: {MicroProjectStatus.DONE, MicroProjectStatus.DROPPED},
    MicroProjectStatus.DONE: set(),
    MicroProjectStatus.DROPPED: set(),
}
MICRO_PROJECT_OPEN = [
    MicroProjectStatus.PROPOSED,
    MicroProjectStatus.APPROVED,
    MicroProjectStatus.IN_PROGRESS,
]


class MicroProject(TimestampedModel):
    """A small piece of IT work born from a solution to a post-it."""

    solution = models.OneToOneField(
        Solution,
        on_delete=models.PROTECT,
        related_name="micro_project",
        verbose_name=_("solution"),
    )
    topic = models.ForeignKey(
        Topic, on_delete=models.PROTECT, related_name="micro_projects", verbose_name=_("post-it")
    )
    code = models.CharField(_("code"), max_length=16, unique=True, default=new_code, editable=False)
    title = models.CharField(_("title"), max_length=TITLE_MAX)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="micro_projects",
        verbose_name=_("owner"),
    )
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=MicroProjectStatus.choices,
        default=MicroProjectStatus.PROPOSED,
    )
    reason = BoundedTextField(_("why it was dropped"), max_length=TEXT_MAX, blank=True)
    target_date = models.DateField(_("target date"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    # Untagged, a micro-project serves the goals of its post-it (insights.selectors).
    goals = models.ManyToManyField(
        StrategyGoal, blank=True, related_name="micro_projects", verbose_name=_("strategy goals")
    )

    class Meta:
        verbose_name = _("micro-project")
        verbose_name_plural = _("micro-projects")
        ordering = ["target_date", "created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=MicroProjectStatus.values),
                name="microproject_status_known",
            ),
            models.CheckConstraint(
                condition=~models.Q(status=MicroProjectStatus.DROPPED) | ~models.Q(reason=""),
                name="microproject_dropped_has_reason",
                violation_error_message=_("Say why the micro-project is dropped."),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("topics:micro_project_detail", kwargs={"code": self.code})

    @property
    def is_open(self) -> bool:
        return self.status in MICRO_PROJECT_OPEN

    @property
    def is_overdue(self) -> bool:
        return (
            self.is_open
            and self.target_date is not None
            and self.target_date < timezone.localdate()
        )


class MicroProjectChange(Change):
    micro_project = models.ForeignKey(
        MicroProject,
        on_delete=models.CASCADE,
        related_name="changes",
        verbose_name=_("micro-project"),
    )

    class Meta:
        verbose_name = _("change of a micro-project")
        verbose_name_plural = _("changes of micro-projects")
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.micro_project} @ {self.at:%Y-%m-%d %H:%M}"


# --- Owners' answers before a meeting ---------------------------------------------------


class StatusAnswer(TimestampedModel):
    """An owner's answer to "Vad har hänt sedan sist?" for one follow-up or micro-project,
    before one meeting. Answering again through the same link updates this row."""

    meeting = models.ForeignKey(
        Meeting, on_delete=models.CASCADE, related_name="status_answers", verbose_name=_("meeting")
    )
    follow_up = models.ForeignKey(
        FollowUp,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="status_answers",
        verbose_name=_("follow-up"),
    )
    micro_project = models.ForeignKey(
        MicroProject,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="status_answers",
        verbose_name=_("micro-project"),
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("answered by"),
    )
    text = BoundedTextField(_("what has happened since last time"), max_length=TEXT_MAX)
    status = models.CharField(_("status"), max_length=16)

    class Meta:
        verbose_name = _("status answer")
        verbose_name_plural = _("status answers")
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(follow_up__isnull=False, micro_project__isnull=True)
                    | models.Q(follow_up__isnull=True, micro_project__isnull=False)
                ),
                name="statusanswer_one_item",
            ),
            models.UniqueConstraint(
                fields=["meeting", "follow_up"],
                condition=models.Q(follow_up__isnull=False),
                name="statusanswer_once_per_follow_up",
            ),
            models.UniqueConstraint(
                fields=["meeting", "micro_project"],
                condition=models.Q(micro_project__isnull=False),
                name="statusanswer_once_per_micro_project",
            ),
        ]

    def __str__(self) -> str:
        return self.text[:60]
