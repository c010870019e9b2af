"""Insights for moderators, strategy goals and their tags."""

import csv
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from groups.models import StrategyGoal
from meetings.models import MeetingStatus
from tests.factories import (
    ContributionFactory,
    DepartmentFactory,
    FollowUpFactory,
    MeetingFactory,
    TopicFactory,
    TopicLinkFactory,
)
from topics.models import Topic, TopicStatus

pytestmark = pytest.mark.django_db

GOAL = "Enhetliga och standardiserade processer och verktyg"


@pytest.fixture
def history(world):
    held = MeetingFactory(
        group=world.group,
        starts_at=timezone.now() - timezone.timedelta(days=30),
        status=MeetingStatus.SUMMARY_SENT,
    )
    akuten = TopicFactory(
        meeting=held, department=world.hr, title="Bemanning av akuten", status=TopicStatus.DISCUSSED
    )
    webb = TopicFactory(
        meeting=held, department=world.it, title="Webbstatistiken", status=TopicStatus.DISCUSSED
    )
    TopicFactory(
        meeting=held,
        department=world.it,
        title="Hemligt utkast",
        status=TopicStatus.DRAFT,
        submitted_at=None,
    )
    ContributionFactory(topic=akuten, department=world.it, text="Prognos från webben")
    ContributionFactory(topic=akuten, department=world.it, text="Och en till")
    TopicLinkFactory(from_topic=webb, to_topic=akuten)
    FollowUpFactory(meeting=held, topic=akuten, status="done")
    FollowUpFactory(
        meeting=held, topic=akuten, due_date=timezone.localdate() - timezone.timedelta(days=3)
    )
    goal = StrategyGoal.objects.create(group=world.group, title=GOAL)
    akuten.goals.add(goal)
    return {"held": held, "akuten": akuten, "goal": goal}


def _url(world, **query):
    return reverse("insights:insights", args=[world.group.code]), query


def test_the_insights_page_draws_each_chart_with_its_table(client, world, history):
    client.force_login(world.moderator)
    url, _query = _url(world)
    html = client.get(url).content.decode()
    assert html.count("<svg") == 5
    assert html.count('role="img"') == 5
    assert html.count("<table") == 6
    assert "Hemligt utkast" not in html
    assert 'href="?csv=topics&amp;period=latest"' in html
    assert 'href="?csv=helped&amp;period=latest"' in html
    assert GOAL in html and "Bemanning av akuten" in html


def test_the_tables_count_what_happened(client, world, history):
    client.force_login(world.moderator)
    url, _query = _url(world)
    rows = {}
    for name in ["topics", "follow_ups", "helped", "goals"]:
        body = client.get(url, {"csv": name}).content.decode("utf-8")
        assert body.startswith("\ufeff")
        rows[name] = list(csv.reader(io.StringIO(body[1:]), delimiter=";"))
    assert rows["topics"][0] == ["Möte", "HR", "IT", "Totalt"]
    # Oldest meeting first: the one held a month ago, then the coming one.
    assert [row[1:] for row in rows["topics"][1:]] == [["1", "1", "2"], ["0", "0", "0"]]
    assert [row[1:] for row in rows["follow_ups"][1:]] == [["2", "1", "1"], ["0", "0", "0"]]
    assert rows["topics"][1][0] == rows["follow_ups"][1][0]
    assert rows["helped"][0] == ["Från \\ till", "HR", "IT"]
    assert rows["helped"][1] == ["HR", "0", "0"]
    assert rows["helped"][2] == ["IT", "3", "0"]  # two ideas and one link to HR
    assert rows["goals"][0] == [
        "Strategiskt mål",
        "Lappar",
        "Avdelningar",
        "Mikroprojekt",
        "Varav klara",
    ]
    assert rows["goals"][1] == [GOAL, "1", "HR", "0", "0"]


def test_an_unknown_table_is_404(client, world, history):
    client.force_login(world.moderator)
    url, _query = _url(world)
    assert client.get(url, {"csv": "nope"}).status_code == 404


@pytest.mark.parametrize("who", ["head", "participant", "outsider"])
def test_only_moderators_see_insights(client, world, history, who):
    client.force_login(getattr(world, who))
    url, _query = _url(world)
    response = client.get(url, {"csv": "topics"})
    assert response.status_code == (404 if who == "outsider" else 403)
    assert "akuten" not in response.content.decode()


@pytest.mark.parametrize("size", [3, 30])
def test_insights_query_count_is_constant(client, world, django_assert_num_queries, size):
    departments = [DepartmentFactory(group=world.group) for _ in range(3)]
    goal = StrategyGoal.objects.create(group=world.group, title=GOAL)
    for n in range(size):
        meeting = MeetingFactory(
            group=world.group,
            starts_at=timezone.now() - timezone.timedelta(days=30 * (n % 5 + 1)),
            status=MeetingStatus.SUMMARY_SENT,
        )
        topic = TopicFactory(meeting=meeting, department=departments[n % 3])
        ContributionFactory(topic=topic, department=departments[(n + 1) % 3])
        FollowUpFactory(meeting=meeting, topic=topic)
        topic.goals.add(goal)
    client.force_login(world.moderator)
    # session, user, group and role, meetings, departments, post-its, follow-ups, ideas,
    # links, goals, their reach, their latest post-its, their micro-projects (tagged,
    # and through their post-its), micro-projects by status, days to the first
    with django_assert_num_queries(16):
        response = client.get(reverse("insights:insights", args=[world.group.code]))
    assert response.status_code == 200


def test_a_moderator_tags_the_meetings_post_its_and_only_those(client, world, history):
    mine = TopicFactory(meeting=world.meeting, department=world.hr, title="Ny lapp")
    theirs = StrategyGoal.objects.create(group=world.other_group, title="Deras mål")
    goal = history["goal"]
    client.force_login(world.moderator)
    url = reverse("insights:meeting_goals", args=[world.meeting.code])
    assert "Ny lapp" in client.get(url).content.decode()
    client.post(
        url,
        {
            "tag": [
                f"{mine.code}:{goal.code}",
                f"{mine.code}:{theirs.code}",
                f"{history['akuten'].code}:{goal.code}",
            ]
        },
    )
    tags = Topic.goals.through.objects
    assert set(tags.values_list("topic__title", "strategygoal__title")) == {
        ("Ny lapp", GOAL),
        ("Bemanning av akuten", GOAL),  # another meeting's tag stays as it was
    }
    client.post(url, {})
    assert list(tags.values_list("topic__title", flat=True)) == ["Bemanning av akuten"]


@pytest.mark.parametrize("size", [2, 20])
def test_goal_pages_query_counts_are_constant(client, world, django_assert_num_queries, size):
    for n in range(size):
        goal = StrategyGoal.objects.create(group=world.group, title=f"Mål {n}")
        topic = TopicFactory(meeting=world.meeting, department=world.hr)
        topic.goals.add(goal)
    client.force_login(world.moderator)
    with django_assert_num_queries(4):
        client.get(reverse("insights:goals", args=[world.group.code]))
    with django_assert_num_queries(7):
        client.get(reverse("insights:meeting_goals", args=[world.meeting.code]))
