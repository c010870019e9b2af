"""Reads of the insights app: the radar and the search, always within what the reader may read."""

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet

from groups.access import Role
from insights.models import Entry, EntryKind, Suggestion
from insights.similarity import Query, rank
from meetings.models import Meeting, MeetingStatus
from topics.models import VISIBLE_TOPIC_STATUSES, FollowUp, Topic

RADAR_SIZE = 5
# Before a meeting is held its post-its are read ahead only where the group allows it
# (topics.selectors.topics_readable says the same for one meeting).
BEFORE_MEETING = [MeetingStatus.PLANNED, MeetingStatus.OPEN, MeetingStatus.CANCELLED]


def readable_entries(*, group, role: Role) -> QuerySet[Entry]:
    """The group's entries a person with `role` may read.

    Post-its count once handed in (never a draft or a withdrawn one), and before
    their meeting only for moderators or where the group lets heads read ahead;
    ideas and notes go with their post-it. Follow-ups are on the meeting page for
    everyone in the group.
    """
    entries = Entry.objects.filter(group=group)
    if role < Role.PARTICIPANT:
        return entries.none()
    topic_ok = Q(topic__status__in=VISIBLE_TOPIC_STATUSES)
    if role < Role.MODERATOR and not group.allow_read_ahead:
        topic_ok &= ~Q(topic__meeting__status__in=BEFORE_MEETING)
    return entries.filter(Q(kind=EntryKind.FOLLOW_UP, topic__isnull=True) | topic_ok)


@dataclass
class RadarHit:
    topic: Topic
    score: float
    has_follow_up: bool
    suggestion: Suggestion | None = None


def radar(
    *, meeting: Meeting, role: Role, query: Query, topic: Topic | None, department_id: int | None
) -> list[RadarHit]:
    """Up to five post-its of the group most similar to the one being written.

    From other departments and from earlier meetings: never the post-it itself,
    nor the department's own post-its of this meeting.
    """
    entries = (
        readable_entries(group=meeting.group, role=role)
        .filter(kind=EntryKind.TOPIC)
        .exclude(meeting=meeting, department_id=department_id)
        .select_related("topic__department", "topic__meeting")
        .annotate(has_follow_up=Exists(FollowUp.objects.filter(topic_id=OuterRef("topic_id"))))
    )
    if topic is not None:
        entries = entries.exclude(topic=topic)
    return [
        RadarHit(topic=entry.topic, score=entry.score, has_follow_up=entry.has_follow_up)
        for entry in rank(entries, query, limit=RADAR_SIZE)
    ]
