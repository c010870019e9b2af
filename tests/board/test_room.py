"""The meeting room, finished: a closed meeting is closed, an early start asks first,
post-its stay hidden until the start when the group says so, and a removed idea
is a clear message, never an error page."""

import re
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from board.models import BoardState
from board.selectors import room_people
from board.services import (
    board_attendance_mark,
    board_give_word,
    board_start,
    contribution_add,
)
from meetings.models import Attendance, MeetingStatus
from meetings.selectors import attendance_roll
from summaries.services import meeting_close
from tests.factories import TopicFactory
from topics.models import Contribution

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def live(world):
    topic = TopicFactory(
        meeting=world.meeting, department=world.hr, author=world.head, title="Bemanning av akuten"
    )
    board_start(meeting=world.meeting)
    board_give_word(meeting=world.meeting, code=topic.code)
    world.meeting.refresh_from_db()
    return topic


def _get(client, user, name, world, **params):
    client.force_login(user)
    return client.get(reverse(name, args=[world.meeting.code]), params).content.decode()


def test_closing_stops_the_timer_and_every_view_shows_the_end(client, world, live):
    before = BoardState.objects.get()
    assert before.running

    meeting_close(meeting=world.meeting)

    state = BoardState.objects.get()
    assert state.version == before.version + 1  # open screens learn of it at their next poll
    assert not state.running
    board = _get(client, world.moderator, "board:board", world)
    assert "Mötet är avslutat." in board
    assert reverse("summaries:review", args=[world.meeting.code]) in board
    assert "data-timer" not in board
    assert 'name="action"' not in board  # no control is left to press
    assert "data-board-tools" not in board
    for name, user in [("board:screen", world.participant), ("board:participant", world.head)]:
        for params in ({}, {"fragment": "live"}):
            page = _get(client, user, name, world, **params)
            assert 'data-state="ended"' in page
            assert "Mötet är avslutat" in page
            assert "data-timer" not in page
            assert 'name="action"' not in page


def test_any_write_to_a_closed_meeting_is_refused_with_a_message(client, world, live):
    idea = contribution_add(
        meeting=world.meeting, code=live.code, author=world.head, department=None, text="Först"
    )
    meeting_close(meeting=world.meeting)
    version = BoardState.objects.get().version
    client.force_login(world.head)
    url = reverse("board:idea", args=[world.meeting.code])
    for data in [
        {"action": "add", "topic": live.code, "text": "Sent"},
        {"action": "edit", "contribution": idea.pk, "text": "Ändrat"},
        {"action": "remove", "contribution": idea.pk},
    ]:
        response = client.post(url, data, headers={"HX-Request": "true"})
        assert response.status_code == 200  # a message in the page, not an error page
        assert "Mötet är avslutat; tavlan kan inte längre ändras." in response.content.decode()
    client.force_login(world.moderator)
    response = client.post(
        reverse("board:act", args=[world.meeting.code]), {"action": "next", "topic": live.code}
    )
    assert response.status_code == 400
    assert "Mötet är avslutat; tavlan kan inte längre ändras." in response.content.decode()
    assert BoardState.objects.get().version == version
    assert list(Contribution.objects.values_list("text", flat=True)) == ["Först"]


def _move(meeting, starts_at):
    meeting.starts_at = starts_at
    meeting.ends_at = starts_at + timedelta(hours=1)
    meeting.submission_deadline = starts_at - timedelta(hours=1)
    meeting.save()


def test_starting_long_before_the_meeting_asks_for_confirmation(client, world):
    _move(world.meeting, timezone.now() + timedelta(days=2))
    client.force_login(world.moderator)
    url = reverse("board:act", args=[world.meeting.code])

    asked = client.post(url, {"action": "start"}, headers={"HX-Request": "true"})

    world.meeting.refresh_from_db()
    assert world.meeting.status == MeetingStatus.OPEN
    html = asked.content.decode()
    assert "Starta det ändå nu?" in html
    assert 'name="confirm" value="early"' in html
    assert "HX-Trigger" not in asked.headers

    client.post(url, {"action": "start", "confirm": "early"})
    world.meeting.refresh_from_db()
    assert world.meeting.status == MeetingStatus.LIVE


def test_starting_near_the_meeting_time_needs_no_confirmation(client, world):
    _move(world.meeting, timezone.now() + timedelta(minutes=10))
    client.force_login(world.moderator)
    client.post(reverse("board:act", args=[world.meeting.code]), {"action": "start"})
    world.meeting.refresh_from_db()
    assert world.meeting.status == MeetingStatus.LIVE


@pytest.mark.parametrize("name", ["board:screen", "board:participant"])
@pytest.mark.parametrize("fragment", [False, True])
def test_with_read_ahead_off_titles_stay_hidden_until_the_start(client, world, name, fragment):
    world.group.allow_read_ahead = False
    world.group.save()
    TopicFactory(meeting=world.meeting, department=world.hr, title="Hemlig lapp")
    params = {"fragment": "live"} if fragment else {}
    # The moderator's projector is cached per version too: it must not leak to others.
    _get(client, world.moderator, name, world, **params)

    page = _get(client, world.head, name, world, **params)

    assert "Hemlig lapp" not in page
    assert "Lapparna visas när mötet börjar." in page
    board_start(meeting=world.meeting)
    assert "Hemlig lapp" in _get(client, world.head, name, world, **params)


def test_with_read_ahead_on_titles_show_before_the_start(client, world):
    TopicFactory(meeting=world.meeting, department=world.hr, title="Öppen lapp")
    assert "Öppen lapp" in _get(client, world.head, "board:participant", world)


@pytest.mark.django_db(transaction=True)
def test_editing_an_idea_while_it_is_being_removed_answers_a_clear_message(world):
    """The edit loads nothing before the board lock: once it gets the lock the idea is gone."""
    topic = TopicFactory(meeting=world.meeting, department=world.hr, title="Lapp")
    board_start(meeting=world.meeting)
    idea = contribution_add(
        meeting=world.meeting, code=topic.code, author=world.head, department=None, text="Idé"
    )
    client = Client()
    client.force_login(world.head)
    answer = {}

    def edit():
        answer["response"] = client.post(
            reverse("board:idea", args=[world.meeting.code]),
            {"action": "edit", "contribution": idea.pk, "text": "Ändrad"},
            headers={"HX-Request": "true"},
        )

    with transaction.atomic():
        # The remover holds the board lock while the edit arrives.
        BoardState.objects.select_for_update().get(meeting=world.meeting)
        thread = threading.Thread(target=edit)
        thread.start()
        _wait_until_someone_waits_for_a_lock()
        Contribution.objects.filter(pk=idea.pk).delete()
    thread.join(timeout=20)

    response = answer["response"]
    assert response.status_code == 200
    assert "Idén finns inte längre kvar." in response.content.decode()
    assert not Contribution.objects.exists()


def _wait_until_someone_waits_for_a_lock(timeout: float = 10.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            # pg_locks, not pg_stat_activity: the latter is a snapshot inside a transaction.
            cursor.execute("SELECT pid FROM pg_locks WHERE NOT granted")
            rows = cursor.fetchall()
            if rows:
                return
            time.sleep(0.02)
    raise AssertionError(f"the edit never waited for the board lock: {rows}")


def test_the_projector_has_a_heading_and_the_participant_title_is_swedish(client, world, live):
    screen = _get(client, world.participant, "board:screen", world)
    assert re.search(r"<h1[^>]*>\s*Tvärgrupp IT", screen)
    assert 'class="site-header"' not in screen and "site-footer" not in screen
    participant = _get(client, world.participant, "board:participant", world)
    assert "<title>Tvärgrupp IT · Följ mötet · Tvärgrupp</title>" in participant


def test_the_moderator_notes_an_idea_for_a_person_in_the_room(client, world, live):
    client.force_login(world.moderator)
    board = client.get(reverse("board:board", args=[world.meeting.code])).content.decode()
    assert f'<option value="{world.head.pk}">Maria Lindqvist (HR)</option>' in board

    client.post(
        reverse("board:idea", args=[world.meeting.code]),
        {
            "view": "board",
            "action": "add",
            "topic": live.code,
            "text": "Prognos från webbtrafiken",
            "speaker": world.head.pk,
        },
    )

    idea = Contribution.objects.get()
    assert (idea.author, idea.department, idea.kind) == (world.head, world.hr, "idea")


def test_a_participant_adds_an_idea_with_one_field(client, world, live):
    page = _get(client, world.head, "board:participant", world)
    form = page[page.index('<section class="card participant-idea"') :]
    assert re.findall(
        r'<(?:textarea|select|input(?![^>]*type="hidden"))[^>]*name="(\w+)"', form
    ) == ["text"]
    client.post(
        reverse("board:idea", args=[world.meeting.code]),
        {"view": "participant", "action": "add", "topic": live.code, "text": "Min idé"},
    )
    idea = Contribution.objects.get()
    assert (idea.author, idea.department, idea.kind) == (world.head, world.hr, "idea")


KEY_NAMES = {"ArrowRight": "→", "ArrowLeft": "←", "ArrowUp": "↑", "ArrowDown": "↓"}


def test_the_shortcut_help_lists_every_key_the_board_answers(client, world, live):
    script = (ROOT / "static/js/board.js").read_text()
    board_keys = script[script.index("export const BOARD_KEYS") : script.index("};")]
    keys = set(re.findall(r'^\s+"?([^":\s]+)"?: "', board_keys, re.M))
    keys |= set(re.findall(r'event\.key === "([^"]+)"', script[script.index("setUpBoardKeys") :]))
    keys -= {"f", "F"}  # the projector's full-screen key, listed on its own button
    assert {"n", "p", "t", "i", "?", "+", "-", "ArrowUp", "ArrowDown", "ArrowLeft"} <= keys
    page = _get(client, world.moderator, "board:board", world)
    help_text = page[page.index('<dialog id="help"') : page.index("</dialog>")]
    listed = set(re.findall(r"<kbd>([^<]+)</kbd>", help_text))
    assert {KEY_NAMES.get(key, key) for key in keys} <= listed


def _picker(page: str, select_id: str) -> list[tuple[str, list[str]]]:
    """A <select>'s options as [(group label or "", [option texts])], the blank one left out."""
    select = page[page.index(f'id="{select_id}"') :]
    select = select[: select.index("</select>")]
    groups = re.findall(r'<optgroup label="([^"]*)">(.*?)</optgroup>', select)
    if not groups:
        groups = [("", select)]
    return [
        (label, [text for value, text in re.findall(r'<option value="(\d+)">([^<]*)<', body)])
        for label, body in groups
    ]


def test_the_pickers_list_the_group_before_attendance_and_those_present_first_after(world, live):
    roll = attendance_roll(meeting=world.meeting)
    people = room_people(roll=roll)
    assert not people.taken
    assert {world.moderator.pk, world.head.pk, world.participant.pk} <= {
        p.pk for p in people.others
    }
    assert [p.pk for p in people.others] == [p.pk for p in roll]

    board_attendance_mark(meeting=world.meeting, person_code=world.participant.code, present=True)
    board_attendance_mark(meeting=world.meeting, person_code=world.head.code, present=True)
    people = room_people(roll=attendance_roll(meeting=world.meeting))
    assert people.taken
    assert [p.display_name for p in people.present] == ["Maria Lindqvist", "Omar Haddad"]
    assert world.moderator.pk in {p.pk for p in people.others}
    assert not {p.pk for p in people.present} & {p.pk for p in people.others}


def test_the_board_picks_a_speaker_from_those_present_first(client, world, live):
    page = _get(client, world.moderator, "board:board", world)
    before = _picker(page, "idea-speaker")
    assert [label for label, _names in before] == [""]
    assert "Maria Lindqvist (HR)" in before[0][1] and "Karin Åberg" in before[0][1]

    board_attendance_mark(meeting=world.meeting, person_code=world.head.code, present=True)
    page = _get(client, world.moderator, "board:board", world)
    for select_id in ("idea-speaker", "fu-owner"):
        (here, present), (rest, others) = _picker(page, select_id)
        assert (here, present) == ("I rummet", ["Maria Lindqvist (HR)"])
        assert rest == "Övriga i gruppen" and "Karin Åberg" in others
        assert "Maria Lindqvist (HR)" not in others
    # The live fragment carries the list too, for the pickers outside it to follow.
    fragment = _get(client, world.moderator, "board:board", world, fragment="live")
    template = fragment[fragment.index('<template id="people-options"') :]
    template = template[: template.index("</template>")]
    assert re.findall(r'<optgroup label="([^"]*)">', template) == ["I rummet", "Övriga i gruppen"]


def test_a_participant_who_comes_for_a_department_adds_ideas_as_that_department(
    client, world, live
):
    # Omar is no head; his attendance says he comes for IT.
    Attendance.objects.filter(meeting=world.meeting, user=world.participant).update(
        department=world.it
    )
    client.force_login(world.participant)
    client.post(
        reverse("board:idea", args=[world.meeting.code]),
        {"view": "participant", "action": "add", "topic": live.code, "text": "Från IT"},
    )
    idea = Contribution.objects.get()
    assert (idea.author, idea.department, idea.kind) == (world.participant, world.it, "idea")
