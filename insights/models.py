"""The group's search index and the radar's remembered suggestions.

`Entry` is one searchable text of a group — a post-it, an idea, the moderator's
notes on a post-it, a follow-up — kept beside the row it copies (the signals in
`insights/signals.py` refresh it on every save). It holds text only: who may
read it is decided at query time from the live rows it points to, so a stale
entry can never show what its post-it no longer allows.
"""

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.utils.translation import gettext_lazy as _

from groups.models import Department, Group
from meetings.models import Meeting
from topics.models import Contribution, FollowUp, MicroProject, Topic
from tvargrupp.models import TimestampedModel


class EntryKind(models.TextChoices):
    TOPIC = "topic", _("Post-it")
    IDEA = "idea", _("Idea or thought")
    NOTE = "note", _("Notes")
    FOLLOW_UP = "follow_up", _("Follow-up")
    MICRO_PROJECT = "micro_project", _("Micro-project")


class Entry(TimestampedModel):
    """One searchable text, with its place in the group (meeting, department, post-it)."""

    kind = models.CharField(_("kind"), max_length=16, choices=EntryKind.choices)
    group = models.ForeignKey(
        Group, on_delete=models.CASCADE, related_name="+", verbose_name=_("group")
    )
    meeting = models.ForeignKey(
        Meeting, on_delete=models.CASCADE, related_name="+", verbose_name=_("meeting")
    )
    department = models.ForeignKey(
        Department,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("department"),
    )
    topic = models.ForeignKey(
        Topic,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("post-it"),
    )
    contribution = models.OneToOneField(
        Contribution,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("idea or thought"),
    )
    follow_up = models.OneToOneField(
        FollowUp,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("follow-up"),
    )
    micro_project = models.OneToOneField(
        MicroProject,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("micro-project"),
    )
    title = models.CharField(_("title"), max_length=200, blank=True)
    body = models.TextField(_("text"), blank=True)
    # Lower-cased title and text: the SQLite fallback matches on it (SQLite's own
    # case folding knows no å, ä or ö).
    folded = models.TextField(_("folded text"), blank=True)
    # PostgreSQL only: the weighted `swedish` document (title A, obstacle B, the rest C).
    vector = SearchVectorField(_("search document"), null=True, blank=True)

    class Meta:
        verbose_name = _("search entry")
        verbose_name_plural = _("search entries")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "topic"],
                condition=models.Q(kind__in=["topic", "note"]),
                name="entry_once_per_topic_and_kind",
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=EntryKind.values), name="entry_kind_known"
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(kind__in=["topic", "note"], topic__isnull=False)
                    | models.Q(kind="idea", contribution__isnull=False)
                    | models.Q(kind="follow_up", follow_up__isnull=False)
                    | models.Q(kind="micro_project", micro_project__isnull=False)
                ),
                name="entry_points_to_its_row",
            ),
        ]
        indexes = [models.Index(fields=["group", "kind"], name="entry_group_kind")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.title[:60]}"


class SuggestionStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    CONFIRMED = "confirmed", _("Confirmed")
    DISMISSED = "dismissed", _("Dismissed")


class Suggestion(TimestampedModel):
    """A similar post-it the radar showed for another, and what became of it.

    A head's "Similar challenge" on the post-it form proposes it; the moderator
    confirms it on the board (a `TopicLink` is made) or dismisses it, and the radar
    remembers either answer for this pair.
    """

    topic = models.ForeignKey(
        Topic, on_delete=models.CASCADE, related_name="+", verbose_name=_("post-it")
    )
    similar = models.ForeignKey(
        Topic, on_delete=models.CASCADE, related_name="+", verbose_name=_("similar post-it")
    )
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=SuggestionStatus.choices,
        default=SuggestionStatus.PROPOSED,
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("proposed by"),
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)

    class Meta:
        verbose_name = _("radar suggestion")
        verbose_name_plural = _("radar suggestions")
        constraints = [
            models.UniqueConstraint(fields=["topic", "similar"], name="suggestion_once_per_pair"),
            models.CheckConstraint(
                condition=~models.Q(topic=models.F("similar")), name="suggestion_not_to_self"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=SuggestionStatus.values),
                name="suggestion_status_known",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.topic} ~ {self.similar} ({self.status})"
