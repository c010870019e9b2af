from datetime import datetime, timedelta

from django.db import models
from django.utils.translation import gettext_lazy as _

from meetings.models import Meeting
from topics.models import Topic
from tvargrupp.models import TimestampedModel


class BoardState(TimestampedModel):
    """The live state of one meeting's board: who has the word, the timer, a version.

    Every change to anything the board shows raises `version`; open screens poll
    it (one indexed read) and fetch the board again when it moves.
    """

    meeting = models.OneToOneField(
        Meeting, on_delete=models.CASCADE, related_name="board", verbose_name=_("meeting")
    )
    version = models.PositiveBigIntegerField(_("version"), default=1)
    topic = models.ForeignKey(
        Topic,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("post-it with the word"),
    )
    timer_duration = models.PositiveIntegerField(_("time for the post-it (seconds)"), default=0)
    timer_elapsed = models.PositiveIntegerField(_("time used before the current run"), default=0)
    timer_started_at = models.DateTimeField(_("timer running since"), null=True, blank=True)

    class Meta:
        verbose_name = _("board state")
        verbose_name_plural = _("board states")

    def __str__(self) -> str:
        return f"{self.meeting} v{self.version}"

    def remaining(self, now: datetime) -> int:
        """Seconds left on the timer (negative once over time)."""
        used = self.timer_elapsed
        if self.timer_started_at is not None:
            used += int((now - self.timer_started_at).total_seconds())
        return self.timer_duration - used

    def ends_at(self, now: datetime) -> datetime | None:
        if self.timer_started_at is None:
            return None
        return now + timedelta(seconds=self.remaining(now))

    @property
    def running(self) -> bool:
        return self.timer_started_at is not None
