"""Micro-projects (issue 11) in the radar, the search and the insights: never before the
IT perspective is published, except to those who work on it."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from meetings.models import MeetingStatus
from tests.factories import MeetingFactory, TopicFactory
from topics.models import ITPerspective, MicroProject, Solution, TopicStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(world):
    held = MeetingFactory(
        group=world.group,
        starts_at=timezone.now() - timedelta(days=30),
        status=MeetingStatus.SUMMARY_SENT,
    )
    topic = TopicFactory(
        meeting=held,
        department=world.hr,
        title="Bemanning av akuten",
        status=TopicStatus.DISCUSSED,
        submitted_at=held.starts_at - timedelta(days=3),
    )
    solution = Solution.objects.create(topic=topic, title="Prognos från webbtrafiken", effort="M")
    return MicroProject.objects.create(
        solution=solution, topic=topic, title="Pilot: bemanningsprognos", owner=world.it_member
    )


def _search(client, world, q):
    return client.get(reverse("insights:search", args=[world.group.code]), {"q": q})


def test_a_micro_project_is_found_only_once_its_it_perspective_is_published(client, world, project):
    client.force_login(world.it_member)
    html = _search(client, world, "bemanningsprognos").content.decode()
    assert "Mikroprojekt" in html and project.get_absolute_url() in html
    client.force_login(world.head)
    assert "Pilot" not in _search(client, world, "bemanningsprognos").content.decode()
    radar = client.post(
        reverse("insights:postit_radar", args=[world.meeting.code]),
        {"department": world.hr.code, "title": "bemanning på akuten"},
    ).content.decode()
    assert "Bemanning av akuten" in radar
    assert "mikroprojekt" not in radar
    ITPerspective.objects.create(meeting=project.topic.meeting, published_at=timezone.now())
    assert (
        "Pilot: <mark>bemanningsprognos</mark>"
        in _search(client, world, "bemanningsprognos").content.decode()
    )
    radar = client.post(
        reverse("insights:postit_radar", args=[world.meeting.code]),
        {"department": world.hr.code, "title": "bemanning på akuten"},
    ).content.decode()
    assert "ledde till ett mikroprojekt" in radar


def test_insights_count_micro_projects_and_the_days_to_the_first(client, world, project):
    MicroProject.objects.filter(pk=project.pk).update(
        created_at=project.topic.submitted_at + timedelta(days=12)
    )
    client.force_login(world.it_member)
    url = reverse("insights:insights", args=[world.group.code])
    statuses = client.get(url, {"csv": "micro_projects"}).content.decode("utf-8")
    assert "Föreslaget;1" in statuses or "Föreslagen;1" in statuses
    lead = client.get(url, {"csv": "lead_time"}).content.decode("utf-8")
    assert "HR;1;12;12" in lead


def test_heads_and_participants_get_no_insights(client, world, project):
    for who in (world.head, world.participant):
        client.force_login(who)
        response = client.get(reverse("insights:insights", args=[world.group.code]))
        assert response.status_code == 403
        assert "Pilot" not in response.content.decode()
