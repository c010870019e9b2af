"""The radar beside the post-it form: what a head sees, what never leaks, the proposal."""

import pytest
from django.urls import reverse
from django.utils import timezone

from insights.models import Suggestion
from meetings.models import MeetingStatus
from tests.factories import (
    AttendanceFactory,
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
def akuten(world, held):
    topic = TopicFactory(
        meeting=held,
        department=world.hr,
        title="Bemanning av akuten kvällstid",
        obstacle="Vi har ingen prognos över besöken.",
        status=TopicStatus.DISCUSSED,
    )
    FollowUpFactory(meeting=held, topic=topic, title="Pilot med prognos")
    return topic


def _radar(client, world, title, **fields):
    url = reverse("insights:postit_radar", args=[world.meeting.code])
    return client.post(url, {"department": world.hr.code, "title": title, **fields})


def test_a_head_sees_the_earlier_post_it_with_its_department_date_status_and_follow_up(
    client, world, akuten
):
    client.force_login(world.head)
    response = _radar(client, world, "bemanningen på akuten kvällstid")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="radar-results"' in html
    assert "Bemanning av akuten kvällstid" in html
    assert "HR" in html
    assert timezone.localtime(akuten.meeting.starts_at).strftime("%Y") in html
    assert "Diskuterad" in html
    assert "ledde till en uppföljning" in html
    assert "Vi har ingen prognos över besöken." in html  # opens in place
    assert "Liknande utmaning" in html


def test_nothing_typed_and_nothing_similar_have_their_own_words(client, world, akuten):
    client.force_login(world.head)
    assert "Skriv en rubrik" in _radar(client, world, "").content.decode()
    assert "Inga liknande lappar ännu." in _radar(client, world, "Skrivarna").content.decode()


def test_the_radar_never_shows_a_draft_another_group_or_the_departments_own(client, world, held):
    TopicFactory(
        meeting=held,
        department=world.it,
        title="Bemanning utkast",
        status=TopicStatus.DRAFT,
        submitted_at=None,
    )
    TopicFactory(
        meeting=held, department=world.it, title="Bemanning återtagen", status=TopicStatus.WITHDRAWN
    )
    other = MeetingFactory(group=world.other_group, status=MeetingStatus.SUMMARY_SENT)
    TopicFactory(
        meeting=other,
        department=DepartmentFactory(group=world.other_group),
        title="Bemanning hos grannen",
    )
    TopicFactory(meeting=world.meeting, department=world.hr, title="Bemanning i HR:s egen lapp")
    TopicFactory(meeting=world.meeting, department=world.it, title="Bemanning i IT inför mötet")
    world.group.allow_read_ahead = False
    world.group.save()
    client.force_login(world.head)

    html = _radar(client, world, "bemanning").content.decode()

    assert "Inga liknande lappar ännu." in html
    for title in ["utkast", "återtagen", "grannen", "HR:s egen", "IT inför mötet"]:
        assert title not in html


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_gives_results_or_no_matches(client, world, akuten, text):
    client.force_login(world.head)
    response = _radar(client, world, text, obstacle=text, background=text)
    assert response.status_code == 200
    assert "Inga liknande lappar ännu." in response.content.decode() or (
        "Skriv en rubrik" in response.content.decode()
    )


def test_a_foreign_department_code_is_refused(client, world, akuten):
    client.force_login(world.head)
    url = reverse("insights:postit_radar", args=[world.meeting.code])
    response = client.post(url, {"department": world.it.code, "title": "bemanning"})
    assert response.status_code == 403
    assert "akuten" not in response.content.decode()


@pytest.mark.parametrize("size", [5, 30])
def test_radar_query_count_is_constant(client, world, held, django_assert_num_queries, size):
    departments = [DepartmentFactory(group=world.group) for _ in range(3)]
    for n in range(size):
        topic = TopicFactory(
            meeting=held, department=departments[n % 3], title=f"Bemanning på akuten {n}"
        )
        FollowUpFactory(meeting=held, topic=topic)
    mine = TopicFactory(meeting=world.meeting, department=world.hr, title="Bemanning")
    Suggestion.objects.create(topic=mine, similar=topic)
    client.force_login(world.head)
    # session, user, meeting, group and role, departments, the post-it, radar,
    # suggestions, links
    with django_assert_num_queries(9):
        response = _radar(client, world, "bemanning på akuten", topic=mine.code)
    assert response.content.decode().count('class="radar-hit ') == 5


def _suggest(client, world, similar, topic=None, **headers):
    url = reverse("insights:postit_suggest", args=[world.meeting.code])
    data = {"similar": similar.code, "department": world.hr.code}
    if topic is not None:
        data["topic"] = topic.code
    return client.post(url, data, **headers)


def test_similar_challenge_proposes_a_link_once_and_remembers_the_answer(client, world, akuten):
    mine = TopicFactory(meeting=world.meeting, department=world.hr, title="Bemanning kväll")
    client.force_login(world.head)

    response = _suggest(client, world, akuten, mine, HTTP_HX_REQUEST="true")

    html = response.content.decode()
    assert response.status_code == 200
    assert f'id="radar-hit-{akuten.code}"' in html
    assert "Föreslagen för moderatorn" in html
    suggestion = Suggestion.objects.get()
    assert (suggestion.topic, suggestion.similar, suggestion.status, suggestion.proposed_by) == (
        mine,
        akuten,
        "proposed",
        world.head,
    )
    suggestion.status = "dismissed"
    suggestion.save()
    _suggest(client, world, akuten, mine)
    suggestion.refresh_from_db()
    assert suggestion.status == "dismissed"
    radar = _radar(client, world, "bemanning akuten", topic=mine.code).content.decode()
    assert "Moderatorn bedömde att den här inte är tillräckligt lik." in radar


def test_similar_challenge_before_the_post_it_is_saved_says_so(client, world, akuten):
    client.force_login(world.head)
    response = _suggest(client, world, akuten, HTTP_HX_REQUEST="true")
    assert "Skriv något i din lapp först" in response.content.decode()
    assert not Suggestion.objects.exists()


def test_similar_challenge_refuses_what_the_head_may_not_see_or_write(client, world, held):
    mine = TopicFactory(meeting=world.meeting, department=world.hr, title="Bemanning")
    theirs = TopicFactory(meeting=world.meeting, department=world.it, title="IT:s lapp")
    draft = TopicFactory(
        meeting=held, department=world.it, status=TopicStatus.DRAFT, submitted_at=None
    )
    other = TopicFactory(
        meeting=MeetingFactory(group=world.other_group),
        department=DepartmentFactory(group=world.other_group),
    )
    client.force_login(world.head)
    assert _suggest(client, world, draft, mine).status_code == 404
    assert _suggest(client, world, other, mine).status_code == 404
    # Someone else's post-it as "mine": nothing is proposed.
    _suggest(client, world, mine, theirs)
    assert not Suggestion.objects.exists()


@pytest.mark.parametrize("who", ["participant", "guest"])
def test_people_who_write_no_post_its_get_no_radar(client, world, akuten, who):
    if who == "guest":
        user = UserFactory()
        AttendanceFactory(meeting=world.meeting, user=user)
    else:
        user = world.participant
    client.force_login(user)
    response = _radar(client, world, "bemanning")
    assert response.status_code == 403
    assert "akuten" not in response.content.decode()
