"""The group's search: ranked, highlighted as text, filtered, and only what the reader may read."""

import pytest
from django.urls import reverse
from django.utils import timezone

from meetings.models import MeetingStatus
from tests.factories import (
    AttendanceFactory,
    ContributionFactory,
    DepartmentFactory,
    FollowUpFactory,
    MeetingFactory,
    TopicFactory,
    UserFactory,
)
from tests.insights.test_similarity import HOSTILE
from topics.models import TopicStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def held(world):
    return MeetingFactory(
        group=world.group,
        starts_at=timezone.now() - timezone.timedelta(days=30),
        status=MeetingStatus.SUMMARY_SENT,
    )


@pytest.fixture
def history(world, held):
    topic = TopicFactory(
        meeting=held,
        department=world.hr,
        title="Bemanning av akuten kvällstid",
        background="Akuten har varierande antal besökare.",
        status=TopicStatus.DISCUSSED,
    )
    topic.notes = "Webbteamet har data om besöken på hälsosajten."
    topic.save()
    ContributionFactory(
        topic=topic, department=world.it, text="Prognos för bemanningen från webben"
    )
    FollowUpFactory(meeting=held, topic=topic, title="Pilot: bemanningsprognos")
    return topic


def _search(client, world, q, **filters):
    return client.get(reverse("insights:search", args=[world.group.code]), {"q": q, **filters})


def _hits(response):
    return response.content.decode().count('<li class="search-hit')


def test_one_search_finds_post_its_ideas_notes_and_follow_ups(client, world, history):
    client.force_login(world.head)
    response = _search(client, world, "bemanningen")
    html = response.content.decode()
    assert response.status_code == 200
    assert _hits(response) == 3
    assert "<mark>Bemanning</mark> av akuten kvällstid" in html  # the post-it
    assert "Prognos för <mark>bemanningen</mark> från webben" in html  # the idea
    assert "Pilot: <mark>bemanningsprognos</mark>" in html  # the follow-up
    assert "4 träffar." not in html and "3 träffar." in html
    webb = _search(client, world, "hälsosajten")
    assert "<mark>hälsosajten</mark>" in webb.content.decode()  # the notes
    assert f"#topic-{history.code}" in webb.content.decode()


def test_highlighting_never_turns_the_data_into_markup(client, world, held):
    TopicFactory(
        meeting=held,
        department=world.hr,
        title='<img src=x onerror="alert(1)"> bemanning',
        background="<script>alert('x')</script> bemanning & schema",
    )
    client.force_login(world.head)
    html = _search(client, world, "bemanning").content.decode()
    assert "<img" not in html and "<script>alert" not in html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt; <mark>bemanning</mark>" in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; <mark>bemanning</mark> &amp;" in html


def test_filters_narrow_by_department_meeting_and_kind(client, world, history, held):
    TopicFactory(meeting=world.meeting, department=world.it, title="Bemanning på IT")
    client.force_login(world.moderator)
    assert _hits(_search(client, world, "bemanning")) == 4
    assert _hits(_search(client, world, "bemanning", department=world.it.code)) == 2
    assert _hits(_search(client, world, "bemanning", meeting=held.code)) == 3
    assert _hits(_search(client, world, "bemanning", kind="topic")) == 2
    assert _hits(_search(client, world, "bemanning", kind="follow_up", meeting=held.code)) == 1
    unknown = _search(client, world, "bemanning", department="nope")
    assert unknown.status_code == 200
    assert "Välj ett giltigt alternativ" in unknown.content.decode()


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_searches_give_results_or_a_clear_no_matches(client, world, history, text):
    client.force_login(world.head)
    response = _search(client, world, text)
    assert response.status_code == 200
    assert "Inga träffar." in response.content.decode()


def test_a_head_never_finds_a_draft_another_group_or_what_is_not_yet_readable(client, world, held):
    TopicFactory(
        meeting=held,
        department=world.it,
        title="Bemanning utkast",
        status=TopicStatus.DRAFT,
        submitted_at=None,
    )
    withdrawn = TopicFactory(
        meeting=held, department=world.it, title="Bemanning återtagen", status=TopicStatus.WITHDRAWN
    )
    ContributionFactory(topic=withdrawn, text="Bemanning idé på återtagen lapp")
    other = MeetingFactory(group=world.other_group, status=MeetingStatus.SUMMARY_SENT)
    TopicFactory(
        meeting=other,
        department=DepartmentFactory(group=world.other_group),
        title="Bemanning hos grannen",
    )
    TopicFactory(meeting=world.meeting, department=world.it, title="Bemanning inför mötet")
    world.group.allow_read_ahead = False
    world.group.save()
    client.force_login(world.head)
    html = _search(client, world, "bemanning").content.decode()
    assert "Inga träffar." in html
    for title in ["utkast", "återtagen", "grannen", "inför mötet"]:
        assert title not in html
    client.force_login(world.moderator)
    assert "inför mötet" in _search(client, world, "bemanning").content.decode()


@pytest.mark.parametrize("who", ["outsider", "guest", "anonymous"])
def test_people_outside_the_group_cannot_search_it(client, world, history, who):
    if who == "guest":
        guest = UserFactory()
        AttendanceFactory(meeting=world.meeting, user=guest)
        client.force_login(guest)
    elif who == "outsider":
        client.force_login(world.outsider)
    response = _search(client, world, "bemanning")
    assert response.status_code == (302 if who == "anonymous" else 404)
    assert "akuten" not in response.content.decode()


@pytest.mark.parametrize("size", [4, 40])
def test_search_query_count_is_constant(client, world, held, django_assert_num_queries, size):
    departments = [DepartmentFactory(group=world.group) for _ in range(4)]
    for n in range(size):
        topic = TopicFactory(
            meeting=held, department=departments[n % 4], title=f"Bemanning nummer {n}"
        )
        ContributionFactory(topic=topic, text=f"Idé om bemanning {n}")
        FollowUpFactory(meeting=held, topic=topic, title=f"Bemanning uppföljning {n}")
    client.force_login(world.head)
    # session, user, group with role, departments, meetings, results
    with django_assert_num_queries(6):
        response = _search(client, world, "bemanning")
    assert _hits(response) == min(3 * size, 50)


def test_the_empty_search_explains_itself(client, world):
    client.force_login(world.participant)
    html = client.get(reverse("insights:search", args=[world.group.code])).content.decode()
    assert "Skriv ett eller flera ord" in html
