"""Strategy goals in the product's own pages (add, rename, describe, reorder, archive,
restore), the insights per goal, and the insights' period (issue 14, points 4-6)."""

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from groups.models import StrategyGoal
from meetings.models import MeetingStatus
from tests.factories import (
    DepartmentFactory,
    FollowUpFactory,
    MeetingFactory,
    StrategyGoalFactory,
    TopicFactory,
    UserFactory,
)
from topics.models import MicroProject, Solution

pytestmark = pytest.mark.django_db

HOSTILE = "<script>alert(1)</script> Åsa & Öberg 🎉"
PROCESSES = "Enhetliga och standardiserade processer och verktyg"


def _goals_url(world):
    return reverse("insights:goals", args=[world.group.code])


def _titles(world, archived=False):
    return list(
        StrategyGoal.objects.filter(group=world.group, archived_at__isnull=not archived)
        .order_by("position", "title")
        .values_list("title", flat=True)
    )


# --- Managing the goals -----------------------------------------------------------------


def test_a_moderator_adds_renames_and_describes_goals(client, world):
    client.force_login(world.moderator)
    url = _goals_url(world)
    assert client.post(url, {"action": "add", "new-title": PROCESSES}).status_code == 302
    assert client.post(url, {"action": "add", "new-title": "Datadrivna beslut"}).status_code == 302
    assert _titles(world) == [PROCESSES, "Datadrivna beslut"]
    goal = StrategyGoal.objects.get(title=PROCESSES)
    response = client.post(
        url,
        {
            "action": "edit",
            "goal": goal.code,
            f"{goal.code}-title": "  Gemensamma verktyg  ",
            f"{goal.code}-description": "Samma system för samma sak.",
        },
    )
    assert response.status_code == 302
    goal.refresh_from_db()
    assert (goal.title, goal.description) == ("Gemensamma verktyg", "Samma system för samma sak.")
    html = client.get(url).content.decode()
    assert "Gemensamma verktyg" in html and "Samma system för samma sak." in html


@pytest.mark.parametrize(
    ("title", "error"),
    [
        ("", "Detta fält måste fyllas i."),
        ("   ", "Detta fält måste fyllas i."),
        ("x" * 201, "Säkerställ att detta värde har som mest 200 tecken (den har 201)."),
        (PROCESSES.upper(), "Gruppen har redan det här målet."),
    ],
    ids=["empty", "blank", "long", "duplicate"],
)
def test_a_bad_goal_gets_a_field_error_and_nothing_changes(client, world, title, error):
    StrategyGoalFactory(group=world.group, title=PROCESSES)
    other = StrategyGoalFactory(group=world.group, title="Annat mål")
    client.force_login(world.moderator)
    url = _goals_url(world)
    added = client.post(url, {"action": "add", "new-title": title})
    assert added.status_code == 400
    assert error in added.content.decode()
    edited = client.post(url, {"action": "edit", "goal": other.code, f"{other.code}-title": title})
    assert edited.status_code == 400
    assert error in edited.content.decode()
    assert _titles(world) == sorted([PROCESSES, "Annat mål"], key=lambda t: t != PROCESSES)


def test_hostile_text_is_stored_as_text_and_shown_escaped(client, world):
    client.force_login(world.moderator)
    url = _goals_url(world)
    client.post(url, {"action": "add", "new-title": HOSTILE, "new-description": HOSTILE})
    assert _titles(world) == [HOSTILE]
    html = client.get(url).content.decode()
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Åsa &amp; Öberg 🎉" in html


def test_up_and_down_reorder_the_goals(client, world):
    a, b, c = (StrategyGoalFactory(group=world.group, title=t) for t in ["A", "B", "C"])
    client.force_login(world.moderator)
    url = _goals_url(world)
    assert client.post(url, {"action": "down", "goal": a.code}).status_code == 302
    assert _titles(world) == ["B", "A", "C"]
    client.post(url, {"action": "up", "goal": c.code})
    assert _titles(world) == ["B", "C", "A"]
    client.post(url, {"action": "up", "goal": b.code})  # already first: nothing moves
    assert _titles(world) == ["B", "C", "A"]
    html = client.get(url).content.decode()
    assert html.index(">B</h3>") < html.index(">C</h3>") < html.index(">A</h3>")


def test_archiving_asks_first_keeps_the_tags_and_restoring_brings_it_back(client, world):
    goal = StrategyGoalFactory(group=world.group, title=PROCESSES)
    StrategyGoalFactory(group=world.group, title="Datadrivna beslut")
    topic = TopicFactory(meeting=world.meeting, department=world.hr)
    topic.goals.add(goal)
    client.force_login(world.moderator)
    url = _goals_url(world)
    confirm = client.get(url, {"archive": goal.code}).content.decode()
    assert f"Arkivera ”{PROCESSES}”?" in confirm
    assert 'name="action" value="archive"' in confirm
    assert "Arkivera ”" not in client.get(url).content.decode()
    response = client.post(url, {"action": "archive", "goal": goal.code})
    assert response.status_code == 302
    goal.refresh_from_db()
    assert goal.archived
    assert list(topic.goals.all()) == [goal]
    assert _titles(world) == ["Datadrivna beslut"]
    html = client.get(url).content.decode()
    assert "Arkiverade mål" in html
    assert "Lappar: 1 · lösningar: 0 · mikroprojekt: 0" in html
    # Not offered for new tags: not on another department's post-it form.
    it_head = UserFactory()
    world.it.heads.add(it_head)
    client.force_login(it_head)
    postit = client.get(reverse("topics:postit", args=[world.meeting.code])).content.decode()
    assert PROCESSES not in postit and "Datadrivna beslut" in postit
    client.force_login(world.moderator)
    assert client.post(url, {"action": "up", "goal": goal.code}).status_code == 302
    client.post(url, {"action": "restore", "goal": goal.code})
    goal.refresh_from_db()
    assert not goal.archived
    assert _titles(world) == ["Datadrivna beslut", PROCESSES]


@pytest.mark.parametrize(
    ("action", "goal"),
    [("edit", "nope"), ("archive", "theirs"), ("restore", "theirs"), ("up", ""), ("zap", "mine")],
)
def test_an_unknown_goal_or_action_is_404_and_changes_nothing(client, world, action, goal):
    mine = StrategyGoalFactory(group=world.group, title="Mitt mål")
    theirs = StrategyGoalFactory(group=world.other_group, title="Deras mål")
    code = {"mine": mine.code, "theirs": theirs.code}.get(goal, goal)
    client.force_login(world.moderator)
    response = client.post(
        _goals_url(world), {"action": action, "goal": code, f"{code}-title": "Kapat"}
    )
    assert response.status_code == 404
    assert set(StrategyGoal.objects.values_list("title", "archived_at")) == {
        ("Mitt mål", None),
        ("Deras mål", None),
    }


@pytest.mark.parametrize("who", ["head", "participant", "it_member", "outsider", "other"])
@pytest.mark.parametrize("action", ["edit", "up", "archive", "restore"])
def test_only_the_groups_moderators_manage_its_goals(client, world, who, action):
    a = StrategyGoalFactory(group=world.group, title="A")
    StrategyGoalFactory(group=world.group, title="B")
    if action == "restore":
        StrategyGoal.objects.filter(pk=a.pk).update(archived_at=timezone.now())
    before = list(StrategyGoal.objects.values_list("title", "position", "archived_at"))
    if who == "other":
        user = UserFactory()
        world.other_group.moderators.add(user)
    else:
        user = getattr(world, who)
    client.force_login(user)
    url = _goals_url(world)
    response = client.post(url, {"action": action, "goal": a.code, f"{a.code}-title": "Kapat"})
    assert response.status_code == (404 if who in ("outsider", "other") else 403)
    assert client.get(url, {"archive": a.code}).status_code == response.status_code
    assert "Kapat" not in response.content.decode()
    assert list(StrategyGoal.objects.values_list("title", "position", "archived_at")) == before


@pytest.mark.parametrize("size", [2, 12])
def test_the_goals_page_query_count_is_constant(client, world, django_assert_num_queries, size):
    for n in range(size):
        goal = StrategyGoalFactory(group=world.group, title=f"Mål {n}")
        TopicFactory(meeting=world.meeting, department=world.hr).goals.add(goal)
        if n % 3 == 0:
            goal.archived_at = timezone.now()
            goal.save()
    client.force_login(world.moderator)
    with django_assert_num_queries(4):
        response = client.get(_goals_url(world), {"archive": "x"})
    page = response.context["page"]
    assert len(page.goals) + len(page.archived) == size


# --- The insights per goal ----------------------------------------------------------------


@pytest.fixture
def served(world):
    """Two goals; a post-it for each; micro-projects tagged and untagged."""
    held = MeetingFactory(
        group=world.group,
        starts_at=timezone.now() - timedelta(days=30),
        status=MeetingStatus.SUMMARY_SENT,
    )
    processes = StrategyGoalFactory(group=world.group, title=PROCESSES, position=0)
    data = StrategyGoalFactory(group=world.group, title="Datadrivna beslut", position=1)
    akuten = TopicFactory(
        meeting=held, department=world.hr, title="Bemanning av akuten", status="discussed"
    )
    akuten.goals.add(processes)
    webb = TopicFactory(meeting=held, department=world.it, title="Webbstatistik")
    webb.goals.add(processes, data)

    def project(topic, title, status="proposed"):
        solution = Solution.objects.create(topic=topic, title=title, effort="M")
        return MicroProject.objects.create(
            solution=solution, topic=topic, title=title, owner=world.it_member, status=status
        )

    # Untagged: serves its post-it's goal (processes).
    project(akuten, "Prognos", status="done")
    # Tagged with data only: serves data, not its post-it's processes.
    project(akuten, "Dashboard").goals.add(data)
    # Untagged on a post-it with two goals: serves both.
    project(webb, "Gemensam mätning")
    return {"held": held, "processes": processes, "data": data}


def _goal_rows(client, world, **query):
    body = client.get(
        reverse("insights:insights", args=[world.group.code]), {"csv": "goals", **query}
    ).content.decode("utf-8")
    return list(csv.reader(io.StringIO(body[1:]), delimiter=";"))


def test_a_micro_project_serves_its_own_goals_or_else_its_post_its(client, world, served):
    client.force_login(world.moderator)
    rows = _goal_rows(client, world)
    assert rows[1:] == [
        [PROCESSES, "2", "HR, IT", "2", "1"],  # Prognos (done) and Gemensam mätning
        ["Datadrivna beslut", "1", "IT", "2", "0"],  # Dashboard and Gemensam mätning
    ]
    html = client.get(reverse("insights:insights", args=[world.group.code])).content.decode()
    assert "2 mikroprojekt tjänar det (1 klara)." in html
    assert "Lappar och mikroprojekt per strategiskt mål" in html
    assert f"{PROCESSES}, Mikroprojekt: 2" in html  # a bar's title in the SVG


def test_an_archived_goal_still_counts_and_says_so(client, world, served):
    served["data"].archived_at = timezone.now()
    served["data"].save()
    client.force_login(world.it_member)
    rows = _goal_rows(client, world)
    assert rows[2] == ["Datadrivna beslut (arkiverat)", "1", "IT", "2", "0"]


# --- The period ---------------------------------------------------------------------------


@pytest.fixture
def years(world):
    """A meeting in January two years back, one this year (if the year has room), one
    a month ago, each with a post-it tagged with the goal."""
    goal = StrategyGoalFactory(group=world.group, title=PROCESSES)
    now = timezone.localtime()
    dates = [
        now.replace(year=now.year - 2, month=1, day=15, hour=14),
        now - timedelta(days=30),
        now - timedelta(days=400),
    ]
    for when in dates:
        meeting = MeetingFactory(
            group=world.group, starts_at=when, status=MeetingStatus.SUMMARY_SENT
        )
        TopicFactory(meeting=meeting, department=world.hr, status="discussed").goals.add(goal)
    # Twelve more recent meetings push the two old ones out of "the last 12".
    for n in range(12):
        MeetingFactory(
            group=world.group,
            starts_at=now - timedelta(days=n + 1),
            status=MeetingStatus.SUMMARY_SENT,
        )
    return dates


def _meetings_this_year(dates):
    now = timezone.localtime()
    return sum(1 for d in dates if d.year == now.year)


def test_the_period_chooses_the_meetings_every_section_counts(client, world, years):
    client.force_login(world.moderator)
    url = reverse("insights:insights", args=[world.group.code])
    latest = client.get(url)
    assert latest.status_code == 200
    assert len(latest.context["page"].meetings) == 12
    everything = client.get(url, {"period": "all"})
    # 3 with post-its, 12 more, and the world's own coming meeting
    assert len(everything.context["page"].meetings) == 16
    assert _goal_rows(client, world, period="all")[1][1] == "3"
    this_year = client.get(url, {"period": "year"}).context["page"]
    assert all(m.starts_at.year == timezone.localtime().year for m in this_year.meetings)
    assert _goal_rows(client, world, period="year")[1][1] == str(
        _meetings_this_year(years[1:2]) + _meetings_this_year(years[2:])
    )
    assert 'href="?csv=goals&amp;period=all"' in everything.content.decode()
    assert 'value="all" selected' in everything.content.decode()


@pytest.mark.parametrize("period", ["nope", HOSTILE, "'; DROP TABLE x; --"])
def test_an_unknown_period_is_a_field_error_and_the_default_is_shown(client, world, period):
    client.force_login(world.moderator)
    response = client.get(reverse("insights:insights", args=[world.group.code]), {"period": period})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Välj ett giltigt alternativ." in html
    assert "<script>alert(1)" not in html
    assert response.context["page"].period == "latest"


@pytest.mark.parametrize("period", ["latest", "year", "all"])
@pytest.mark.parametrize("size", [3, 30])
def test_insights_query_count_is_constant_for_every_period(
    client, world, django_assert_num_queries, size, period
):
    departments = [DepartmentFactory(group=world.group) for _ in range(3)]
    goal = StrategyGoalFactory(group=world.group, title=PROCESSES)
    for n in range(size):
        meeting = MeetingFactory(
            group=world.group,
            starts_at=timezone.now() - timedelta(days=7 * (n + 1)),
            status=MeetingStatus.SUMMARY_SENT,
        )
        topic = TopicFactory(meeting=meeting, department=departments[n % 3])
        topic.goals.add(goal)
        FollowUpFactory(meeting=meeting, topic=topic)
        solution = Solution.objects.create(topic=topic, title=f"L {n}", effort="S")
        project = MicroProject.objects.create(
            solution=solution, topic=topic, title=f"P {n}", owner=world.it_member
        )
        if n % 2:
            project.goals.add(goal)
    client.force_login(world.moderator)
    url = reverse("insights:insights", args=[world.group.code])
    with django_assert_num_queries(16):
        response = client.get(url, {"period": period})
    assert response.status_code == 200
    with django_assert_num_queries(16):
        assert client.get(url, {"period": period, "csv": "goals"}).status_code == 200


def test_the_it_role_reads_insights_and_a_head_does_not(client, world, served):
    client.force_login(world.it_member)
    url = reverse("insights:insights", args=[world.group.code])
    assert client.get(url, {"period": "all"}).status_code == 200
    client.force_login(world.head)
    response = client.get(url, {"period": "all", "csv": "goals"})
    assert response.status_code == 403
    assert PROCESSES not in response.content.decode()


def test_a_long_period_labels_at_most_twelve_bars_and_every_bar_keeps_its_name():
    from insights.charts import bar_chart, hbar_chart

    days = [f"dag {n}" for n in range(200)]
    chart = bar_chart(categories=days, series=[("Lappar", "x", [1] * 200)], stacked=True)
    assert [label.text for label in chart.labels] == [f"dag {n}" for n in range(0, 200, 17)]
    assert len(chart.rects) == 200 and chart.rects[199].label == "dag 199, Lappar: 1"
    short = bar_chart(categories=days[:12], series=[("Lappar", "x", [1] * 12)], stacked=True)
    assert len(short.labels) == 12
    goals = hbar_chart(categories=["Kort", PROCESSES], series=[("Lappar", "x", [2, 1])])
    assert [label.text for label in goals.labels] == [
        "Kort",
        "Enhetliga och standardiserade pro…",
    ]
    assert goals.rects[1].label == f"{PROCESSES}, Lappar: 1"
