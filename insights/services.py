"""Writes of the insights app: keeping the search index beside its rows, and suggestions."""

from django.contrib.postgres.search import SearchVector
from django.db import connection, transaction
from django.db.models import Q, Value
from django.utils import timezone

from board.services import link_add
from insights.models import Entry, EntryKind, Suggestion, SuggestionStatus
from insights.similarity import CONFIG
from meetings.models import Meeting
from topics.models import Contribution, FollowUp, LinkKind, MicroProject, Topic, TopicLink


def _vector(*parts: tuple[str, str]):
    vector = None
    for text, weight in parts:
        piece = SearchVector(Value(text or ""), weight=weight, config=CONFIG)
        vector = piece if vector is None else vector + piece
    return vector


def _store(*, lookup: dict, values: dict, weighted: list[tuple[str, str]]) -> Entry:
    # What is matched is what is weighted: an idea or a note by its own words, not by
    # its post-it's title (that would bring every idea of a matching post-it along).
    values["folded"] = "\n".join(text for text, _weight in weighted if text).lower()
    entry, _created = Entry.objects.update_or_create(**lookup, defaults=values)
    if connection.vendor == "postgresql":
        Entry.objects.filter(pk=entry.pk).update(vector=_vector(*weighted))
    return entry


def _group_id(meeting_id: int) -> int:
    return Meeting.objects.values_list("group_id", flat=True).get(pk=meeting_id)


@transaction.atomic
def topic_entries_refresh(*, topic: Topic) -> None:
    """The post-it's own entry, and one for the moderator's notes on it while there are any."""
    group_id = _group_id(topic.meeting_id)
    place = {
        "group_id": group_id,
        "meeting_id": topic.meeting_id,
        "department_id": topic.department_id,
    }
    rest = "\n".join([topic.background, topic.current_state, topic.goal])
    fields = [topic.background, topic.current_state, topic.goal, topic.obstacle]
    _store(
        lookup={"kind": EntryKind.TOPIC, "topic": topic},
        values={
            **place,
            "title": topic.title,
            "body": "\n".join(text for text in fields if text),
        },
        weighted=[(topic.title, "A"), (topic.obstacle, "B"), (rest, "C")],
    )
    if topic.notes.strip():
        _store(
            lookup={"kind": EntryKind.NOTE, "topic": topic},
            values={**place, "title": topic.title, "body": topic.notes},
            weighted=[(topic.notes, "A")],
        )
    else:
        Entry.objects.filter(kind=EntryKind.NOTE, topic=topic).delete()


@transaction.atomic
def contribution_entry_refresh(*, contribution: Contribution) -> None:
    topic = Topic.objects.select_related("meeting").get(pk=contribution.topic_id)
    _store(
        lookup={"contribution": contribution},
        values={
            "kind": EntryKind.IDEA,
            "group_id": topic.meeting.group_id,
            "meeting_id": topic.meeting_id,
            "department_id": contribution.department_id,
            "topic": topic,
            "title": topic.title,
            "body": contribution.text,
        },
        weighted=[(contribution.text, "A")],
    )


@transaction.atomic
def follow_up_entry_refresh(*, follow_up: FollowUp) -> None:
    _store(
        lookup={"follow_up": follow_up},
        values={
            "kind": EntryKind.FOLLOW_UP,
            "group_id": _group_id(follow_up.meeting_id),
            "meeting_id": follow_up.meeting_id,
            "department_id": follow_up.owner_department_id,
            "topic_id": follow_up.topic_id,
            "title": follow_up.title,
            "body": follow_up.outcome,
        },
        weighted=[(follow_up.title, "A"), (follow_up.outcome, "C")],
    )


@transaction.atomic
def micro_project_entry_refresh(*, micro_project: MicroProject) -> None:
    topic = Topic.objects.select_related("meeting").get(pk=micro_project.topic_id)
    _store(
        lookup={"micro_project": micro_project},
        values={
            "kind": EntryKind.MICRO_PROJECT,
            "group_id": topic.meeting.group_id,
            "meeting_id": topic.meeting_id,
            "department_id": topic.department_id,
            "topic": topic,
            "title": micro_project.title,
            "body": micro_project.reason,
        },
        weighted=[(micro_project.title, "A"), (micro_project.reason, "C")],
    )


def entries_rebuild() -> int:
    """Index every post-it, idea and follow-up again (after a bulk load); returns the count."""
    count = 0
    for topic in Topic.objects.iterator():
        topic_entries_refresh(topic=topic)
        count += 1
    for contribution in Contribution.objects.iterator():
        contribution_entry_refresh(contribution=contribution)
        count += 1
    for follow_up in FollowUp.objects.iterator():
        follow_up_entry_refresh(follow_up=follow_up)
        count += 1
    for micro_project in MicroProject.objects.iterator():
        micro_project_entry_refresh(micro_project=micro_project)
        count += 1
    return count


class SuggestionRefused(Exception):
    """A suggestion that cannot be made (the post-it is not saved yet, or not similar)."""


@transaction.atomic
def suggestion_propose(*, topic: Topic, similar: Topic, by) -> Suggestion:
    """A head (or moderator) proposes a similar challenge; the moderator decides on the board.

    Proposing a pair again changes nothing: an earlier answer (confirmed or
    dismissed) is remembered.
    """
    if topic.pk == similar.pk:
        raise SuggestionRefused
    suggestion, _created = Suggestion.objects.get_or_create(
        topic=topic, similar=similar, defaults={"proposed_by": by}
    )
    return suggestion


@transaction.atomic
def suggestion_decide(
    *, meeting: Meeting, topic: Topic, similar: Topic, confirm: bool, by
) -> Suggestion:
    """The moderator's answer on the board: confirm (the post-its are linked as similar
    challenges, through the board so every screen shows it) or dismiss. Either is
    remembered for the pair."""
    suggestion, _created = Suggestion.objects.select_for_update().get_or_create(
        topic=topic, similar=similar
    )
    if confirm:
        already = TopicLink.objects.filter(
            Q(from_topic=topic, to_topic=similar) | Q(from_topic=similar, to_topic=topic)
        ).exists()
        if not already:
            link_add(
                meeting=meeting,
                code=topic.code,
                other_code=similar.code,
                kind=LinkKind.SIMILAR,
                by=by,
            )
    suggestion.status = SuggestionStatus.CONFIRMED if confirm else SuggestionStatus.DISMISSED
    suggestion.decided_by = by
    suggestion.decided_at = timezone.now()
    suggestion.full_clean()
    suggestion.save()
    return suggestion
