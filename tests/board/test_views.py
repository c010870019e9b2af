"""The board's pages and endpoints: who may do what, what they show, query counts."""

import json
from datetime import timedelta

import pytest
from django.urls import reverse

from board.models import BoardState
from board.selectors import poll_token
from board.services import board_give_word, board_start, contribution_add
from meetings.models import MeetingStatus
from tests.factories import (
    AttendanceFactory,
    ContributionFactory,
    DepartmentFactory,
    FollowUpFactory,
    MeetingFactory,
    TopicFactory,
    TopicLinkFactory,
    UserFactory,
)
from topics.models import (
    Contribution,
    ITPerspective,
    MicroProject,
    Solution,
    StatusAnswer,
    Topic,
)

ROLES = ["anonymous", "outsider", "participant", "head", "moderator", "admin"]
LOGIN = "login"
EVERYONE = {
    "anonymous": LOGIN,
    "outsider": 404,
    "participant": 200,
    "head": 200,
    "moderator": 200,
    "admin": 200,
}
MODERATORS = {**EVERYONE, "participant": 403, "head": 403}


@pytest.fixture
def live(world):
    topic = TopicFactory(
        meeting=world.meeting, department=world.hr, author=world.head, title="Bemanning av akuten"
    )
    board_start(meeting=world.meeting)
    world.meeting.refresh_from_db()
    return topic


def _login(client, world, role):
    if role != "anonymous":
        client.force_login(getattr(world, role))


MATRIX = [
    ("board:board", "get", {}, MODERATORS),
    ("board:screen", "get", {}, EVERYONE),
    ("board:participant", "get", {}, EVERYONE),
    ("board:search", "get", {"q": "akuten"}, MODERATORS),
    ("board:act", "post", {"action": "next"}, {**MODERATORS, "moderator": 302, "admin": 302}),
    (
        "board:idea",
        "post",
        {"action": "add", "text": "En idé"},
        {**EVERYONE, "participant": 302, "head": 302, "moderator": 302, "admin": 302},
    ),
]


@pytest.mark.parametrize(("name", "method", "data", "expected"), MATRIX)
@pytest.mark.parametrize("role", ROLES)
def test_access(client, world, live, name, method, data, expected, role):
    _login(client, world, role)
    version = BoardState.objects.get().version
    if "text" in data:
        data = {**data, "topic": live.code}
    response = getattr(client, method)(reverse(name, args=[world.meeting.code]), data)
    want = expected[role]
    if want == LOGIN:
        assert response.status_code == 302
        assert response.url.startswith(reverse("account_login"))
    else:
        assert response.status_code == want
    if response.status_code in (302, 403, 404) and want != 302:
        assert BoardState.objects.get().version == version
        assert not Contribution.objects.exists()
        assert "Bemanning av akuten" not in response.content.decode()


def test_participant_posting_to_a_control_gets_403_and_changes_nothing(client, world, live):
    client.force_login(world.participant)
    for action in ["give", "next", "timer", "parked", "start"]:
        response = client.post(
            reverse("board:act", args=[world.meeting.code]), {"action": action, "topic": live.code}
        )
        assert response.status_code == 403
    state = BoardState.objects.get()
    assert state.topic is None
    live.refresh_from_db()
    assert live.status == "submitted"


def test_poll_answers_204_when_unchanged_and_the_version_when_changed(
    client, world, live, django_assert_num_queries
):
    token = poll_token(meeting=world.meeting, user=world.participant)
    url = reverse("board:poll", args=[token])
    version = BoardState.objects.get().version
    with django_assert_num_queries(1):
        unchanged = client.get(url, {"v": version})
    assert unchanged.status_code == 204
    board_give_word(meeting=world.meeting, code=live.code)
    changed = client.get(url, {"v": version})
    assert changed.json() == {"v": version + 1}


def test_poll_refuses_a_forged_token(client, world, live):
    assert client.get(reverse("board:poll", args=["forged"]), {"v": 1}).status_code == 403


def test_giving_the_word_shows_the_spotlight_on_every_view(client, world, live):
    client.force_login(world.moderator)
    response = client.post(
        reverse("board:act", args=[world.meeting.code]),
        {"action": "give", "topic": live.code},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert response.content.decode().lstrip().startswith('<div id="live"')
    assert json.loads(response.headers["HX-Trigger"]) == {"board:saved": {}}
    for name, user in [("board:screen", world.participant), ("board:participant", world.head)]:
        client.force_login(user)
        content = client.get(reverse(name, args=[world.meeting.code]), {"fragment": "live"})
        text = content.content.decode()
        assert 'id="spotlight-title" class="spotlight__title">Bemanning av akuten<' in text
        assert "Maria Lindqvist" in text


def test_participant_adds_an_idea_that_shows_who_and_which_department(client, world, live):
    board_give_word(meeting=world.meeting, code=live.code)
    client.force_login(world.head)
    client.post(
        reverse("board:idea", args=[world.meeting.code]),
        {"action": "add", "topic": live.code, "text": "Webbtrafiken förutsäger besöken"},
    )
    idea = Contribution.objects.get()
    assert (idea.author, idea.department) == (world.head, world.hr)
    client.force_login(world.moderator)
    page = client.get(reverse("board:board", args=[world.meeting.code])).content.decode()
    assert "Webbtrafiken förutsäger besöken" in page
    assert "Maria Lindqvist" in page


def test_moderator_notes_an_idea_for_a_speakers_department(client, world, live):
    client.force_login(world.moderator)
    client.post(
        reverse("board:idea", args=[world.meeting.code]),
        {
            "action": "add",
            "topic": live.code,
            "text": "Prognos från webben",
            "department": world.it.code,
            "view": "board",
        },
    )
    idea = Contribution.objects.get()
    assert (idea.author, idea.department) == (None, world.it)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", "Detta fält måste fyllas i."),
        ("x" * 4001, "Säkerställ att detta värde har som mest 4000 tecken (den har 4001)."),
    ],
)
def test_idea_bad_input_is_refused_with_a_message(client, world, live, text, error):
    client.force_login(world.head)
    response = client.post(
        reverse("board:idea", args=[world.meeting.code]),
        {"action": "add", "topic": live.code, "text": text},
    )
    assert response.status_code == 400
    assert error in response.content.decode()
    assert not Contribution.objects.exists()


def test_hostile_text_renders_as_text_on_every_view(client, world, live):
    hostile = "<script>alert(1)</script><img src=x onerror=alert(2)> " + "å" * 300 + " 🎉"
    Topic.objects.filter(pk=live.pk).update(title="<b>Rubrik</b>", goal=hostile, notes=hostile)
    board_give_word(meeting=world.meeting, code=live.code)
    contribution_add(
        meeting=world.meeting, code=live.code, author=world.head, department=world.hr, text=hostile
    )
    client.force_login(world.moderator)
    for name in ["board:board", "board:screen", "board:participant"]:
        content = client.get(reverse(name, args=[world.meeting.code])).content.decode()
        assert "<script>alert(1)</script>" not in content
        assert "<img src=x" not in content
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content
        assert "&lt;b&gt;Rubrik&lt;/b&gt;" in content


def test_actions_on_a_closed_meeting_are_refused_clearly(client, world, live):
    world.meeting.status = MeetingStatus.CLOSED
    world.meeting.save()
    client.force_login(world.moderator)
    response = client.post(
        reverse("board:act", args=[world.meeting.code]), {"action": "give", "topic": live.code}
    )
    assert response.status_code == 400
    assert "Mötet är avslutat" in response.content.decode()
    assert BoardState.objects.get().topic is None


def test_follow_up_without_owner_is_refused(client, world, live):
    client.force_login(world.moderator)
    response = client.post(
        reverse("board:act", args=[world.meeting.code]),
        {"action": "follow_up", "topic": live.code, "title": "Pilot"},
    )
    assert response.status_code == 400
    assert not live.follow_ups.exists()
    client.post(
        reverse("board:act", args=[world.meeting.code]),
        {
            "action": "follow_up",
            "topic": live.code,
            "title": "Pilot",
            "owner_department": world.it.code,
            "due_date": "2027-01-15",
        },
    )
    assert live.follow_ups.get().owner_department == world.it


def test_search_finds_post_its_of_earlier_meetings_to_link(client, world, live):
    earlier = MeetingFactory(
        group=world.group, starts_at=world.meeting.starts_at.replace(year=2024)
    )
    old = TopicFactory(meeting=earlier, department=world.it, title="Webbstatistik", goal="akuten")
    TopicFactory(
        meeting=MeetingFactory(group=world.other_group),
        department=DepartmentFactory(group=world.other_group),
        title="akuten annan grupp",
    )
    board_give_word(meeting=world.meeting, code=live.code)
    client.force_login(world.moderator)
    response = client.get(reverse("board:search", args=[world.meeting.code]), {"q": "akuten"})
    content = response.content.decode()
    assert "Webbstatistik" in content
    assert "annan grupp" not in content
    client.post(
        reverse("board:act", args=[world.meeting.code]),
        {"action": "link", "topic": live.code, "other": old.code, "kind": "helps_solve"},
    )
    assert live.links_out.get().to_topic == old


def _fill_lane(world, size):
    """What the lane shows: open follow-ups and a micro-project of an earlier meeting with
    a published IT perspective, the owners' answers, and a parked post-it."""
    earlier = MeetingFactory(
        group=world.group,
        starts_at=world.meeting.starts_at - timedelta(days=30),
        status=MeetingStatus.SUMMARY_SENT,
    )
    ITPerspective.objects.create(meeting=earlier, published_at=earlier.ends_at)
    for n in range(size // 5):
        topic = TopicFactory(meeting=earlier, department=world.hr, title=f"Förr {n}")
        follow_up = FollowUpFactory(meeting=earlier, topic=topic, owner=world.head)
        StatusAnswer.objects.create(
            meeting=world.meeting, follow_up=follow_up, by=world.head, text="Klart", status="open"
        )
        solution = Solution.objects.create(topic=topic, title=f"Lösning {n}", effort="S")
        MicroProject.objects.create(
            solution=solution, topic=topic, title=f"Projekt {n}", owner=world.moderator
        )
    TopicFactory(meeting=earlier, department=world.it, status="parked", title="Parkerad förr")


def _fill(world, size):
    _fill_lane(world, size)
    for n in range(size):
        department = DepartmentFactory(group=world.group)
        head = UserFactory()
        department.heads.add(head)  # the attendance panel lists them, with their answers
        AttendanceFactory(meeting=world.meeting, user=head, department=department, present=n % 2)
        topic = TopicFactory(meeting=world.meeting, department=department, title=f"Lapp {n}")
        ContributionFactory(topic=topic, department=department)
    focus = world.meeting.topics.order_by("position", "created_at").first()
    for _ in range(3 if size > 5 else 1):
        ContributionFactory(topic=focus, department=world.it)
        FollowUpFactory(meeting=world.meeting, topic=focus, owner_department=world.it)
        TopicLinkFactory(
            from_topic=focus, to_topic=TopicFactory(meeting=world.meeting, department=world.it)
        )
    board_give_word(meeting=world.meeting, code=focus.code)


@pytest.mark.parametrize("size", [5, 60, 200])
@pytest.mark.parametrize(
    ("name", "role", "fragment", "queries"),
    [
        ("board:board", "moderator", False, 19),  # people from the attendance roll
        ("board:board", "moderator", True, 18),  # the live part: no pickers
        ("board:screen", "participant", False, 9),
        ("board:participant", "head", False, 9),
        ("board:participant", "head", True, 10),
    ],
)
def test_board_views_query_count_is_constant(
    client, world, live, django_assert_num_queries, size, name, role, fragment, queries
):
    _fill(world, size)
    client.force_login(getattr(world, role))
    params = {"fragment": "live"} if fragment else {}
    with django_assert_num_queries(queries):
        response = client.get(reverse(name, args=[world.meeting.code]), params)
    assert response.status_code == 200


def test_projector_and_participant_fragments_are_rendered_once_per_version(
    client, world, live, django_assert_num_queries
):
    board_give_word(meeting=world.meeting, code=live.code)
    contribution_add(
        meeting=world.meeting,
        code=live.code,
        author=world.head,
        department=world.hr,
        text="Min idé",
    )
    url = reverse("board:participant", args=[world.meeting.code])
    client.force_login(world.head)
    first = client.get(url, {"fragment": "live"}).content
    client.force_login(world.participant)
    with django_assert_num_queries(5):  # session, person, meeting, group and version only
        second = client.get(url, {"fragment": "live"}).content
    assert first == second
    html = first.decode()
    assert "csrfmiddlewaretoken" not in html
    assert f'data-author="{world.head.pk}" hidden' in html
    contribution_add(
        meeting=world.meeting,
        code=live.code,
        author=world.head,
        department=world.hr,
        text="En idé till",
    )
    assert "En idé till" in client.get(url, {"fragment": "live"}).content.decode()


def test_author_edits_their_idea_and_others_cannot(client, world, live):
    board_give_word(meeting=world.meeting, code=live.code)
    idea = contribution_add(
        meeting=world.meeting, code=live.code, author=world.head, department=world.hr, text="Först"
    )
    url = reverse("board:idea", args=[world.meeting.code])
    client.force_login(world.participant)
    refused = client.post(url, {"action": "edit", "contribution": idea.pk, "text": "Kapat"})
    assert refused.status_code == 403
    client.force_login(world.head)
    client.post(url, {"action": "edit", "contribution": idea.pk, "text": "Sedan <b>ändrat</b>"})
    idea.refresh_from_db()
    assert idea.text == "Sedan <b>ändrat</b>"
    page = client.get(reverse("board:participant", args=[world.meeting.code])).content.decode()
    assert "Sedan &lt;b&gt;ändrat&lt;/b&gt;" in page
    assert f'id="edit-{idea.pk}"' in page
    client.force_login(world.moderator)
    client.post(url, {"action": "remove", "contribution": idea.pk, "view": "board"})
    assert not Contribution.objects.exists()


def test_the_agenda_is_one_form_whose_buttons_name_their_post_it(client, world, live):
    """No form or CSRF token per post-it: one form, the button's value says which one."""
    others = [TopicFactory(meeting=world.meeting, department=world.hr) for _ in range(3)]
    client.force_login(world.moderator)
    html = client.get(reverse("board:board", args=[world.meeting.code])).content.decode()
    agenda = html[
        html.index('id="agenda-form"') : html.index("</form>", html.index('id="agenda-form"'))
    ]
    assert agenda.count('name="csrfmiddlewaretoken"') == 1
    for topic in (live, *others):
        assert f'name="card" value="give:{topic.code}"' in agenda
    response = client.post(
        reverse("board:act", args=[world.meeting.code]),
        {"card": f"give:{others[1].code}"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert f'data-focus="{others[1].code}"' in response.content.decode()
    client.post(
        reverse("board:act", args=[world.meeting.code]), {"card": f"parked:{others[2].code}"}
    )
    others[2].refresh_from_db()
    assert others[2].status == "parked"


def test_a_card_naming_no_post_it_of_this_board_is_refused_with_a_message(client, world, live):
    client.force_login(world.moderator)
    response = client.post(
        reverse("board:act", args=[world.meeting.code]),
        {"card": "give:nosuchcode"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert "Den lappen finns inte på den här tavlan." in response.content.decode()


def test_the_cached_agenda_follows_every_board_version(client, world, live):
    """The agenda rows are cached per version: a change shows at once, never a stale row."""
    other = TopicFactory(meeting=world.meeting, department=world.hr, title="Andra lappen")
    client.force_login(world.moderator)
    url = reverse("board:board", args=[world.meeting.code])
    first = client.get(url).content.decode()
    row = first[first.rindex("<li", 0, first.index(f'data-code="{other.code}"')) :]
    assert "agenda-item--current" not in row[: row.index(">")]
    board_give_word(meeting=world.meeting, code=other.code)
    second = client.get(url).content.decode()
    row = second[second.rindex("<li", 0, second.index(f'data-code="{other.code}"')) :]
    assert "agenda-item--current" in row[: row.index(">")]
