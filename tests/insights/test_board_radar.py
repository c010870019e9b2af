"""The radar on the board: similar post-its for the one with the word, linked in one
click, and every answer remembered."""

import pytest
from django.urls import reverse
from django.utils import timezone

from board.models import BoardState
from board.services import board_give_word, board_start
from insights.models import Suggestion
from meetings.models import MeetingStatus
from tests.factories import DepartmentFactory, MeetingFactory, TopicFactory
from topics.models import TopicLink, TopicStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def board(world):
    """The world's meeting running, HR's emergency-ward post-it has the word; an earlier
    meeting had a similar one, a later one too (never offered)."""
    held = MeetingFactory(
        group=world.group,
        starts_at=timezone.now() - timezone.timedelta(days=30),
        status=MeetingStatus.SUMMARY_SENT,
    )
    later = MeetingFactory(
        group=world.group, starts_at=timezone.now() + timezone.timedelta(days=60)
    )
    word = TopicFactory(
        meeting=world.meeting,
        department=world.hr,
        title="Bemanning av akuten",
        obstacle="Ingen prognos",
    )
    earlier = TopicFactory(
        meeting=held,
        department=world.it,
        title="Bemanning av servicedesk",
        status=TopicStatus.DISCUSSED,
    )
    here = TopicFactory(meeting=world.meeting, department=world.it, title="Prognos för akuten")
    TopicFactory(meeting=later, department=world.it, title="Bemanning av akuten igen")
    board_start(meeting=world.meeting)
    board_give_word(meeting=world.meeting, code=word.code)
    return {"word": word, "earlier": earlier, "here": here, "held": held}


def _panel(client, world, topic):
    url = reverse("insights:board_radar", args=[world.meeting.code])
    return client.get(url, {"topic": topic.code})


def _decide(client, world, topic, similar, decision, **headers):
    url = reverse("insights:board_radar_decide", args=[world.meeting.code])
    data = {"topic": topic.code, "similar": similar.code, "decision": decision}
    return client.post(url, data, **headers)


def test_the_moderator_sees_similar_post_its_of_this_and_earlier_meetings(client, world, board):
    client.force_login(world.moderator)
    html = _panel(client, world, board["word"]).content.decode()
    assert 'id="board-radar"' in html
    assert "Bemanning av servicedesk" in html
    assert "Prognos för akuten" in html
    assert "Bemanning av akuten igen" not in html  # a later meeting
    assert html.count("Länka som liknande") == 2


def test_a_heads_proposal_comes_first_with_who_proposed_it(client, world, board):
    Suggestion.objects.create(topic=board["word"], similar=board["earlier"], proposed_by=world.head)
    client.force_login(world.moderator)
    html = _panel(client, world, board["word"]).content.decode()
    assert html.index("Föreslagen av Maria Lindqvist") < html.index("Prognos för akuten")
    assert html.count('radar-hit__title">Bemanning av servicedesk') == 1


def test_one_click_links_them_and_every_screen_hears_of_it(client, world, board):
    client.force_login(world.moderator)
    before = BoardState.objects.get(meeting=world.meeting).version

    response = _decide(
        client, world, board["word"], board["earlier"], "confirm", HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 200
    link = TopicLink.objects.get()
    assert (link.from_topic, link.to_topic, link.kind, link.created_by) == (
        board["word"],
        board["earlier"],
        "similar",
        world.moderator,
    )
    suggestion = Suggestion.objects.get()
    assert (suggestion.status, suggestion.decided_by) == ("confirmed", world.moderator)
    assert BoardState.objects.get(meeting=world.meeting).version > before
    assert "Länkad som liknande utmaning." in response.content.decode()


def test_a_dismissed_post_it_is_not_offered_again(client, world, board):
    client.force_login(world.moderator)
    _decide(client, world, board["word"], board["here"], "dismiss")
    assert Suggestion.objects.get().status == "dismissed"
    assert not TopicLink.objects.exists()
    html = _panel(client, world, board["word"]).content.decode()
    assert "Prognos för akuten" not in html
    assert "Bemanning av servicedesk" in html


def test_only_what_the_radar_offers_can_be_linked(client, world, board):
    other = TopicFactory(
        meeting=MeetingFactory(group=world.other_group),
        department=DepartmentFactory(group=world.other_group),
        title="Bemanning hos grannen",
    )
    client.force_login(world.moderator)
    response = _decide(client, world, board["word"], other, "confirm", HTTP_HX_REQUEST="true")
    assert "inte längre med här" in response.content.decode()
    assert not TopicLink.objects.exists() and not Suggestion.objects.exists()
    bad = _decide(client, world, board["word"], board["here"], "maybe", HTTP_HX_REQUEST="true")
    assert "Välj att länka eller att avfärda." in bad.content.decode()


@pytest.mark.parametrize("who", ["head", "participant"])
def test_only_moderators_use_the_board_radar(client, world, board, who):
    client.force_login(getattr(world, who))
    assert _panel(client, world, board["word"]).status_code == 403
    assert _decide(client, world, board["word"], board["earlier"], "confirm").status_code == 403
    assert not TopicLink.objects.exists()


@pytest.mark.parametrize("size", [5, 30])
def test_board_radar_query_count_is_constant(client, world, board, django_assert_num_queries, size):
    departments = [DepartmentFactory(group=world.group) for _ in range(3)]
    for n in range(size):
        TopicFactory(
            meeting=board["held"], department=departments[n % 3], title=f"Bemanning av akuten {n}"
        )
    Suggestion.objects.create(topic=board["word"], similar=board["earlier"], proposed_by=world.head)
    client.force_login(world.moderator)
    # session, user, meeting, group and role, the post-it, suggestions, radar, links
    with django_assert_num_queries(8):
        response = _panel(client, world, board["word"])
    assert response.content.decode().count('class="radar-hit ') == 6
