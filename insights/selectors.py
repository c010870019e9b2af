"""Reads of the insights app: the radar and the search, always within what the reader may read."""

import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Count, Exists, F, Min, OuterRef, Q, QuerySet, Window
from django.db.models.functions import RowNumber
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from groups.access import Role, may_work_on_it_perspective
from groups.models import StrategyGoal
from insights import charts
from insights.models import Entry, EntryKind, Suggestion, SuggestionStatus
from insights.similarity import Query, rank
from meetings.models import Meeting, MeetingStatus
from topics.models import (
    VISIBLE_TOPIC_STATUSES,
    Contribution,
    FollowUp,
    FollowUpStatus,
    MicroProject,
    MicroProjectStatus,
    Topic,
    TopicLink,
)
from topics.selectors import writable_departments

RADAR_SIZE = 5
# Before a meeting is held its post-its are read ahead only where the group allows it
# (topics.selectors.topics_readable says the same for one meeting).
BEFORE_MEETING = [MeetingStatus.PLANNED, MeetingStatus.OPEN, MeetingStatus.CANCELLED]


def readable_entries(*, group, role: Role) -> QuerySet[Entry]:
    """The group's entries a person with `role` may read.

    Post-its count once handed in (never a draft or a withdrawn one), and before
    their meeting only for moderators or where the group lets heads read ahead;
    ideas and notes go with their post-it. Follow-ups are on the meeting page for
    everyone in the group. Micro-projects only once their meeting's IT perspective
    is published, unless the reader works on it (moderators, the IT role) —
    `topics.selectors` says the same for the micro-project pages.
    """
    entries = Entry.objects.filter(group=group)
    if role < Role.PARTICIPANT:
        return entries.none()
    topic_ok = Q(topic__status__in=VISIBLE_TOPIC_STATUSES)
    if role < Role.MODERATOR and not group.allow_read_ahead:
        topic_ok &= ~Q(topic__meeting__status__in=BEFORE_MEETING)
    readable = Q(kind=EntryKind.FOLLOW_UP, topic__isnull=True) | topic_ok
    if not may_work_on_it_perspective(role, group):
        readable &= ~Q(kind=EntryKind.MICRO_PROJECT) | Q(
            topic__meeting__it_perspective__published_at__isnull=False
        )
    return entries.filter(readable)


def micro_projects_shown(*, group, role: Role, topic_ref: str = "topic_id") -> Exists:
    """Whether a post-it led to a micro-project the reader may know of."""
    projects = MicroProject.objects.filter(topic_id=OuterRef(topic_ref))
    if not may_work_on_it_perspective(role, group):
        projects = projects.filter(topic__meeting__it_perspective__published_at__isnull=False)
    return Exists(projects)


@dataclass
class RadarHit:
    topic: Topic
    score: float
    has_follow_up: bool
    has_micro_project: bool = False
    suggestion: Suggestion | None = None
    linked: bool = False


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
        .annotate(
            has_follow_up=Exists(FollowUp.objects.filter(topic_id=OuterRef("topic_id"))),
            has_micro_project=micro_projects_shown(group=meeting.group, role=role),
        )
    )
    if topic is not None:
        entries = entries.exclude(topic=topic)
    return [
        RadarHit(
            topic=entry.topic,
            score=entry.score,
            has_follow_up=entry.has_follow_up,
            has_micro_project=entry.has_micro_project,
        )
        for entry in rank(entries, query, limit=RADAR_SIZE)
    ]


@dataclass
class PostitRadar:
    meeting: Meeting
    topic: Topic | None
    query: Query
    hits: list[RadarHit] = field(default_factory=list)


def postit_radar(
    *, user, meeting: Meeting, department_code: str, topic_code: str, query: Query
) -> PostitRadar:
    """The radar beside the post-it form, for someone who may write that department's post-its.

    Each hit says whether this post-it is already linked to it or a similar
    challenge was proposed, confirmed or dismissed for the pair.
    """
    departments, _on_behalf = writable_departments(user=user, meeting=meeting)
    department = next((d for d in departments if d.code == department_code), None)
    if department is None:
        if department_code:
            raise PermissionDenied
        department = departments[0]
    topic = None
    if topic_code:
        topic = Topic.objects.filter(
            meeting=meeting, department=department, code=topic_code
        ).first()
    hits = radar(
        meeting=meeting, role=meeting.role, query=query, topic=topic, department_id=department.pk
    )
    if topic is not None and hits:
        ids = [hit.topic.pk for hit in hits]
        suggestions = {
            s.similar_id: s for s in Suggestion.objects.filter(topic=topic, similar_id__in=ids)
        }
        linked = set()
        for from_id, to_id in TopicLink.objects.filter(
            Q(from_topic=topic, to_topic_id__in=ids) | Q(to_topic=topic, from_topic_id__in=ids)
        ).values_list("from_topic_id", "to_topic_id"):
            linked |= {from_id, to_id}
        for hit in hits:
            hit.suggestion = suggestions.get(hit.topic.pk)
            hit.linked = hit.topic.pk in linked
    return PostitRadar(meeting=meeting, topic=topic, query=query, hits=hits)


def radar_hit_for_suggestion(*, user, meeting: Meeting, topic_code: str, similar_code: str):
    """The post-it a person writes and a post-it the radar may show them, or PermissionDenied."""
    departments, _on_behalf = writable_departments(user=user, meeting=meeting)
    topic = (
        Topic.objects.filter(meeting=meeting, department__in=departments, code=topic_code)
        .select_related("department")
        .first()
    )
    similar_entry = (
        readable_entries(group=meeting.group, role=meeting.role)
        .filter(kind=EntryKind.TOPIC, topic__code=similar_code)
        .select_related("topic__department", "topic__meeting")
        .annotate(has_follow_up=Exists(FollowUp.objects.filter(topic_id=OuterRef("topic_id"))))
        .first()
    )
    return topic, similar_entry


SEARCH_SIZE = 50


def search_choices(*, group) -> tuple[list, list]:
    """The departments and meetings the search filters offer (two queries)."""
    return (
        list(group.departments.order_by("position", "name")),
        list(group.meetings.order_by("-starts_at")),
    )


def group_search(
    *, group, query: Query, department: str = "", meeting: str = "", kind: str = ""
) -> list[Entry]:
    """The group's search: post-its, ideas, notes and follow-ups of every meeting, ranked,
    with everything a result shows, in one query."""
    if not query:
        return []
    entries = readable_entries(group=group, role=group.role).select_related(
        "meeting", "department", "topic", "micro_project"
    )
    if department:
        entries = entries.filter(department__code=department)
    if meeting:
        entries = entries.filter(meeting__code=meeting)
    if kind:
        entries = entries.filter(kind=kind)
    return rank(entries, query, limit=SEARCH_SIZE)


@dataclass
class BoardRadar:
    meeting: Meeting
    topic: Topic | None
    proposals: list[Suggestion]
    hits: list[RadarHit]


def board_radar(*, meeting: Meeting, topic_code: str) -> BoardRadar:
    """For the moderator, beside the post-it that has the word: the heads' proposals first,
    then up to five similar post-its of this meeting and earlier ones. Dismissed pairs
    are not offered again; linked ones say so."""
    topic = (
        Topic.objects.filter(
            meeting=meeting, code=topic_code, status__in=VISIBLE_TOPIC_STATUSES
        ).first()
        if topic_code
        else None
    )
    if topic is None:
        return BoardRadar(meeting=meeting, topic=None, proposals=[], hits=[])
    decided = {
        s.similar_id: s
        for s in Suggestion.objects.filter(topic=topic)
        .select_related("similar__department", "similar__meeting", "proposed_by")
        .order_by("created_at")
    }
    entries = (
        readable_entries(group=meeting.group, role=meeting.role)
        .filter(kind=EntryKind.TOPIC, meeting__starts_at__lte=meeting.starts_at)
        .exclude(topic=topic)
        .exclude(
            topic_id__in=[pk for pk, s in decided.items() if s.status != SuggestionStatus.CONFIRMED]
        )
        .select_related("topic__department", "topic__meeting")
        .annotate(
            has_follow_up=Exists(FollowUp.objects.filter(topic_id=OuterRef("topic_id"))),
            has_micro_project=micro_projects_shown(group=meeting.group, role=meeting.role),
        )
    )
    query = Query.of_postit(
        title=topic.title,
        obstacle=topic.obstacle,
        goal=topic.goal,
        now=topic.current_state,
        background=topic.background,
    )
    hits = [
        RadarHit(
            topic=entry.topic,
            score=entry.score,
            has_follow_up=entry.has_follow_up,
            has_micro_project=entry.has_micro_project,
        )
        for entry in rank(entries, query, limit=RADAR_SIZE)
    ]
    linked = set()
    ids = [hit.topic.pk for hit in hits]
    for from_id, to_id in TopicLink.objects.filter(
        Q(from_topic=topic, to_topic_id__in=ids) | Q(to_topic=topic, from_topic_id__in=ids)
    ).values_list("from_topic_id", "to_topic_id"):
        linked |= {from_id, to_id}
    for hit in hits:
        hit.linked = hit.topic.pk in linked
    proposals = [s for s in decided.values() if s.status == SuggestionStatus.PROPOSED]
    return BoardRadar(meeting=meeting, topic=topic, proposals=proposals, hits=hits)


# --- Insights ------------------------------------------------------------------------

INSIGHT_MEETINGS = 12


class Period(models.TextChoices):
    """Which meetings the insights cover; every section of the page follows it."""

    LATEST = "latest", gettext_lazy("The last 12 meetings")
    YEAR = "year", gettext_lazy("This year")
    ALL = "all", gettext_lazy("All meetings")


@dataclass
class Table:
    """A data table on the insights page, also downloadable as CSV (`?csv=<name>`)."""

    name: str
    caption: str
    header: list[str]
    rows: list[list]


GOAL_LATEST = 5


@dataclass
class GoalRow:
    goal: StrategyGoal
    topics: list[Topic]  # the latest GOAL_LATEST
    count: int
    projects: int = 0
    projects_done: int = 0

    @property
    def more(self) -> int:
        return self.count - len(self.topics)


@dataclass
class InsightsPage:
    group: object
    period: str
    meetings: list[Meeting]
    departments: list
    topics_table: Table
    topics_chart: charts.BarChart
    follow_ups_table: Table
    follow_ups_chart: charts.BarChart
    helped_table: Table
    helped_network: charts.Network
    goals: list[GoalRow]
    goals_table: Table
    goals_chart: charts.HBarChart
    projects_table: Table
    projects_chart: charts.BarChart
    lead_time_table: Table

    def table(self, name: str) -> Table | None:
        tables = [
            self.topics_table,
            self.follow_ups_table,
            self.helped_table,
            self.goals_table,
            self.projects_table,
            self.lead_time_table,
        ]
        return next((t for t in tables if t.name == name), None)


def _day(meeting: Meeting) -> str:
    return formats.date_format(timezone.localtime(meeting.starts_at), "SHORT_DATE_FORMAT")


def insight_meetings(*, group, period: str, today) -> list[Meeting]:
    """The meetings a period covers, oldest first: held or due within 45 days, never a
    cancelled one."""
    held = Meeting.objects.filter(
        group=group, starts_at__lte=timezone.now() + timedelta(days=45)
    ).exclude(status=MeetingStatus.CANCELLED)
    if period == Period.YEAR:
        new_year = datetime.combine(date(today.year, 1, 1), time.min)
        held = held.filter(starts_at__gte=timezone.make_aware(new_year))
    elif period != Period.ALL:
        return list(held.order_by("-starts_at")[:INSIGHT_MEETINGS])[::-1]
    return list(held.order_by("starts_at"))


def group_insights(*, group, period: str = Period.LATEST, today=None) -> InsightsPage:
    """Everything the insights page draws for the meetings of `period`, in the same
    number of queries at any size: every section counts only what those meetings
    brought (their post-its, ideas, links, follow-ups and micro-projects)."""
    today = today or timezone.localdate()
    meetings = insight_meetings(group=group, period=period, today=today)
    departments = list(group.departments.order_by("position", "name"))
    meeting_ids = [m.pk for m in meetings]
    days = [_day(m) for m in meetings]

    # Post-its per department per meeting.
    counts = {
        (row["meeting_id"], row["department_id"]): row["n"]
        for row in Topic.objects.filter(
            meeting_id__in=meeting_ids, status__in=VISIBLE_TOPIC_STATUSES
        )
        .values("meeting_id", "department_id")
        .annotate(n=Count("id"))
    }
    present = [d for d in departments if any(counts.get((m, d.pk)) for m in meeting_ids)]
    topics_table = Table(
        "topics",
        _("Post-its per department and meeting"),
        [_("Meeting")] + [d.name for d in present] + [_("Total")],
        [
            [day]
            + [counts.get((m.pk, d.pk), 0) for d in present]
            + [sum(counts.get((m.pk, d.pk), 0) for d in departments)]
            for m, day in zip(meetings, days, strict=True)
        ],
    )
    topics_chart = charts.bar_chart(
        categories=days,
        series=[
            (d.short_name, f"dept-{d.colour}", [counts.get((m, d.pk), 0) for m in meeting_ids])
            for d in present
        ],
        stacked=True,
    )

    # Follow-ups of each meeting: opened, done, overdue today.
    follow = {
        row["meeting_id"]: row
        for row in FollowUp.objects.filter(meeting_id__in=meeting_ids)
        .values("meeting_id")
        .annotate(
            opened=Count("id"),
            done=Count("id", filter=Q(status=FollowUpStatus.DONE)),
            overdue=Count("id", filter=Q(status=FollowUpStatus.OPEN, due_date__lt=today)),
        )
    }
    empty = {"opened": 0, "done": 0, "overdue": 0}
    per_meeting = [follow.get(m, empty) for m in meeting_ids]
    follow_ups_table = Table(
        "follow_ups",
        _("Follow-ups from each meeting: opened, done and overdue today"),
        [_("Meeting"), _("Opened"), _("Done"), _("Overdue")],
        [
            [day, r["opened"], r["done"], r["overdue"]]
            for day, r in zip(days, per_meeting, strict=True)
        ],
    )
    follow_ups_chart = charts.bar_chart(
        categories=days,
        series=[
            (_("Opened"), "series-opened", [r["opened"] for r in per_meeting]),
            (_("Done"), "series-done", [r["done"] for r in per_meeting]),
            (_("Overdue"), "series-overdue", [r["overdue"] for r in per_meeting]),
        ],
        stacked=False,
    )

    # Who helped whom: ideas to another department's post-it, and links between them.
    index = {d.pk: i for i, d in enumerate(departments)}
    weights: dict[tuple[int, int], int] = {}
    ideas = (
        Contribution.objects.filter(
            topic__meeting_id__in=meeting_ids,
            topic__status__in=VISIBLE_TOPIC_STATUSES,
            department__isnull=False,
        )
        .exclude(department=F("topic__department"))
        .values("department_id", "topic__department_id")
        .annotate(n=Count("id"))
    )
    for row in ideas:
        key = (index[row["department_id"]], index[row["topic__department_id"]])
        weights[key] = weights.get(key, 0) + row["n"]
    links = (
        TopicLink.objects.filter(from_topic__meeting_id__in=meeting_ids)
        .exclude(from_topic__department=F("to_topic__department"))
        .values("from_topic__department_id", "to_topic__department_id")
        .annotate(n=Count("id"))
    )
    for row in links:
        key = (index[row["from_topic__department_id"]], index[row["to_topic__department_id"]])
        weights[key] = weights.get(key, 0) + row["n"]
    helped_table = Table(
        "helped",
        _(
            "Who helped whom: ideas and similar-challenge links from the row's department "
            "to the column's"
        ),
        [_("From \\ to")] + [d.short_name for d in departments],
        [
            [d.name] + [weights.get((i, j), 0) for j in range(len(departments))]
            for i, d in enumerate(departments)
        ],
    )
    helped_network = charts.network(
        names=[(d.short_name, f"dept-{d.colour}") for d in departments], weights=weights
    )

    # Strategy goals: the challenges raised for each, and the micro-projects serving it.
    # Per goal: how many post-its and from which departments (one aggregate), and the
    # latest few post-its to name (a window, so a goal with a thousand stays cheap).
    # Archived goals stay: what they tagged still happened.
    goals = list(
        StrategyGoal.objects.filter(group=group).order_by(
            F("archived_at").asc(nulls_first=True), "position", "title"
        )
    )
    served = Topic.goals.through.objects.filter(
        strategygoal__group=group,
        topic__meeting_id__in=meeting_ids,
        topic__status__in=VISIBLE_TOPIC_STATUSES,
    )
    reach: dict[int, tuple[int, set[str]]] = {g.pk: (0, set()) for g in goals}
    for row in served.values("strategygoal_id", "topic__department__short_name").annotate(
        n=Count("id")
    ):
        count, names = reach[row["strategygoal_id"]]
        reach[row["strategygoal_id"]] = (
            count + row["n"],
            names | {row["topic__department__short_name"]},
        )
    latest: dict[int, list[Topic]] = {g.pk: [] for g in goals}
    for tag in (
        served.annotate(
            place=Window(
                RowNumber(),
                partition_by=F("strategygoal_id"),
                order_by=[F("topic__meeting__starts_at").desc(), F("topic__title").asc()],
            )
        )
        .filter(place__lte=GOAL_LATEST)
        .select_related("topic__department", "topic__meeting")
        .order_by("strategygoal_id", "place")
    ):
        latest[tag.strategygoal_id].append(tag.topic)
    # A micro-project serves the goals it is tagged with; untagged, it serves the goals
    # of the post-it it was born from (docs/architecture.md). One aggregate each way.
    done = MicroProjectStatus.DONE
    projects_per_goal: dict[int, list[int]] = {g.pk: [0, 0] for g in goals}
    direct = (
        MicroProject.goals.through.objects.filter(
            strategygoal__group=group, microproject__topic__meeting_id__in=meeting_ids
        )
        .values("strategygoal_id")
        .annotate(
            n=Count("microproject_id", distinct=True),
            done=Count("microproject_id", distinct=True, filter=Q(microproject__status=done)),
        )
    )
    inherited = (
        served.filter(
            topic__micro_projects__isnull=False, topic__micro_projects__goals__isnull=True
        )
        .values("strategygoal_id")
        .annotate(
            n=Count("topic__micro_projects", distinct=True),
            done=Count(
                "topic__micro_projects",
                distinct=True,
                filter=Q(topic__micro_projects__status=done),
            ),
        )
    )
    for row in [*direct, *inherited]:
        counts = projects_per_goal[row["strategygoal_id"]]
        counts[0] += row["n"]
        counts[1] += row["done"]
    goal_rows = [
        GoalRow(
            goal=g,
            topics=latest[g.pk],
            count=reach[g.pk][0],
            projects=projects_per_goal[g.pk][0],
            projects_done=projects_per_goal[g.pk][1],
        )
        for g in goals
    ]
    names = [_("%(goal)s (archived)") % {"goal": g.title} if g.archived else g.title for g in goals]
    goals_table = Table(
        "goals",
        _("Challenges raised and micro-projects serving each strategy goal"),
        [
            _("Strategy goal"),
            _("Post-its"),
            _("Departments"),
            _("Micro-projects"),
            _("Of them done"),
        ],
        [
            [
                name,
                row.count,
                ", ".join(sorted(reach[row.goal.pk][1])),
                row.projects,
                row.projects_done,
            ]
            for name, row in zip(names, goal_rows, strict=True)
        ],
    )
    goals_chart = charts.hbar_chart(
        categories=names,
        series=[
            (_("Post-its"), "series-opened", [row.count for row in goal_rows]),
            (_("Micro-projects"), "series-done", [row.projects for row in goal_rows]),
        ],
    )

    # Micro-projects by status, and how long a challenge waited for its first one.
    projects = MicroProject.objects.filter(topic__meeting_id__in=meeting_ids)
    by_status = {
        row["status"]: row["n"] for row in projects.values("status").annotate(n=Count("id"))
    }
    statuses = list(MicroProjectStatus)
    projects_table = Table(
        "micro_projects",
        _("Micro-projects by status"),
        [_("Status"), _("Micro-projects")],
        [[status.label, by_status.get(status.value, 0)] for status in statuses],
    )
    projects_chart = charts.bar_chart(
        categories=[str(status.label) for status in statuses],
        series=[
            (_("Micro-projects"), "series-opened", [by_status.get(s.value, 0) for s in statuses])
        ],
        stacked=True,
    )
    waits: dict[int, list[int]] = {d.pk: [] for d in departments}
    for row in (
        Topic.objects.filter(meeting_id__in=meeting_ids, micro_projects__isnull=False)
        .values("pk", "department_id", "submitted_at", "created_at")
        .annotate(first=Min("micro_projects__created_at"))
    ):
        raised = row["submitted_at"] or row["created_at"]
        waits[row["department_id"]].append(max(0, (row["first"] - raised).days))
    lead_time_table = Table(
        "lead_time",
        _("Days from post-it to its first micro-project"),
        [_("Department"), _("Post-its with a micro-project"), _("Median days"), _("Longest")],
        [
            [
                d.name,
                len(waits[d.pk]),
                int(statistics.median(waits[d.pk])) if waits[d.pk] else "–",
                max(waits[d.pk]) if waits[d.pk] else "–",
            ]
            for d in departments
        ],
    )
    return InsightsPage(
        group=group,
        period=period,
        meetings=meetings,
        departments=departments,
        topics_table=topics_table,
        topics_chart=topics_chart,
        follow_ups_table=follow_ups_table,
        follow_ups_chart=follow_ups_chart,
        helped_table=helped_table,
        helped_network=helped_network,
        goals=goal_rows,
        goals_table=goals_table,
        goals_chart=goals_chart,
        projects_table=projects_table,
        projects_chart=projects_chart,
        lead_time_table=lead_time_table,
    )


@dataclass
class GoalTagging:
    meeting: Meeting
    topics: list[Topic]
    goals: list[StrategyGoal]
    tagged: set[str]  # "topic code:goal code"


def goal_tagging(*, meeting: Meeting) -> GoalTagging:
    """The meeting's post-its, the goals to tag them with (the group's active goals, and
    archived ones some post-it here still carries), and which post-it serves which."""
    topics = list(
        meeting.topics.filter(status__in=VISIBLE_TOPIC_STATUSES)
        .select_related("department")
        .order_by("position", "created_at")
    )
    pairs = list(
        Topic.goals.through.objects.filter(
            topic__meeting=meeting, topic__status__in=VISIBLE_TOPIC_STATUSES
        ).values_list("topic__code", "strategygoal_id", "strategygoal__code")
    )
    goals = list(
        StrategyGoal.objects.filter(group_id=meeting.group_id)
        .filter(Q(archived_at__isnull=True) | Q(pk__in={pk for _t, pk, _g in pairs}))
        .order_by(F("archived_at").asc(nulls_first=True), "position", "title")
    )
    tagged = {f"{topic}:{goal}" for topic, _pk, goal in pairs}
    return GoalTagging(meeting=meeting, topics=topics, goals=goals, tagged=tagged)
