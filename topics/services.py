"""Writes for post-its: drafts that are saved as people type, submission, withdrawal,
reopening after the deadline, the reminders to departments that have none, and
follow-ups through their lifecycle."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, F, OuterRef, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from groups.access import Role, may_work_on_it_perspective
from groups.messages import chat_post
from groups.models import Department, Group, StrategyGoal
from meetings.messages import notice_kind_name
from meetings.models import Meeting, MeetingStatus, NoticeKind, Schedule
from meetings.services import notices_queue
from outbox.models import Message
from outbox.selectors import messages_about
from outbox.services import Outgoing, messages_queue
from topics.messages import (
    DEADLINE_POST_KIND,
    OVERDUE_POST_KIND,
    OVERDUE_REMINDER_KIND,
    STATUS_REQUEST_KIND,
    STATUS_SALT,
)
from topics.models import (
    FOLLOW_UP_TRANSITIONS,
    MICRO_PROJECT_OPEN,
    MICRO_PROJECT_TRANSITIONS,
    VISIBLE_TOPIC_STATUSES,
    FollowUp,
    FollowUpChange,
    FollowUpStatus,
    ITPerspective,
    MicroProject,
    MicroProjectChange,
    MicroProjectStatus,
    Solution,
    StatusAnswer,
    SubmissionReopening,
    Topic,
    TopicStatus,
)

TEXT_FIELDS = ("title", "background", "current_state", "goal", "obstacle")
COUNTED_STATUSES = [TopicStatus.DRAFT, TopicStatus.SUBMITTED]
REMINDERS = [(NoticeKind.REMINDER_2, timedelta(days=2)), (NoticeKind.REMINDER_7, timedelta(days=7))]
NUDGE_INTERVAL = timedelta(hours=1)


class TopicConflict(Exception):
    """Someone else saved the post-it since this person loaded it."""

    def __init__(self, current: Topic):
        super().__init__("stale version")
        self.current = current


@dataclass
class Window:
    open: bool
    reopened_until: datetime | None = None


def submission_window(*, meeting: Meeting, department: Department, now: datetime) -> Window:
    """Whether the department may still write: before the deadline, or reopened."""
    if meeting.status != MeetingStatus.OPEN:
        return Window(open=False)
    if now < meeting.submission_deadline:
        return Window(open=True)
    reopening = SubmissionReopening.objects.filter(
        meeting=meeting, department=department, until__gt=now
    ).first()
    return Window(open=reopening is not None, reopened_until=reopening and reopening.until)


def topic_limit(*, meeting: Meeting) -> int:
    schedule = Schedule.objects.filter(group_id=meeting.group_id).first()
    return schedule.topics_per_department if schedule else 1


def _check_may_write(*, meeting: Meeting, department: Department, now: datetime) -> None:
    if department.group_id != meeting.group_id:
        raise PermissionDenied
    if meeting.status != MeetingStatus.OPEN:
        raise ValidationError(_("This meeting is not open for post-its."))
    if not submission_window(meeting=meeting, department=department, now=now).open:
        raise ValidationError(_("The deadline for post-its has passed; the post-it is read-only."))


def _apply(topic: Topic, fields: dict[str, str]) -> bool:
    changed = False
    for name in TEXT_FIELDS:
        value = fields.get(name, "")
        if getattr(topic, name) != value:
            setattr(topic, name, value)
            changed = True
    return changed


def _lines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _same_text(topic: Topic, fields: dict[str, str]) -> bool:
    """The same words, whatever line endings the browser sent (CRLF) or stored (LF)."""
    return all(_lines(getattr(topic, name)) == _lines(fields.get(name, "")) for name in TEXT_FIELDS)


def draft_is_private(topic: Topic, user: User) -> bool:
    """A draft a head is writing is the department's own until submitted: someone
    entering the post-it on the department's behalf must take it over first.

    A draft whose author no longer heads the department was left behind (its
    author removed): it stays with the department, for the moderator to finish.
    """
    return (
        topic.status == TopicStatus.DRAFT
        and topic.entered_by_id != user.pk
        and topic.author_id is not None
        and topic.department.heads.filter(pk=topic.author_id).exists()
    )


def _refuse_private_draft() -> None:
    raise ValidationError(
        _(
            "A head of the department is writing a draft of this post-it. Confirm that you "
            "will replace it before writing."
        )
    )


@transaction.atomic
def topic_save(
    *,
    meeting: Meeting,
    department: Department,
    by: User,
    fields: dict[str, str],
    topic_code: str = "",
    version: int = 0,
    submit: bool = False,
    on_behalf: bool = False,
    now: datetime | None = None,
) -> Topic:
    """Save a post-it's text (a draft, or the submitted post-it) and optionally submit it.

    A save whose version is not the stored one is refused with `TopicConflict`,
    unless it carries exactly the stored text (a double click, a repeated autosave).
    """
    now = now or timezone.now()
    _check_may_write(meeting=meeting, department=department, now=now)
    if topic_code:
        topic = (
            Topic.objects.select_for_update()
            .filter(code=topic_code, meeting=meeting, department=department)
            .first()
        )
        if topic is None:
            raise PermissionDenied
        if on_behalf and draft_is_private(topic, by):
            _refuse_private_draft()
        if topic.version != version and not _same_text(topic, fields):
            raise TopicConflict(topic)
    else:
        # One department's heads serialise their creates on the department row.
        Department.objects.select_for_update().get(pk=department.pk)
        taken = list(
            Topic.objects.filter(
                meeting=meeting, department=department, status__in=COUNTED_STATUSES
            )
        )
        limit = topic_limit(meeting=meeting)
        if on_behalf and any(draft_is_private(t, by) for t in taken) and len(taken) >= limit:
            _refuse_private_draft()
        same = next((t for t in taken if _same_text(t, fields)), None)
        if same is not None and not submit:
            # The same text arrived twice (a beacon and a retry): nothing to do.
            return same
        if len(taken) >= limit:
            if limit == 1:
                # Another head of the department started the post-it meanwhile.
                raise TopicConflict(taken[0])
            raise ValidationError(
                _("Your department already has as many post-its as this meeting allows.")
            )
        topic = Topic(meeting=meeting, department=department, author=by, status=TopicStatus.DRAFT)
        if on_behalf:
            topic.entered_by = by
            topic.author = None
    changed = _apply(topic, fields)
    if submit and topic.status == TopicStatus.DRAFT:
        topic.status = TopicStatus.SUBMITTED
        topic.submitted_at = now
        changed = True
    if submit and not topic.title.strip():
        raise ValidationError({"title": _("A post-it needs a title.")})
    if topic.pk and not changed:
        return topic
    # A draft may be untitled while it is written: the title is needed only to submit.
    untitled_draft = topic.status == TopicStatus.DRAFT and not topic.title.strip()
    topic.full_clean(exclude=["title"] if untitled_draft else None)
    if topic.pk:
        topic.version = F("version") + 1
    topic.save()
    topic.refresh_from_db()
    return topic


@transaction.atomic
def topic_take_over(
    *, meeting: Meeting, department: Department, topic_code: str, by: User, version: int
) -> Topic:
    """Someone writing on the department's behalf replaces a head's draft (after confirming).

    The draft's text is cleared (it was never shown to them) and the post-it records
    who entered it; the version rises, so the head's open form meets a conflict
    instead of silently overwriting, and their device keeps its own copy.
    """
    _check_may_write(meeting=meeting, department=department, now=timezone.now())
    topic = (
        Topic.objects.select_for_update()
        .filter(code=topic_code, meeting=meeting, department=department)
        .first()
    )
    if topic is None:
        raise PermissionDenied
    if topic.status != TopicStatus.DRAFT:
        raise ValidationError(
            _("The post-it has been submitted meanwhile; it is no longer a draft.")
        )
    if topic.version != version:
        raise ValidationError(
            _("The draft was saved again meanwhile. Look at when, and confirm again.")
        )
    for name in TEXT_FIELDS:
        setattr(topic, name, "")
    topic.entered_by = by
    topic.version = F("version") + 1
    topic.save()
    topic.refresh_from_db()
    return topic


@transaction.atomic
def topic_withdraw(*, topic: Topic, by: User, now: datetime | None = None) -> Topic:
    """Take a submitted post-it back to a draft; its text stays."""
    now = now or timezone.now()
    _check_may_write(meeting=topic.meeting, department=topic.department, now=now)
    updated = Topic.objects.filter(pk=topic.pk, status=TopicStatus.SUBMITTED).update(
        status=TopicStatus.DRAFT, submitted_at=None, version=F("version") + 1, updated_at=now
    )
    topic.refresh_from_db()
    if not updated:
        raise ValidationError(_("Only a submitted post-it can be withdrawn."))
    return topic


def _check_goals(goals, *, group_id: int, current=()) -> list[StrategyGoal]:
    """Goals of the item's own group; an archived goal only where it is already."""
    kept = {g.pk for g in current}
    for goal in goals:
        if goal.group_id != group_id:
            raise PermissionDenied
        if goal.archived and goal.pk not in kept:
            raise ValidationError(
                {"goals": _("“%(goal)s” is archived: it takes no new tags.") % {"goal": goal}}
            )
    return list(goals)


def goals_shown(goals) -> str:
    """Goals as a history keeps them: their titles, in the group's order."""
    return ", ".join(g.title for g in sorted(goals, key=lambda g: (g.position, g.title)))


@transaction.atomic
def topic_goals_set(
    *,
    meeting: Meeting,
    department: Department,
    topic: Topic,
    goals: list[StrategyGoal],
    now: datetime | None = None,
) -> bool:
    """The strategy goals a head (or a moderator writing on the department's behalf)
    picks on the post-it form, while the post-it may be written; returns whether they
    changed. Goals are not text: they do not raise the post-it's version, and the
    last choice saved wins."""
    if topic.meeting_id != meeting.pk or topic.department_id != department.pk:
        raise PermissionDenied
    _check_may_write(meeting=meeting, department=department, now=now or timezone.now())
    current = list(topic.goals.all())
    goals = _check_goals(goals, group_id=meeting.group_id, current=current)
    if {g.pk for g in goals} == {g.pk for g in current}:
        return False
    topic.goals.set(goals)
    return True


@transaction.atomic
def meeting_goal_tags_set(
    *, meeting: Meeting, topic_ids: list[int], goal_ids: list[int], tags: set[tuple[int, int]]
) -> int:
    """The moderator's table: the meeting's post-its (`topic_ids`, those the table shows)
    tagged with the table's goals (`goal_ids`) exactly as `tags` ((topic id, goal id)
    pairs among them) says; tags outside the table (a draft's) stay. Returns how many
    tags changed."""
    through = Topic.goals.through
    current = set(
        through.objects.filter(
            topic__meeting=meeting, topic_id__in=topic_ids, strategygoal_id__in=goal_ids
        ).values_list("topic_id", "strategygoal_id")
    )
    tags = {(t, g) for t, g in tags if t in topic_ids and g in goal_ids}
    removed = current - tags
    for topic_id, goal_id in removed:
        through.objects.filter(topic_id=topic_id, strategygoal_id=goal_id).delete()
    added = tags - current
    through.objects.bulk_create(
        [through(topic_id=t, strategygoal_id=g) for t, g in added], ignore_conflicts=True
    )
    return len(removed) + len(added)


@transaction.atomic
def submission_reopen(
    *, meeting: Meeting, department: Department, by: User, until: datetime
) -> SubmissionReopening:
    if department.group_id != meeting.group_id:
        raise PermissionDenied
    if until <= timezone.now():
        raise ValidationError({"until": _("Choose a time in the future.")})
    reopening, _created = SubmissionReopening.objects.update_or_create(
        meeting=meeting, department=department, defaults={"until": until, "reopened_by": by}
    )
    return reopening


# --- Reminders and nudges -----------------------------------------------------


def _heads_without_submission(
    meeting: Meeting, department: Department | None = None
) -> QuerySet[User]:
    """Active heads of the meeting's departments that have submitted no post-it."""
    submitted = Topic.objects.filter(
        meeting=meeting, department=OuterRef("pk"), status__in=VISIBLE_TOPIC_STATUSES
    )
    departments = (
        meeting.group.departments.active()
        .annotate(has_topic=Exists(submitted))
        .filter(has_topic=False)
    )
    if department is not None:
        departments = departments.filter(pk=department.pk)
    return User.objects.filter(headed_departments__in=departments, is_active=True).distinct()


def reminders_queue(*, now: datetime | None = None) -> int:
    """Queue the 7-day and 2-day reminders that are due; each goes out at most once.

    A reminder is due while `now` lies in its window: from seven (two) days before
    the deadline until the next reminder's window starts (the deadline). Heads of
    departments that have submitted get none, and nothing is sent after the deadline.
    """
    now = now or timezone.now()
    queued = 0
    meetings = Meeting.objects.filter(
        status=MeetingStatus.OPEN, submission_deadline__gt=now
    ).select_related("group")
    for meeting in meetings:
        remaining = meeting.submission_deadline - now
        kind = next((kind for kind, before in REMINDERS if remaining <= before), None)
        if kind is None:
            continue
        heads = list(_heads_without_submission(meeting))
        with transaction.atomic():
            queued += len(notices_queue(meeting=meeting, users=heads, kind=kind))
            if kind == NoticeKind.REMINDER_2:
                _deadline_post(meeting)
    return queued


def _deadline_post(meeting: Meeting) -> None:
    """Two days before the deadline the group's chat channel hears it too, once."""
    post = chat_post(
        group=meeting.group,
        kind=DEADLINE_POST_KIND,
        key=f"{DEADLINE_POST_KIND}:{meeting.pk}:{meeting.submission_deadline.isoformat()}",
        about=meeting,
        payload={"meeting": meeting.pk},
    )
    if post is not None:
        messages_queue(outgoing=[post])


def follow_ups_overdue_post(*, now: datetime | None = None) -> int:
    """Post each follow-up that has become overdue to its group's chat channel, once.

    Overdue: still open the day after its due date in the group's time zone. The
    key holds the due date, so a follow-up given a new date is posted again if it
    slips again. Returns how many posts were queued.
    """
    now = now or timezone.now()
    queued = 0
    groups = Group.objects.exclude(webhook_url="")
    for group in groups:
        today = timezone.localdate(now, ZoneInfo(group.time_zone))
        overdue = FollowUp.objects.filter(
            meeting__group=group, status=FollowUpStatus.OPEN, due_date__lt=today
        ).select_related("meeting")
        posts = [
            chat_post(
                group=group,
                kind=OVERDUE_POST_KIND,
                key=f"{OVERDUE_POST_KIND}:{follow_up.pk}:{follow_up.due_date.isoformat()}",
                about=follow_up.meeting,
                payload={"follow_up": follow_up.pk},
            )
            for follow_up in overdue
        ]
        with transaction.atomic():
            queued += len(messages_queue(outgoing=posts))
    return queued


@transaction.atomic
def department_nudge(*, meeting: Meeting, department: Department, now: datetime) -> int:
    """Remind one department's heads now; at most once an hour per person."""
    if meeting.status != MeetingStatus.OPEN or meeting.submission_deadline <= now:
        raise ValidationError(_("The meeting is not open for post-its."))
    # A nudge's sequence is the second it was given (time travel in tests included).
    recently = (
        messages_about(meeting)
        .filter(
            kind=notice_kind_name(NoticeKind.NUDGE),
            payload__sequence__gt=int((now - NUDGE_INTERVAL).timestamp()),
            recipient__isnull=False,
        )
        .values("recipient_id")
    )
    heads = list(_heads_without_submission(meeting, department).exclude(pk__in=recently))
    notices = notices_queue(
        meeting=meeting, users=heads, kind=NoticeKind.NUDGE, sequence=int(now.timestamp())
    )
    return len(notices)


# --- Follow-ups -------------------------------------------------------------------


class FollowUpConflict(Exception):
    """Someone else changed the follow-up since this person loaded it."""

    def __init__(self, current: FollowUp):
        super().__init__("stale version")
        self.current = current


FOLLOW_UP_FIELDS = ("title", "status", "reason", "outcome", "owner", "owner_department", "due_date")


def follow_up_may_change(*, user: User, follow_up: FollowUp, role: Role) -> bool:
    """Its owner, a head of its owning department, or a moderator of the group."""
    if not user.is_authenticated or not user.is_active:
        return False
    if role >= Role.MODERATOR or follow_up.owner_id == user.pk:
        return True
    department = follow_up.owner_department
    return (
        department is not None
        and not department.archived
        and department.heads.filter(pk=user.pk).exists()
    )


def _shown(follow_up: FollowUp, name: str) -> str:
    """A field's value as the history keeps it."""
    value = getattr(follow_up, name)
    if value is None:
        return ""
    if name == "owner":
        return value.display_name
    if name == "owner_department":
        return value.name
    if name in ("due_date", "target_date"):
        return value.isoformat()
    return str(value)


def follow_up_record(*, follow_up: FollowUp, by: User | None, changes: list[dict]) -> None:
    FollowUpChange.objects.create(
        follow_up=follow_up, by=by, by_name=by.display_name if by else "", changes=changes
    )


@transaction.atomic
def follow_up_change(
    *,
    follow_up: FollowUp,
    by: User,
    role: Role,
    version: int,
    now: datetime | None = None,
    **values,
) -> FollowUp:
    """Change a follow-up's fields (any of FOLLOW_UP_FIELDS) as its owner, a head of its
    department or a moderator, and record who changed what.

    The lifecycle is open → done, or dropped with a reason (and back to open); any
    other status change is refused. A stale version is refused with `FollowUpConflict`
    unless it asks for exactly what is stored.
    """
    now = now or timezone.now()
    current = FollowUp.objects.select_for_update().get(pk=follow_up.pk)
    if not follow_up_may_change(user=by, follow_up=current, role=role):
        raise PermissionDenied
    unknown = set(values) - set(FOLLOW_UP_FIELDS)
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    department = values.get("owner_department")
    if department is not None and department.group_id != current.meeting.group_id:
        raise PermissionDenied
    wanted = {name: value for name, value in values.items() if getattr(current, name) != value}
    if current.version != version and wanted:
        raise FollowUpConflict(current)
    return _follow_up_apply(follow_up=current, by=by, values=wanted, now=now)


def _follow_up_apply(*, follow_up: FollowUp, by: User | None, values: dict, now) -> FollowUp:
    status = values.get("status", follow_up.status)
    if status != follow_up.status and status not in FOLLOW_UP_TRANSITIONS.get(
        follow_up.status, set()
    ):
        raise ValidationError(
            {
                "status": _("A follow-up that is %(old)s cannot become %(new)s.")
                % {
                    "old": FollowUpStatus(follow_up.status).label.lower(),
                    "new": FollowUpStatus(status).label.lower()
                    if status in FollowUpStatus.values
                    else status,
                }
            }
        )
    if status == FollowUpStatus.OPEN and follow_up.status != FollowUpStatus.OPEN:
        values.setdefault("reason", "")
    if status != FollowUpStatus.DROPPED and "reason" not in values and follow_up.reason:
        values["reason"] = ""
    if "title" in values:
        values["title"] = values["title"].strip()
    before = {name: _shown(follow_up, name) for name in values}
    for name, value in values.items():
        setattr(follow_up, name, value)
    if status == FollowUpStatus.DROPPED and not follow_up.reason.strip():
        raise ValidationError({"reason": _("Say why the follow-up is dropped.")})
    if follow_up.owner_id is None and follow_up.owner_department_id is None:
        raise ValidationError({"owner": _("A follow-up needs an owner: a person or a department.")})
    changes = [
        {"field": name, "old": before[name], "new": _shown(follow_up, name)}
        for name in FOLLOW_UP_FIELDS
        if name in values and before[name] != _shown(follow_up, name)
    ]
    if not changes:
        return follow_up
    if "status" in values:
        follow_up.closed_at = None if status == FollowUpStatus.OPEN else now
    follow_up.version += 1
    follow_up.full_clean()
    follow_up.save()
    follow_up_record(follow_up=follow_up, by=by, changes=changes)
    return follow_up


# --- The IT perspective --------------------------------------------------------------

IT_PERSPECTIVE_MEETING_STATUSES = [MeetingStatus.CLOSED, MeetingStatus.SUMMARY_SENT]
SOLUTION_FIELDS = ("title", "description", "systems", "effort", "risks", "recommendation")


def _check_it_writer(*, meeting: Meeting, role: Role) -> None:
    if not may_work_on_it_perspective(role, meeting.group):
        raise PermissionDenied
    if meeting.status not in IT_PERSPECTIVE_MEETING_STATUSES:
        raise ValidationError(
            _("The IT perspective is written once the meeting is closed and summarised.")
        )


@transaction.atomic
def solution_save(
    *,
    topic: Topic,
    by: User,
    role: Role,
    solution: Solution | None = None,
    goals: list[StrategyGoal] | None = None,
    **fields,
) -> Solution:
    """Add a possible technical solution to a post-it, or change one (moderators and
    the group's IT role, once the meeting is closed); `goals`, if given, are the
    strategy goals it serves."""
    _check_it_writer(meeting=topic.meeting, role=role)
    if solution is not None and solution.topic_id != topic.pk:
        raise PermissionDenied
    if goals is not None:
        current = list(solution.goals.all()) if solution is not None else []
        goals = _check_goals(goals, group_id=topic.meeting.group_id, current=current)
    unknown = set(fields) - set(SOLUTION_FIELDS)
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    if solution is None:
        solution = Solution(topic=topic, created_by=by)
        ITPerspective.objects.get_or_create(meeting=topic.meeting)
    for name, value in fields.items():
        setattr(solution, name, value.strip() if isinstance(value, str) else value)
    solution.full_clean()
    solution.save()
    if goals is not None:
        solution.goals.set(goals)
    return solution


@transaction.atomic
def solution_delete(*, solution: Solution, role: Role) -> None:
    _check_it_writer(meeting=solution.topic.meeting, role=role)
    if MicroProject.objects.filter(solution=solution).exists():
        raise ValidationError(
            _("This solution has become a micro-project; drop the micro-project instead.")
        )
    solution.delete()


@transaction.atomic
def it_perspective_publish(
    *, meeting: Meeting, by: User, role: Role, publish: bool = True
) -> ITPerspective:
    """Show the IT perspective to the group's heads and participants (or hide it again).
    Only a moderator decides."""
    if role < Role.MODERATOR:
        raise PermissionDenied
    if meeting.status not in IT_PERSPECTIVE_MEETING_STATUSES:
        raise ValidationError(
            _("The IT perspective is written once the meeting is closed and summarised.")
        )
    perspective, _created = ITPerspective.objects.select_for_update().get_or_create(meeting=meeting)
    if publish and not Solution.objects.filter(topic__meeting=meeting).exists():
        raise ValidationError(_("Write at least one solution before publishing."))
    perspective.published_at = timezone.now() if publish else None
    perspective.published_by = by if publish else None
    perspective.full_clean()
    perspective.save()
    return perspective


@transaction.atomic
def it_perspective_introduction_save(
    *, meeting: Meeting, role: Role, introduction: str
) -> ITPerspective:
    _check_it_writer(meeting=meeting, role=role)
    perspective, _created = ITPerspective.objects.select_for_update().get_or_create(meeting=meeting)
    perspective.introduction = introduction.strip()
    perspective.full_clean()
    perspective.save()
    return perspective


# --- Micro-projects ------------------------------------------------------------------

MICRO_PROJECT_FIELDS = ("title", "status", "reason", "owner", "target_date")


class MicroProjectConflict(Exception):
    def __init__(self, current: MicroProject):
        super().__init__("stale version")
        self.current = current


def micro_project_may_change(*, user: User, micro_project: MicroProject, role: Role, group) -> bool:
    """Its owner, a moderator, or the group's IT role."""
    if not user.is_authenticated or not user.is_active:
        return False
    return micro_project.owner_id == user.pk or may_work_on_it_perspective(role, group)


@transaction.atomic
def micro_project_create(
    *, solution: Solution, by: User, role: Role, owner: User, target_date=None, title: str = ""
) -> MicroProject:
    """Turn a solution into a micro-project (proposed), with an owner; once per solution."""
    meeting = solution.topic.meeting
    _check_it_writer(meeting=meeting, role=role)
    Solution.objects.select_for_update().filter(pk=solution.pk).first()
    if MicroProject.objects.filter(solution=solution).exists():
        raise ValidationError(_("This solution is already a micro-project."))
    project = MicroProject(
        solution=solution,
        topic=solution.topic,
        title=(title or solution.title).strip(),
        owner=owner,
        target_date=target_date,
    )
    project.full_clean()
    project.save()
    # It serves what its solution serves (archived goals included: the tag is kept).
    project.goals.set(solution.goals.all())
    MicroProjectChange.objects.create(
        micro_project=project, by=by, by_name=by.display_name, changes=[{"field": "created"}]
    )
    return project


@transaction.atomic
def micro_project_change(
    *,
    micro_project: MicroProject,
    by: User | None,
    may: bool,
    version: int,
    now: datetime | None = None,
    **values,
) -> MicroProject:
    """Change a micro-project (`may`: the caller checked `micro_project_may_change`, or a
    signed status link stands for its owner). The lifecycle is strict: proposed →
    approved → in progress → done, or dropped with a reason from any open status.
    `goals`, if given, are the strategy goals it serves; a change of them is recorded
    in the history like any other."""
    now = now or timezone.now()
    if not may:
        raise PermissionDenied
    current = MicroProject.objects.select_for_update().get(pk=micro_project.pk)
    goals = values.pop("goals", None)
    unknown = set(values) - set(MICRO_PROJECT_FIELDS)
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    wanted = {name: value for name, value in values.items() if getattr(current, name) != value}
    goals_before = list(current.goals.all())
    if goals is not None:
        group_id = Topic.objects.values_list("meeting__group_id", flat=True).get(
            pk=current.topic_id
        )
        goals = _check_goals(goals, group_id=group_id, current=goals_before)
        if {g.pk for g in goals} == {g.pk for g in goals_before}:
            goals = None
    if current.version != version and (wanted or goals is not None):
        raise MicroProjectConflict(current)
    status = wanted.get("status", current.status)
    if status != current.status and status not in MICRO_PROJECT_TRANSITIONS.get(
        current.status, set()
    ):
        raise ValidationError(
            {
                "status": _("A micro-project that is %(old)s cannot become %(new)s.")
                % {
                    "old": MicroProjectStatus(current.status).label.lower(),
                    "new": MicroProjectStatus(status).label.lower()
                    if status in MicroProjectStatus.values
                    else status,
                }
            }
        )
    if status != MicroProjectStatus.DROPPED:
        wanted.pop("reason", None)  # a reason belongs to dropping only
    if "title" in wanted:
        wanted["title"] = wanted["title"].strip()
    before = {name: _shown(current, name) for name in wanted}
    for name, value in wanted.items():
        setattr(current, name, value)
    if current.status == MicroProjectStatus.DROPPED and not current.reason.strip():
        raise ValidationError({"reason": _("Say why the micro-project is dropped.")})
    changes = [
        {"field": name, "old": before[name], "new": _shown(current, name)}
        for name in MICRO_PROJECT_FIELDS
        if name in wanted and before[name] != _shown(current, name)
    ]
    if goals is not None:
        changes.append(
            {"field": "goals", "old": goals_shown(goals_before), "new": goals_shown(goals)}
        )
    if not changes:
        return current
    if "status" in wanted and current.status not in MICRO_PROJECT_OPEN:
        current.closed_at = now
    current.version += 1
    current.full_clean()
    current.save()
    if goals is not None:
        current.goals.set(goals)
    MicroProjectChange.objects.create(
        micro_project=current, by=by, by_name=by.display_name if by else "", changes=changes
    )
    return current


# --- Status before the meeting: "Vad har hänt sedan sist?" -----------------------------

ASKING_MEETING_STATUSES = [MeetingStatus.PLANNED, MeetingStatus.OPEN]


class StatusLinkError(Exception):
    """A status link that cannot be used: `reason` is "tampered", "expired" or "foreign"."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class StatusLink:
    meeting: Meeting
    user: User
    follow_up: FollowUp | None
    micro_project: MicroProject | None

    @property
    def item(self):
        return self.follow_up or self.micro_project


def status_link_read(token: str, *, now: datetime | None = None) -> StatusLink:
    """What a status link stands for, or `StatusLinkError`: a tampered link, one whose
    meeting has started (or been cancelled), or one whose item is no longer this
    person's (another owner, or no longer open)."""
    now = now or timezone.now()
    try:
        data = signing.loads(token, salt=STATUS_SALT)
        meeting_code, user_code, kind, code = data["m"], data["u"], data["k"], data["c"]
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise StatusLinkError("tampered") from None
    meeting = Meeting.objects.select_related("group").filter(code=meeting_code).first()
    user = User.objects.filter(code=user_code, is_active=True).first()
    if meeting is None or user is None:
        raise StatusLinkError("tampered")
    if meeting.starts_at <= now or meeting.status not in ASKING_MEETING_STATUSES:
        raise StatusLinkError("expired")
    follow_up = micro_project = None
    if kind == "f":
        follow_up = (
            FollowUp.objects.select_related("owner", "owner_department", "meeting", "topic")
            .filter(code=code, meeting__group=meeting.group_id)
            .first()
        )
        if follow_up is None:
            raise StatusLinkError("tampered")
        if not _answers_for(user=user, follow_up=follow_up):
            raise StatusLinkError("foreign")
    elif kind == "p":
        micro_project = (
            MicroProject.objects.select_related("owner", "topic__meeting", "topic__department")
            .filter(code=code, topic__meeting__group=meeting.group_id)
            .first()
        )
        if micro_project is None:
            raise StatusLinkError("tampered")
        if micro_project.owner_id != user.pk:
            raise StatusLinkError("foreign")
    else:
        raise StatusLinkError("tampered")
    return StatusLink(meeting=meeting, user=user, follow_up=follow_up, micro_project=micro_project)


def _answers_for(*, user: User, follow_up: FollowUp) -> bool:
    """Who answers for a follow-up: its owner, or with none, a head of its department."""
    if follow_up.owner_id is not None:
        return follow_up.owner_id == user.pk
    department = follow_up.owner_department
    return (
        department is not None
        and not department.archived
        and department.heads.filter(pk=user.pk).exists()
    )


def status_choices(link: StatusLink) -> list[tuple[str, str]]:
    """The statuses an owner may report through the link: the item's own and the ones its
    lifecycle allows next (a follow-up is dropped with the answer as its reason)."""
    if link.follow_up is not None:
        current, statuses, transitions = (
            link.follow_up.status,
            FollowUpStatus,
            FOLLOW_UP_TRANSITIONS,
        )
    else:
        current = link.micro_project.status
        statuses, transitions = MicroProjectStatus, MICRO_PROJECT_TRANSITIONS
    allowed = {current, *transitions.get(current, set())}
    return [(value, label) for value, label in statuses.choices if value in allowed]


@transaction.atomic
def status_answer_save(
    *, link: StatusLink, text: str, status: str, now: datetime | None = None
) -> StatusAnswer:
    """Record (or update) the owner's answer for this meeting, and move the item to the
    status chosen if its lifecycle allows it; a refused status changes nothing."""
    now = now or timezone.now()
    text = text.strip()
    if link.follow_up is not None:
        current = FollowUp.objects.select_for_update().get(pk=link.follow_up.pk)
        values = {"status": status}
        if status == FollowUpStatus.DROPPED and current.status != FollowUpStatus.DROPPED:
            values["reason"] = text
        _follow_up_apply(
            follow_up=current,
            by=link.user,
            values={k: v for k, v in values.items() if getattr(current, k) != v},
            now=now,
        )
        item = {"follow_up": current}
    else:
        current = MicroProject.objects.select_for_update().get(pk=link.micro_project.pk)
        micro_project_change(
            micro_project=current,
            by=link.user,
            may=True,
            version=current.version,
            now=now,
            status=status,
            **({"reason": text} if status == MicroProjectStatus.DROPPED else {}),
        )
        item = {"micro_project": current}
    answer = StatusAnswer.objects.filter(meeting=link.meeting, **item).first() or StatusAnswer(
        meeting=link.meeting, **item
    )
    answer.text = text
    answer.status = status
    answer.by = link.user
    answer.full_clean()
    answer.save()
    return answer


def _open_items_of_group(group: Group, before: datetime):
    follow_ups = FollowUp.objects.filter(
        meeting__group=group, status=FollowUpStatus.OPEN, meeting__starts_at__lt=before
    ).select_related("owner_department")
    projects = MicroProject.objects.filter(
        topic__meeting__group=group,
        status__in=MICRO_PROJECT_OPEN,
        topic__meeting__starts_at__lt=before,
    )
    return follow_ups, projects


def _by_owner(follow_ups, projects) -> dict[int, dict[str, list[int]]]:
    """{user id: {"follow_ups": [...], "micro_projects": [...]}}; a follow-up owned by a
    department only goes to its active heads."""
    owners: dict[int, dict[str, list[int]]] = {}

    def add(user_id, key, pk):
        owners.setdefault(user_id, {"follow_ups": [], "micro_projects": []})[key].append(pk)

    department_ids = {f.owner_department_id for f in follow_ups if f.owner_id is None}
    heads: dict[int, list[int]] = {}
    for row in Department.heads.through.objects.filter(
        department_id__in=department_ids, department__archived_at__isnull=True
    ):
        heads.setdefault(row.department_id, []).append(row.user_id)
    for follow_up in follow_ups:
        for user_id in (
            [follow_up.owner_id]
            if follow_up.owner_id
            else heads.get(follow_up.owner_department_id, [])
        ):
            add(user_id, "follow_ups", follow_up.pk)
    for project in projects:
        add(project.owner_id, "micro_projects", project.pk)
    return owners


def status_requests_queue(*, now: datetime | None = None) -> int:
    """A group's configured number of days before each meeting, ask every owner of an open
    follow-up or micro-project once, in one e-mail listing all of theirs."""
    now = now or timezone.now()
    queued = 0
    meetings = Meeting.objects.filter(
        status__in=ASKING_MEETING_STATUSES,
        starts_at__gt=now,
        starts_at__lte=now + timedelta(days=30),
    ).select_related("group")
    for meeting in meetings:
        if meeting.starts_at - timedelta(days=meeting.group.status_days_before) > now:
            continue
        follow_ups, projects = _open_items_of_group(meeting.group, meeting.starts_at)
        owners = _by_owner(list(follow_ups), list(projects))
        users = User.objects.filter(pk__in=owners, is_active=True)
        outgoing = [
            Outgoing(
                kind=STATUS_REQUEST_KIND,
                key=f"{STATUS_REQUEST_KIND}:{meeting.pk}:{user.pk}",
                address=user.email,
                name=user.full_name,
                language=user.language,
                recipient=user,
                about=meeting,
                payload={"meeting": meeting.pk, **owners[user.pk]},
            )
            for user in users
        ]
        with transaction.atomic():
            queued += len(messages_queue(outgoing=outgoing))
    return queued


OVERDUE_REMINDER_INTERVAL = timedelta(days=7)


def overdue_reminders_queue(*, now: datetime | None = None) -> int:
    """At most once a week, every owner with overdue follow-ups or micro-projects gets
    one e-mail listing all of them (across their groups)."""
    now = now or timezone.now()
    owners: dict[int, dict[str, list[int]]] = {}
    for group in Group.objects.all():
        today = timezone.localdate(now, ZoneInfo(group.time_zone))
        follow_ups = FollowUp.objects.filter(
            meeting__group=group, status=FollowUpStatus.OPEN, due_date__lt=today
        )
        projects = MicroProject.objects.filter(
            topic__meeting__group=group, status__in=MICRO_PROJECT_OPEN, target_date__lt=today
        )
        for user_id, items in _by_owner(list(follow_ups), list(projects)).items():
            mine = owners.setdefault(user_id, {"follow_ups": [], "micro_projects": []})
            mine["follow_ups"] += items["follow_ups"]
            mine["micro_projects"] += items["micro_projects"]
    recently = set(
        Message.objects.filter(
            kind=OVERDUE_REMINDER_KIND, created_at__gt=now - OVERDUE_REMINDER_INTERVAL
        ).values_list("recipient_id", flat=True)
    )
    year, week, _day = now.isocalendar()
    outgoing = [
        Outgoing(
            kind=OVERDUE_REMINDER_KIND,
            key=f"{OVERDUE_REMINDER_KIND}:{user.pk}:{year}-W{week:02d}",
            address=user.email,
            name=user.full_name,
            language=user.language,
            recipient=user,
            payload=owners[user.pk],
        )
        for user in User.objects.filter(pk__in=set(owners) - recently, is_active=True)
    ]
    with transaction.atomic():
        return len(messages_queue(outgoing=outgoing))
