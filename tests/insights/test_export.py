"""A meeting's export: what its page shows, as CSV that Excel reads and as JSON."""

import csv
import io
import json

import pytest
from django.urls import reverse

from tests.factories import ContributionFactory, FollowUpFactory, TopicFactory
from topics.models import TopicStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def content(world):
    topic = TopicFactory(
        meeting=world.meeting,
        department=world.hr,
        author=world.head,
        title="Bemanning av akuten kvällstid 🚑",
        obstacle='=HYPERLINK("http://evil") åäö',
    )
    ContributionFactory(topic=topic, department=world.it, text='Prognos från webben; "citat"')
    FollowUpFactory(meeting=world.meeting, topic=topic, title="Pilot", owner=world.head)
    TopicFactory(
        meeting=world.meeting,
        department=world.it,
        title="IT:s hemliga utkast",
        status=TopicStatus.DRAFT,
        submitted_at=None,
    )
    return topic


def _rows(response):
    body = response.content.decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:]), delimiter=";"))


def test_csv_has_a_row_per_post_it_idea_and_follow_up_and_no_formulas(client, world, content):
    client.force_login(world.head)
    response = client.get(reverse("insights:export_csv", args=[world.meeting.code]))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="tvargrupp-')
    rows = _rows(response)
    assert rows[0][:4] == ["Typ", "Lapp", "Avdelning", "Rubrik"]
    assert [row[0] for row in rows[1:]] == ["Lapp", "Idé", "Uppföljning"]
    assert rows[1][3] == "Bemanning av akuten kvällstid 🚑"
    assert rows[1][7] == '\'=HYPERLINK("http://evil") åäö'
    assert rows[2][8] == 'Prognos från webben; "citat"'
    assert rows[3][10] == "Maria Lindqvist"
    assert "utkast" not in response.content.decode()


def test_json_carries_post_its_with_their_ideas_and_the_follow_ups(client, world, content):
    client.force_login(world.participant)
    response = client.get(reverse("insights:export_json", args=[world.meeting.code]))
    data = json.loads(response.content)
    assert data["meeting"]["code"] == world.meeting.code
    assert [t["title"] for t in data["post_its"]] == ["Bemanning av akuten kvällstid 🚑"]
    assert data["post_its"][0]["ideas"][0]["department"] == "IT"
    assert data["follow_ups"][0]["owner"] == {"name": "Maria Lindqvist", "email": "head@example.se"}
    assert "utkast" not in response.content.decode()


def test_before_the_meeting_the_export_hides_what_the_page_hides(client, world, content):
    world.group.allow_read_ahead = False
    world.group.save()
    client.force_login(world.head)
    response = client.get(reverse("insights:export_json", args=[world.meeting.code]))
    assert json.loads(response.content)["post_its"] == []
    client.force_login(world.moderator)
    response = client.get(reverse("insights:export_json", args=[world.meeting.code]))
    assert len(json.loads(response.content)["post_its"]) == 1


@pytest.mark.parametrize("fmt", ["export_csv", "export_json"])
def test_outsiders_get_nothing(client, world, content, fmt):
    client.force_login(world.outsider)
    response = client.get(reverse(f"insights:{fmt}", args=[world.meeting.code]))
    assert response.status_code == 404
    assert "akuten" not in response.content.decode()


@pytest.mark.parametrize("size", [2, 20])
def test_export_query_count_is_constant(client, world, django_assert_num_queries, size):
    for n in range(size):
        topic = TopicFactory(meeting=world.meeting, department=world.hr, title=f"Lapp {n}")
        ContributionFactory(topic=topic)
        FollowUpFactory(meeting=world.meeting, topic=topic)
    client.force_login(world.head)
    with django_assert_num_queries(16):
        response = client.get(reverse("insights:export_csv", args=[world.meeting.code]))
    assert len(_rows(response)) == 1 + 3 * size
