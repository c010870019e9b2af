"""Writes for the live board. Every one locks the board row, changes, and bumps the version.

Locking the one `BoardState` row per meeting serialises two moderators pressing
buttons at once: each action sees the other's result, and every screen
converges on the last version.
"""

from datetime import datetime, timedelta
from functools import partial

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from board import live
from board.models import BoardState
from groups.models import Department
from meetings.models import Attendance, Meeting, MeetingStatus
from meetings.services import attendance_mark
from topics.models import (
    Contribution,
    ContributionKind,
    FollowUp,
    LinkKind,
    MicroProject,
    Topic,
    TopicLink,
    TopicStatus,
)
from topics.services import (
    FollowUpConflict,
    MicroProjectConflict,
    follow_up_change,
    follow_up_record,
    micro_project_change,
    micro_project_may_change,
)

MIN_TOPIC_SECONDS = 60
DEFAULT_TOPIC_SECONDS = 8 * 60
ON_BOARD = [TopicStatus.SUBMITTED, TopicStatus.DISCUSSED, TopicStatus.PARKED]
WRITABLE = [MeetingStatus.OPEN, MeetingStatus.LIVE]
ENDED = [MeetingStatus.CLOSED, MeetingStatus.SUMMARY_SENT, MeetingStatus.CANCELLED]
# Starting more than this long before the meeting's time asks for confirmation.
EARLY_START = timedelta(minutes=30)


class EarlyStart(Exception):
    """The meeting would start long before its time; the moderator is asked to confirm."""

    def __init__(self, meeting: Meeting):
        super().__init__("early start")
        self.meeting = meeting


class NotesConflict(Exception):
    def __init__(self, topic: Topic):
        super().__init__("stale notes")
        self.topic = topic


def _lock(meeting: Meeting) -> BoardState:
    """The meeting's board row, locked for this transaction (created on first use).

    The meeting's status is read again under the lock, so a meeting another
    moderator has just closed is not changed.
    """
    status = Meeting.objects.select_for_update().values_list("status", flat=True).get(pk=meeting.pk)
    if status not in WRITABLE:
        raise ValidationError(_("The meeting is closed; the board can no longer be changed."))
    meeting.status = status
    BoardState.objects.get_or_create(meeting=meeting)
    return BoardState.objects.select_for_update().get(meeting=meeting)


def _bump(state: BoardState) -> None:
    BoardState.objects.filter(pk=state.pk).update(version=F("version") + 1)
    state.refresh_from_db(fields=["version"])
    # Screens following the stream hear of it once the change is visible to them.
    transaction.on_commit(partial(live.publish, state.meeting_id, state.version))


def _agenda(meeting: Meeting) -> list[Topic]:
    return list(meeting.topics.filter(status__in=ON_BOARD).order_by("position", "created_at"))


def _topic(meeting: Meeting, code: str) -> Topic:
    topic = meeting.topics.filter(code=code, status__in=ON_BOARD).first()
    if topic is None:
        raise ValidationError(_("That post-it is not on this board."))
    return topic


def suggested_seconds(meeting: Meeting, *, now: datetime, remaining_topics: int) -> int:
    """Time left in the meeting divided by the post-its left, at least a minute."""
    if remaining_topics <= 0:
        return DEFAULT_TOPIC_SECONDS
    left = (meeting.ends_at - max(now, meeting.starts_at)).total_seconds()
    return max(MIN_TOPIC_SECONDS, int(left // remaining_topics))


@transaction.atomic
def board_start(
    *, meeting: Meeting, now: datetime | None = None, early_ok: bool = True
) -> BoardState:
    """Take the meeting live (from planned or open); the board appears on every screen.

    With `early_ok` false, starting more than EARLY_START before the meeting's
    time raises `EarlyStart` so the moderator can confirm.
    """
    now = now or timezone.now()
    if (
        not early_ok
        and meeting.status in (MeetingStatus.PLANNED, MeetingStatus.OPEN)
        and meeting.starts_at - now > EARLY_START
    ):
        raise EarlyStart(meeting)
    Meeting.objects.filter(
        pk=meeting.pk, status__in=[MeetingStatus.PLANNED, MeetingStatus.OPEN]
    ).update(status=MeetingStatus.LIVE, updated_at=timezone.now())
    meeting.refresh_from_db()
    state = _lock(meeting)
    _bump(state)
    return state


@transaction.atomic
def board_end(*, meeting: Meeting, now: datetime | None = None) -> None:
    """The meeting has ended: stop the timer and tell every open screen (a new version).

    Called by whoever ends the meeting (closing it, cancelling it), after its status
    has changed; the board's own writes are refused from then on by `_lock`.
    """
    now = now or timezone.now()
    state = BoardState.objects.select_for_update().filter(meeting=meeting).first()
    if state is None:
        return
    if state.timer_started_at is not None:
        state.timer_elapsed += max(0, int((now - state.timer_started_at).total_seconds()))
        state.timer_started_at = None
        state.save(update_fields=["timer_elapsed", "timer_started_at", "updated_at"])
    _bump(state)


@transaction.atomic
def board_give_word(
    *, meeting: Meeting, code: str, now: datetime | None = None, seconds: int | None = None
) -> BoardState:
    now = now or timezone.now()
    state = _lock(meeting)
    topic = _topic(meeting, code)
    waiting = [t for t in _agenda(meeting) if t.status == TopicStatus.SUBMITTED]
    remaining = len(waiting) + (0 if topic.status == TopicStatus.SUBMITTED else 1)
    state.topic = topic
    state.timer_duration = seconds or suggested_seconds(
        meeting, now=now, remaining_topics=remaining
    )
    state.timer_elapsed = 0
    state.timer_started_at = now
    state.save()
    Meeting.objects.filter(pk=meeting.pk, status=MeetingStatus.OPEN).update(
        status=MeetingStatus.LIVE
    )
    _bump(state)
    return state


@transaction.atomic
def board_step(*, meeting: Meeting, forward: bool, now: datetime | None = None) -> BoardState:
    """Give the word to the next (or previous) post-it on the agenda, parked ones skipped."""
    state = _lock(meeting)
    agenda = [t for t in _agenda(meeting) if t.status != TopicStatus.PARKED]
    if not agenda:
        raise ValidationError(_("There are no post-its on the agenda."))
    codes = [t.code for t in agenda]
    current = state.topic.code if state.topic and state.topic.code in codes else None
    if current is None:
        target = agenda[0] if forward else agenda[-1]
    else:
        index = codes.index(current) + (1 if forward else -1)
        if not 0 <= index < len(agenda):
            return state
        target = agenda[index]
    return board_give_word(meeting=meeting, code=target.code, now=now)


@transaction.atomic
def timer_toggle(*, meeting: Meeting, now: datetime | None = None) -> BoardState:
    now = now or timezone.now()
    state = _lock(meeting)
    if state.topic is None:
        raise ValidationError(_("Give the word to a post-it first."))
    if state.timer_started_at is None:
        state.timer_started_at = now
    else:
        state.timer_elapsed += int((now - state.timer_started_at).total_seconds())
        state.timer_started_at = None
    state.save()
    _bump(state)
    return state


@transaction.atomic
def timer_adjust(*, meeting: Meeting, seconds: int) -> BoardState:
    state = _lock(meeting)
    if state.topic is None:
        raise ValidationError(_("Give the word to a post-it first."))
    state.timer_duration = max(0, state.timer_duration + seconds)
    state.save()
    _bump(state)
    return state


@transaction.atomic
def topic_reorder(*, meeting: Meeting, codes: list[str]) -> None:
    """Put the agenda in the given order; post-its not named keep their relative order after."""
    state = _lock(meeting)
    agenda = _agenda(meeting)
    by_code = {t.code: t for t in agenda}
    ordered = [by_code[c] for c in dict.fromkeys(codes) if c in by_code]
    ordered += [t for t in agenda if t not in ordered]
    for position, topic in enumerate(ordered):
        if topic.position != position:
            Topic.objects.filter(pk=topic.pk).update(position=position)
    _bump(state)


@transaction.atomic
def topic_move(*, meeting: Meeting, code: str, offset: int) -> None:
    _lock(meeting)
    codes = [t.code for t in _agenda(meeting)]
    if code not in codes:
        raise ValidationError(_("That post-it is not on this board."))
    index = codes.index(code)
    target = min(max(index + offset, 0), len(codes) - 1)
    codes.insert(target, codes.pop(index))
    topic_reorder(meeting=meeting, codes=codes)


@transaction.atomic
def topic_set_status(*, meeting: Meeting, code: str, status: str) -> Topic:
    if status not in ON_BOARD:
        raise ValidationError(_("Unknown status."))
    state = _lock(meeting)
    topic = _topic(meeting, code)
    Topic.objects.filter(pk=topic.pk).update(status=status, updated_at=timezone.now())
    _bump(state)
    topic.refresh_from_db()
    return topic


@transaction.atomic
def topic_add_on_the_spot(
    *, meeting: Meeting, department: Department, title: str, by: User
) -> Topic:
    """A post-it written during the meeting: at the end of the agenda, recorded as such."""
    state = _lock(meeting)
    if department.group_id != meeting.group_id:
        raise PermissionDenied
    last = meeting.topics.aggregate(last=Max("position"))["last"]
    topic = Topic(
        meeting=meeting,
        department=department,
        title=title.strip(),
        status=TopicStatus.SUBMITTED,
        submitted_at=timezone.now(),
        position=(last or 0) + 1,
        entered_by=by,
    )
    topic.full_clean()
    topic.save()
    _bump(state)
    return topic


@transaction.atomic
def contribution_add(
    *,
    meeting: Meeting,
    code: str,
    author: User,
    department: Department | None,
    text: str,
    kind: str = ContributionKind.IDEA,
) -> Contribution:
    state = _lock(meeting)
    topic = _topic(meeting, code)
    if department is not None and department.group_id != meeting.group_id:
        raise PermissionDenied
    contribution = Contribution(
        topic=topic, author=author, department=department, text=text.strip(), kind=kind
    )
    contribution.full_clean()
    contribution.save()
    _bump(state)
    return contribution


def _own_or_moderated(meeting: Meeting, contribution_id: int, by: User, moderating: bool):
    """The idea, read under the board lock: one removed meanwhile is a clear refusal."""
    contribution = (
        Contribution.objects.select_for_update()
        .filter(pk=contribution_id, topic__meeting=meeting)
        .first()
    )
    if contribution is None:
        raise ValidationError(_("That idea is no longer there."))
    if not moderating and contribution.author_id != by.pk:
        raise PermissionDenied
    return contribution


@transaction.atomic
def contribution_edit(
    *, meeting: Meeting, contribution_id: int, by: User, moderating: bool, text: str
) -> Contribution:
    state = _lock(meeting)
    contribution = _own_or_moderated(meeting, contribution_id, by, moderating)
    contribution.text = text.strip()
    contribution.full_clean()
    contribution.save(update_fields=["text", "updated_at"])
    _bump(state)
    return contribution


@transaction.atomic
def contribution_remove(
    *, meeting: Meeting, contribution_id: int, by: User, moderating: bool
) -> None:
    state = _lock(meeting)
    contribution = _own_or_moderated(meeting, contribution_id, by, moderating)
    contribution.delete()
    _bump(state)


@transaction.atomic
def link_add(*, meeting: Meeting, code: str, other_code: str, kind: str, by: User) -> TopicLink:
    """Link the post-it to another of the group's, of this meeting or an earlier one."""
    state = _lock(meeting)
    topic = _topic(meeting, code)
    other = (
        Topic.objects.filter(
            code=other_code,
            meeting__group=meeting.group_id,
            meeting__starts_at__lte=meeting.starts_at,
            status__in=ON_BOARD,
        )
        .exclude(pk=topic.pk)
        .first()
    )
    if other is None:
        raise ValidationError(_("Choose another post-it of this group."))
    if kind not in LinkKind.values:
        raise ValidationError(_("Unknown kind of link."))
    if kind == LinkKind.RAISED_AGAIN and not (
        other.meeting_id != meeting.pk and other.department_id == topic.department_id
    ):
        raise ValidationError(
            _("A post-it raised again links to its department's post-it from an earlier meeting.")
        )
    if TopicLink.objects.filter(from_topic=other, to_topic=topic).exists():
        raise ValidationError(_("These post-its are already linked."))
    link, _created = TopicLink.objects.get_or_create(
        from_topic=topic, to_topic=other, defaults={"kind": kind, "created_by": by}
    )
    _bump(state)
    return link


@transaction.atomic
def link_remove(*, meeting: Meeting, link_id: int) -> None:
    state = _lock(meeting)
    TopicLink.objects.filter(pk=link_id, from_topic__meeting=meeting).delete()
    TopicLink.objects.filter(pk=link_id, to_topic__meeting=meeting).delete()
    _bump(state)


@transaction.atomic
def notes_save(*, meeting: Meeting, code: str, notes: str, version: int) -> Topic:
    """The moderator's notes on a post-it; a stale version is refused, never overwritten."""
    state = _lock(meeting)
    topic = Topic.objects.select_for_update().get(pk=_topic(meeting, code).pk)
    if topic.notes_version != version and topic.notes != notes:
        raise NotesConflict(topic)
    if topic.notes != notes:
        topic.notes = notes
        topic.notes_version += 1
        topic.full_clean()
        topic.save(update_fields=["notes", "notes_version", "updated_at"])
        _bump(state)
    return topic


@transaction.atomic
def follow_up_add(
    *,
    meeting: Meeting,
    code: str,
    title: str,
    owner: User | None,
    owner_department: Department | None,
    due_date,
    by: User | None = None,
) -> FollowUp:
    state = _lock(meeting)
    topic = _topic(meeting, code)
    if owner_department is not None and owner_department.group_id != meeting.group_id:
        raise PermissionDenied
    follow_up = FollowUp(
        meeting=meeting,
        topic=topic,
        title=title.strip(),
        owner=owner,
        owner_department=owner_department,
        due_date=due_date,
    )
    follow_up.full_clean()
    follow_up.save()
    follow_up_record(follow_up=follow_up, by=by, changes=[{"field": "created"}])
    _bump(state)
    return follow_up


@transaction.atomic
def follow_up_remove(*, meeting: Meeting, code: str) -> None:
    state = _lock(meeting)
    FollowUp.objects.filter(meeting=meeting, code=code).delete()
    _bump(state)


def meeting_time_left(meeting: Meeting, now: datetime) -> timedelta:
    return max(meeting.ends_at - max(now, meeting.starts_at), timedelta(0))


@transaction.atomic
def board_attendance_mark(*, meeting: Meeting, person_code: str, present: bool) -> Attendance:
    """The attendance panel: mark a person present (or not); every open board follows.

    Attendance is the meetings app's (`meetings.services.attendance_mark`); the board
    adds its lock, so a closed meeting's attendance stays as it was, and its version."""
    state = _lock(meeting)
    person = User.objects.filter(code=person_code).first()
    if person is None:
        raise ValidationError(_("That person is neither invited nor in this group."))
    attendance = attendance_mark(meeting=meeting, user=person, present=present)
    _bump(state)
    return attendance


# --- The follow-up lane -------------------------------------------------------------------


@transaction.atomic
def topic_bring_to_agenda(*, meeting: Meeting, code: str) -> Topic:
    """Move a post-it parked at an earlier meeting of the group onto this meeting's agenda,
    last. The post-it itself moves, with its ideas, links and follow-ups: nothing is copied."""
    state = _lock(meeting)
    topic = (
        Topic.objects.select_for_update()
        .filter(
            code=code,
            status=TopicStatus.PARKED,
            meeting__group=meeting.group_id,
            meeting__starts_at__lt=meeting.starts_at,
        )
        .first()
    )
    if topic is None:
        raise ValidationError(_("That post-it is not parked at an earlier meeting."))
    agenda = _agenda(meeting)
    topic.meeting = meeting
    topic.status = TopicStatus.SUBMITTED
    topic.position = (agenda[-1].position + 1) if agenda else 0
    topic.full_clean()
    topic.save(update_fields=["meeting", "status", "position", "updated_at"])
    _bump(state)
    return topic


@transaction.atomic
def lane_status_set(
    *, meeting: Meeting, by: User, kind: str, code: str, status: str, version: int
) -> None:
    """Change a follow-up's or micro-project's status from the lane, as the moderator; the
    item's own lifecycle decides, and a stale version is refused with a message."""
    state = _lock(meeting)
    group = meeting.group
    try:
        if kind == "follow_up":
            follow_up = FollowUp.objects.filter(code=code, meeting__group=group.pk).first()
            if follow_up is None:
                raise ValidationError(_("That follow-up is not in this group."))
            follow_up_change(
                follow_up=follow_up, by=by, role=meeting.role, version=version, status=status
            )
        elif kind == "micro_project":
            project = MicroProject.objects.filter(code=code, topic__meeting__group=group.pk).first()
            if project is None:
                raise ValidationError(_("That micro-project is not in this group."))
            micro_project_change(
                micro_project=project,
                by=by,
                may=micro_project_may_change(
                    user=by, micro_project=project, role=meeting.role, group=group
                ),
                version=version,
                status=status,
            )
        else:
            raise ValidationError(_("Choose a follow-up or a micro-project."))
    except (FollowUpConflict, MicroProjectConflict):
        raise ValidationError(
            _("Someone else changed it meanwhile; the lane now shows the latest.")
        ) from None
    _bump(state)
