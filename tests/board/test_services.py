"""The live board's writes: who has the word, the timer, the agenda, ideas, links, notes.

Every service locks the meeting's one BoardState row and raises its version; a
closed meeting refuses every one of them and keeps its board as it was.
"""

import threading
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils.translation import override

from board import services
from board.models import BoardState
from meetings.models import Meeting, MeetingStatus
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
    ContributionKind,
    FollowUp,
    LinkKind,
    Topic,
    TopicLink,
    TopicStatus,
)

NOW = datetime(2027, 3, 2, 13, 20, tzinfo=UTC)
CLOSED_MESSAGE = "The meeting is closed; the board can no longer be changed."


def _agenda(world, count=4, meeting=None):
    """`count` submitted post-its at positions 0..count-1, alternately HR's and IT's."""
    meeting = meeting or world.meeting
    return [
        TopicFactory(
            meeting=meeting,
            department=world.hr if index % 2 == 0 else world.it,
            title=f"Lapp {index}",
            position=index,
        )
        for index in range(count)
    ]


def _state(meeting) -> BoardState:
    return BoardState.objects.get(meeting=meeting)


def _version(meeting) -> int:
    return _state(meeting).version


def _order(meeting) -> list[tuple[str, int]]:
    """The agenda as the board shows it: (title, position), in position order."""
    return list(
        Topic.objects.filter(meeting=meeting, status__in=services.ON_BOARD)
        .order_by("position", "created_at")
        .values_list("title", "position")
    )


def _status(meeting) -> str:
    return Meeting.objects.values_list("status", flat=True).get(pk=meeting.pk)


@pytest.fixture
def started_meeting(world):
    """Started 20 minutes before NOW, an hour long: 40 minutes are left at NOW."""
    return MeetingFactory(
        group=world.group,
        starts_at=NOW - timedelta(minutes=20),
        ends_at=NOW + timedelta(minutes=40),
    )


# --- Starting the board ------------------------------------------------------


@pytest.mark.parametrize("status", [MeetingStatus.OPEN, MeetingStatus.PLANNED])
def test_board_start_takes_an_open_or_planned_meeting_live_and_creates_its_board(world, status):
    Meeting.objects.filter(pk=world.meeting.pk).update(status=status)
    world.meeting.refresh_from_db()
    assert not BoardState.objects.filter(meeting=world.meeting).exists()

    services.board_start(meeting=world.meeting)

    assert _status(world.meeting) == MeetingStatus.LIVE
    state = _state(world.meeting)
    assert (state.version, state.topic, state.timer_started_at) == (2, None, None)


def test_board_start_on_a_live_meeting_keeps_it_live_and_raises_the_version(world):
    services.board_start(meeting=world.meeting)
    services.board_start(meeting=world.meeting)

    assert _status(world.meeting) == MeetingStatus.LIVE
    assert _version(world.meeting) == 3
    assert BoardState.objects.filter(meeting=world.meeting).count() == 1


# --- Giving the word -----------------------------------------------------------


def test_give_word_sets_the_focus_and_starts_the_timer_at_the_given_moment(world):
    first, second, *_rest = _agenda(world)

    services.board_give_word(meeting=world.meeting, code=second.code, now=NOW)

    state = _state(world.meeting)
    assert state.topic == second
    assert state.timer_started_at == NOW
    assert state.timer_elapsed == 0
    assert state.running
    assert first.pk != state.topic_id


def test_give_word_on_an_open_meeting_takes_it_live(world):
    topic, *_rest = _agenda(world, 1)

    services.board_give_word(meeting=world.meeting, code=topic.code, now=NOW)

    assert _status(world.meeting) == MeetingStatus.LIVE


def test_give_word_shares_the_time_left_among_the_post_its_still_waiting(world, started_meeting):
    topics = _agenda(world, 4, meeting=started_meeting)

    services.board_give_word(meeting=started_meeting, code=topics[0].code, now=NOW)

    # 40 minutes left, 4 post-its waiting: 10 minutes each.
    assert _state(started_meeting).timer_duration == 600
    assert services.suggested_seconds(started_meeting, now=NOW, remaining_topics=4) == 600


def test_give_word_before_the_meeting_starts_shares_the_whole_meeting(world):
    topics = _agenda(world, 4)
    the_day_before = world.meeting.starts_at - timedelta(days=1)

    services.board_give_word(meeting=world.meeting, code=topics[0].code, now=the_day_before)

    # The meeting lasts an hour: 3600 s / 4, however early the word is given.
    assert _state(world.meeting).timer_duration == 900


def test_give_word_counts_a_discussed_post_it_as_one_more_waiting(world, started_meeting):
    topics = _agenda(world, 4, meeting=started_meeting)
    Topic.objects.filter(pk=topics[0].pk).update(status=TopicStatus.DISCUSSED)

    services.board_give_word(meeting=started_meeting, code=topics[0].code, now=NOW)

    # 3 still submitted + the discussed one taken up again: 2400 s / 4.
    assert _state(started_meeting).timer_duration == 600


def test_give_word_suggests_at_least_a_minute_when_time_is_short(world, started_meeting):
    topics = _agenda(world, 4, meeting=started_meeting)
    almost_over = started_meeting.ends_at - timedelta(minutes=2)

    services.board_give_word(meeting=started_meeting, code=topics[0].code, now=almost_over)
    # 120 s / 4 would be 30 s.
    assert _state(started_meeting).timer_duration == 60

    after_the_end = started_meeting.ends_at + timedelta(minutes=5)
    services.board_give_word(meeting=started_meeting, code=topics[1].code, now=after_the_end)
    assert _state(started_meeting).timer_duration == 60


def test_give_word_with_explicit_seconds_overrides_the_suggestion(world, started_meeting):
    topics = _agenda(world, 4, meeting=started_meeting)

    services.board_give_word(meeting=started_meeting, code=topics[0].code, now=NOW, seconds=90)

    state = _state(started_meeting)
    assert (state.topic, state.timer_duration, state.timer_started_at) == (topics[0], 90, NOW)


def test_give_word_to_a_post_it_of_another_meeting_is_refused(world):
    own, *_rest = _agenda(world, 2)
    services.board_give_word(meeting=world.meeting, code=own.code, now=NOW)
    earlier = MeetingFactory(
        group=world.group,
        starts_at=NOW - timedelta(days=30),
        ends_at=NOW - timedelta(days=30) + timedelta(hours=1),
    )
    foreign = TopicFactory(meeting=earlier, department=world.hr)

    with override("en"), pytest.raises(ValidationError) as raised:
        services.board_give_word(
            meeting=world.meeting, code=foreign.code, now=NOW + timedelta(minutes=1)
        )

    assert raised.value.messages == ["That post-it is not on this board."]
    state = _state(world.meeting)
    assert (state.topic, state.timer_started_at, state.version) == (own, NOW, 2)


def test_give_word_to_a_draft_is_refused(world):
    draft = TopicFactory(
        meeting=world.meeting, department=world.hr, status=TopicStatus.DRAFT, submitted_at=None
    )

    with pytest.raises(ValidationError):
        services.board_give_word(meeting=world.meeting, code=draft.code, now=NOW)

    assert not BoardState.objects.filter(meeting=world.meeting, topic__isnull=False).exists()


def test_every_give_word_raises_the_board_version(world):
    first, second, *_rest = _agenda(world, 2)

    services.board_give_word(meeting=world.meeting, code=first.code, now=NOW)
    assert _version(world.meeting) == 2
    services.board_give_word(meeting=world.meeting, code=second.code, now=NOW)
    assert _version(world.meeting) == 3
    services.board_give_word(meeting=world.meeting, code=second.code, now=NOW)
    assert _version(world.meeting) == 4


# --- Stepping through the agenda -------------------------------------------------


@pytest.fixture
def walk(world):
    """Four post-its whose positions differ from the order they were written in; B is parked."""
    d = TopicFactory(meeting=world.meeting, department=world.it, title="D", position=3)
    b = TopicFactory(
        meeting=world.meeting,
        department=world.hr,
        title="B",
        position=1,
        status=TopicStatus.PARKED,
    )
    c = TopicFactory(meeting=world.meeting, department=world.hr, title="C", position=2)
    a = TopicFactory(meeting=world.meeting, department=world.it, title="A", position=0)
    return SimpleNamespace(a=a, b=b, c=c, d=d)


def _focus(meeting) -> str:
    return _state(meeting).topic.title


def test_step_forward_walks_the_agenda_in_position_order_skipping_parked(world, walk):
    seen = []
    for _ in range(3):
        services.board_step(meeting=world.meeting, forward=True, now=NOW)
        seen.append(_focus(world.meeting))

    assert seen == ["A", "C", "D"]


def test_step_forward_at_the_last_post_it_stays_put(world, walk):
    services.board_give_word(meeting=world.meeting, code=walk.d.code, now=NOW)
    version = _version(world.meeting)

    services.board_step(meeting=world.meeting, forward=True, now=NOW + timedelta(minutes=1))

    state = _state(world.meeting)
    assert (state.topic, state.timer_started_at, state.version) == (walk.d, NOW, version)


def test_step_backward_walks_back_skipping_parked_and_stays_at_the_first(world, walk):
    services.board_give_word(meeting=world.meeting, code=walk.d.code, now=NOW)

    seen = []
    for _ in range(3):
        services.board_step(meeting=world.meeting, forward=False, now=NOW)
        seen.append(_focus(world.meeting))

    assert seen == ["C", "A", "A"]


def test_step_forward_with_no_focus_starts_at_the_first_post_it(world, walk):
    services.board_start(meeting=world.meeting)

    services.board_step(meeting=world.meeting, forward=True, now=NOW)

    state = _state(world.meeting)
    assert (state.topic, state.timer_started_at) == (walk.a, NOW)


def test_step_backward_with_no_focus_starts_at_the_last_post_it(world, walk):
    services.board_step(meeting=world.meeting, forward=False, now=NOW)

    assert _state(world.meeting).topic == walk.d


def test_step_on_an_empty_agenda_is_refused(world):
    TopicFactory(meeting=world.meeting, department=world.hr, status=TopicStatus.PARKED)

    with override("en"), pytest.raises(ValidationError) as raised:
        services.board_step(meeting=world.meeting, forward=True, now=NOW)

    assert raised.value.messages == ["There are no post-its on the agenda."]


# --- The timer ----------------------------------------------------------------------


def test_timer_toggle_pauses_and_resumes_and_remaining_follows(world):
    topic, *_rest = _agenda(world, 1)
    services.board_give_word(meeting=world.meeting, code=topic.code, now=NOW, seconds=300)
    state = _state(world.meeting)
    assert state.remaining(NOW) == 300
    assert state.remaining(NOW + timedelta(seconds=100)) == 200

    services.timer_toggle(meeting=world.meeting, now=NOW + timedelta(seconds=100))
    state = _state(world.meeting)
    assert (state.timer_elapsed, state.timer_started_at, state.running) == (100, None, False)
    assert state.remaining(NOW + timedelta(seconds=500)) == 200
    assert state.ends_at(NOW + timedelta(seconds=500)) is None

    services.timer_toggle(meeting=world.meeting, now=NOW + timedelta(seconds=500))
    state = _state(world.meeting)
    assert (state.timer_elapsed, state.timer_started_at) == (100, NOW + timedelta(seconds=500))
    assert state.remaining(NOW + timedelta(seconds=550)) == 150
    assert state.ends_at(NOW + timedelta(seconds=550)) == NOW + timedelta(seconds=700)

    services.timer_toggle(meeting=world.meeting, now=NOW + timedelta(seconds=560))
    state = _state(world.meeting)
    assert (state.timer_elapsed, state.timer_started_at) == (160, None)
    assert state.remaining(NOW + timedelta(hours=1)) == 140


def test_remaining_goes_negative_once_over_time(world):
    topic, *_rest = _agenda(world, 1)
    services.board_give_word(meeting=world.meeting, code=topic.code, now=NOW, seconds=60)

    assert _state(world.meeting).remaining(NOW + timedelta(seconds=75)) == -15


def test_every_timer_toggle_raises_the_board_version(world):
    topic, *_rest = _agenda(world, 1)
    services.board_give_word(meeting=world.meeting, code=topic.code, now=NOW)

    services.timer_toggle(meeting=world.meeting, now=NOW + timedelta(seconds=10))
    services.timer_toggle(meeting=world.meeting, now=NOW + timedelta(seconds=20))

    assert _version(world.meeting) == 4


def test_timer_adjust_adds_and_removes_seconds_but_never_below_zero(world):
    topic, *_rest = _agenda(world, 1)
    services.board_give_word(meeting=world.meeting, code=topic.code, now=NOW, seconds=300)

    services.timer_adjust(meeting=world.meeting, seconds=120)
    assert _state(world.meeting).timer_duration == 420
    services.timer_adjust(meeting=world.meeting, seconds=-60)
    assert _state(world.meeting).timer_duration == 360
    services.timer_adjust(meeting=world.meeting, seconds=-1000)
    state = _state(world.meeting)
    assert state.timer_duration == 0
    assert state.remaining(NOW + timedelta(seconds=30)) == -30
    assert state.version == 5


@pytest.mark.parametrize(
    "action",
    [
        pytest.param(lambda m: services.timer_toggle(meeting=m, now=NOW), id="toggle"),
        pytest.param(lambda m: services.timer_adjust(meeting=m, seconds=60), id="adjust"),
    ],
)
def test_timer_is_refused_while_nobody_has_the_word(world, action):
    services.board_start(meeting=world.meeting)

    with override("en"), pytest.raises(ValidationError) as raised:
        action(world.meeting)

    assert raised.value.messages == ["Give the word to a post-it first."]
    state = _state(world.meeting)
    assert (state.version, state.timer_duration, state.timer_started_at) == (2, 0, None)


# --- Ordering the agenda ----------------------------------------------------------


def test_reorder_puts_the_named_post_its_first_in_the_given_order(world):
    _a, b, _c, d = _agenda(world, 4)

    services.topic_reorder(meeting=world.meeting, codes=[d.code, b.code])

    assert _order(world.meeting) == [("Lapp 3", 0), ("Lapp 1", 1), ("Lapp 0", 2), ("Lapp 2", 3)]
    assert _version(world.meeting) == 2


def test_reorder_ignores_unknown_repeated_and_foreign_codes(world):
    a, _b, c = _agenda(world, 3)
    draft = TopicFactory(
        meeting=world.meeting,
        department=world.hr,
        status=TopicStatus.DRAFT,
        submitted_at=None,
        position=7,
    )
    other_meeting = MeetingFactory(group=world.group)
    foreign = TopicFactory(meeting=other_meeting, department=world.hr, position=5)

    services.topic_reorder(
        meeting=world.meeting,
        codes=[c.code, "", "nosuchcode", foreign.code, draft.code, c.code, a.code],
    )

    assert _order(world.meeting) == [("Lapp 2", 0), ("Lapp 0", 1), ("Lapp 1", 2)]
    draft.refresh_from_db()
    foreign.refresh_from_db()
    assert (draft.position, foreign.position) == (7, 5)


def test_reorder_numbers_positions_from_zero_without_gaps(world):
    topics = [
        TopicFactory(meeting=world.meeting, department=world.hr, title=f"T{p}", position=p)
        for p in (4, 9, 20)
    ]

    services.topic_reorder(meeting=world.meeting, codes=[topics[2].code])

    assert _order(world.meeting) == [("T20", 0), ("T4", 1), ("T9", 2)]


def test_move_up_and_down_by_one(world):
    _agenda(world, 4)
    codes = {title: code for code, title in Topic.objects.values_list("code", "title")}

    services.topic_move(meeting=world.meeting, code=codes["Lapp 2"], offset=-1)
    assert [t for t, _p in _order(world.meeting)] == ["Lapp 0", "Lapp 2", "Lapp 1", "Lapp 3"]

    services.topic_move(meeting=world.meeting, code=codes["Lapp 0"], offset=1)
    assert _order(world.meeting) == [("Lapp 2", 0), ("Lapp 0", 1), ("Lapp 1", 2), ("Lapp 3", 3)]
    assert _version(world.meeting) == 3


def test_move_clamps_at_the_ends(world):
    a, _b, _c, d = _agenda(world, 4)
    before = _order(world.meeting)

    services.topic_move(meeting=world.meeting, code=a.code, offset=-1)
    services.topic_move(meeting=world.meeting, code=d.code, offset=1)

    assert (
        _order(world.meeting)
        == before
        == [
            ("Lapp 0", 0),
            ("Lapp 1", 1),
            ("Lapp 2", 2),
            ("Lapp 3", 3),
        ]
    )


def test_move_of_a_post_it_not_on_the_board_is_refused(world):
    _agenda(world, 2)

    with override("en"), pytest.raises(ValidationError) as raised:
        services.topic_move(meeting=world.meeting, code="nosuchcode", offset=1)

    assert raised.value.messages == ["That post-it is not on this board."]
    assert not BoardState.objects.filter(meeting=world.meeting).exists()


# --- Status of a post-it -------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "status"),
    [
        (TopicStatus.SUBMITTED, TopicStatus.PARKED),
        (TopicStatus.SUBMITTED, TopicStatus.DISCUSSED),
        (TopicStatus.PARKED, TopicStatus.SUBMITTED),
        (TopicStatus.DISCUSSED, TopicStatus.SUBMITTED),
    ],
)
def test_set_status_moves_a_post_it_between_waiting_parked_and_discussed(world, start, status):
    topic = TopicFactory(meeting=world.meeting, department=world.hr, status=start)

    returned = services.topic_set_status(meeting=world.meeting, code=topic.code, status=status)

    topic.refresh_from_db()
    assert topic.status == status
    assert returned.status == status
    assert _version(world.meeting) == 2


@pytest.mark.parametrize("status", ["withdrawn", "draft", "done", ""])
def test_set_status_to_an_unknown_status_is_refused(world, status):
    topic = TopicFactory(meeting=world.meeting, department=world.hr)

    with override("en"), pytest.raises(ValidationError) as raised:
        services.topic_set_status(meeting=world.meeting, code=topic.code, status=status)

    assert raised.value.messages == ["Unknown status."]
    topic.refresh_from_db()
    assert topic.status == TopicStatus.SUBMITTED
    assert not BoardState.objects.filter(meeting=world.meeting).exists()


# --- A post-it written on the spot ----------------------------------------------------


def test_on_the_spot_post_it_is_submitted_at_the_end_of_the_agenda(world):
    _agenda(world, 3)

    topic = services.topic_add_on_the_spot(
        meeting=world.meeting,
        department=world.it,
        title="  Skrivaren på plan 3  ",
        by=world.moderator,
    )

    topic.refresh_from_db()
    assert topic.title == "Skrivaren på plan 3"
    assert (topic.meeting, topic.department, topic.status) == (
        world.meeting,
        world.it,
        TopicStatus.SUBMITTED,
    )
    assert topic.entered_by == world.moderator
    assert topic.submitted_at is not None
    assert topic.position == 3
    assert _order(world.meeting)[-1] == ("Skrivaren på plan 3", 3)
    assert _version(world.meeting) == 2


def test_on_the_spot_post_it_for_a_department_of_another_group_is_forbidden(world):
    foreign = DepartmentFactory(group=world.other_group)

    with pytest.raises(PermissionDenied):
        services.topic_add_on_the_spot(
            meeting=world.meeting, department=foreign, title="Smuggel", by=world.moderator
        )

    assert not Topic.objects.filter(title="Smuggel").exists()


@pytest.mark.parametrize("title", ["", "   ", "x" * 121])
def test_on_the_spot_post_it_with_an_empty_or_too_long_title_is_refused(world, title):
    with pytest.raises(ValidationError) as raised:
        services.topic_add_on_the_spot(
            meeting=world.meeting, department=world.hr, title=title, by=world.moderator
        )

    assert list(raised.value.message_dict) == ["title"]
    assert not Topic.objects.filter(meeting=world.meeting).exists()
    assert not BoardState.objects.filter(meeting=world.meeting).exists()


def test_on_the_spot_post_it_of_120_characters_is_accepted(world):
    topic = services.topic_add_on_the_spot(
        meeting=world.meeting, department=world.hr, title="x" * 120, by=world.moderator
    )

    assert Topic.objects.get(pk=topic.pk).title == "x" * 120


# --- Ideas and thoughts --------------------------------------------------------------


@pytest.fixture
def idea(world):
    topic = TopicFactory(meeting=world.meeting, department=world.hr)
    contribution = ContributionFactory(
        topic=topic, author=world.participant, department=world.hr, text="Ursprunglig idé"
    )
    other = UserFactory(full_name="Annan Deltagare")
    AttendanceFactory(meeting=world.meeting, user=other)
    return SimpleNamespace(topic=topic, contribution=contribution, other=other)


def test_contribution_add_stores_the_idea_with_its_department(world):
    topic = TopicFactory(meeting=world.meeting, department=world.hr)

    added = services.contribution_add(
        meeting=world.meeting,
        code=topic.code,
        author=world.participant,
        department=world.it,
        text="  Fråga IT om licenserna  ",
        kind=ContributionKind.THOUGHT,
    )

    stored = Contribution.objects.get(pk=added.pk)
    assert (stored.topic, stored.author, stored.department, stored.kind, stored.text) == (
        topic,
        world.participant,
        world.it,
        ContributionKind.THOUGHT,
        "Fråga IT om licenserna",
    )
    assert _version(world.meeting) == 2


def test_contribution_add_without_department_is_an_idea_by_default(world):
    topic = TopicFactory(meeting=world.meeting, department=world.hr)

    added = services.contribution_add(
        meeting=world.meeting, code=topic.code, author=world.participant, department=None, text="Ja"
    )

    stored = Contribution.objects.get(pk=added.pk)
    assert (stored.department, stored.kind) == (None, ContributionKind.IDEA)


def test_contribution_add_for_a_department_of_another_group_is_forbidden(world):
    topic = TopicFactory(meeting=world.meeting, department=world.hr)
    foreign = DepartmentFactory(group=world.other_group)

    with pytest.raises(PermissionDenied):
        services.contribution_add(
            meeting=world.meeting,
            code=topic.code,
            author=world.outsider,
            department=foreign,
            text="Utifrån",
        )

    assert not Contribution.objects.exists()


def test_contribution_add_to_a_post_it_not_on_the_board_is_refused(world):
    draft = TopicFactory(
        meeting=world.meeting, department=world.hr, status=TopicStatus.DRAFT, submitted_at=None
    )

    with pytest.raises(ValidationError):
        services.contribution_add(
            meeting=world.meeting,
            code=draft.code,
            author=world.participant,
            department=None,
            text="Hemligt",
        )

    assert not Contribution.objects.exists()


def test_contribution_text_with_html_and_emoji_is_stored_as_typed(world):
    topic = TopicFactory(meeting=world.meeting, department=world.hr)
    typed = "<script>alert('x')</script> & <b>fet</b> 🎉👩🏽‍💻 \"citat\""

    added = services.contribution_add(
        meeting=world.meeting,
        code=topic.code,
        author=world.participant,
        department=None,
        text=typed,
    )

    assert Contribution.objects.get(pk=added.pk).text == typed


@pytest.mark.parametrize("text", ["", "   \n ", "x" * 4001])
def test_contribution_add_with_empty_or_too_long_text_is_refused(world, text):
    topic = TopicFactory(meeting=world.meeting, department=world.hr)

    with pytest.raises(ValidationError) as raised:
        services.contribution_add(
            meeting=world.meeting,
            code=topic.code,
            author=world.participant,
            department=None,
            text=text,
        )

    assert list(raised.value.message_dict) == ["text"]
    assert not Contribution.objects.exists()


def test_contribution_of_4000_characters_is_accepted(world):
    topic = TopicFactory(meeting=world.meeting, department=world.hr)

    added = services.contribution_add(
        meeting=world.meeting,
        code=topic.code,
        author=world.participant,
        department=None,
        text="x" * 4000,
    )

    assert len(Contribution.objects.get(pk=added.pk).text) == 4000


def test_author_may_edit_their_own_contribution(world, idea):
    services.contribution_edit(
        meeting=world.meeting,
        contribution_id=idea.contribution.pk,
        by=world.participant,
        moderating=False,
        text=" Bättre idé ",
    )

    assert Contribution.objects.get(pk=idea.contribution.pk).text == "Bättre idé"
    assert _version(world.meeting) == 2


def test_moderator_may_edit_anyones_contribution(world, idea):
    services.contribution_edit(
        meeting=world.meeting,
        contribution_id=idea.contribution.pk,
        by=world.moderator,
        moderating=True,
        text="Omformulerad",
    )

    assert Contribution.objects.get(pk=idea.contribution.pk).text == "Omformulerad"


def test_another_participant_may_not_edit_a_contribution(world, idea):
    with pytest.raises(PermissionDenied):
        services.contribution_edit(
            meeting=world.meeting,
            contribution_id=idea.contribution.pk,
            by=idea.other,
            moderating=False,
            text="Kapat",
        )

    assert Contribution.objects.get(pk=idea.contribution.pk).text == "Ursprunglig idé"
    assert not BoardState.objects.filter(meeting=world.meeting).exists()


@pytest.mark.parametrize("text", ["", "  ", "x" * 4001])
def test_contribution_edit_with_empty_or_too_long_text_is_refused(world, idea, text):
    with pytest.raises(ValidationError) as raised:
        services.contribution_edit(
            meeting=world.meeting,
            contribution_id=idea.contribution.pk,
            by=world.participant,
            moderating=False,
            text=text,
        )

    assert list(raised.value.message_dict) == ["text"]
    assert Contribution.objects.get(pk=idea.contribution.pk).text == "Ursprunglig idé"


def test_author_may_remove_their_own_contribution(world, idea):
    services.contribution_remove(
        meeting=world.meeting,
        contribution_id=idea.contribution.pk,
        by=world.participant,
        moderating=False,
    )

    assert not Contribution.objects.filter(pk=idea.contribution.pk).exists()
    assert _version(world.meeting) == 2


def test_moderator_may_remove_anyones_contribution(world, idea):
    services.contribution_remove(
        meeting=world.meeting,
        contribution_id=idea.contribution.pk,
        by=world.moderator,
        moderating=True,
    )

    assert not Contribution.objects.filter(pk=idea.contribution.pk).exists()


def test_another_participant_may_not_remove_a_contribution(world, idea):
    with pytest.raises(PermissionDenied):
        services.contribution_remove(
            meeting=world.meeting,
            contribution_id=idea.contribution.pk,
            by=idea.other,
            moderating=False,
        )

    assert Contribution.objects.filter(pk=idea.contribution.pk).exists()
    assert not BoardState.objects.filter(meeting=world.meeting).exists()


# --- Links between post-its ------------------------------------------------------------


def test_link_add_links_two_post_its_of_the_meeting(world):
    a, b = _agenda(world, 2)

    link = services.link_add(
        meeting=world.meeting,
        code=a.code,
        other_code=b.code,
        kind=LinkKind.HELPS_SOLVE,
        by=world.moderator,
    )

    stored = TopicLink.objects.get()
    assert stored.pk == link.pk
    assert (stored.from_topic, stored.to_topic, stored.kind, stored.created_by) == (
        a,
        b,
        LinkKind.HELPS_SOLVE,
        world.moderator,
    )
    assert _version(world.meeting) == 2


def test_link_add_links_to_a_post_it_of_an_earlier_meeting_of_the_group(world):
    topic, *_rest = _agenda(world, 1)
    earlier = MeetingFactory(
        group=world.group,
        starts_at=world.meeting.starts_at - timedelta(days=30),
        status=MeetingStatus.SUMMARY_SENT,
    )
    old = TopicFactory(meeting=earlier, department=world.it, status=TopicStatus.DISCUSSED)
    later = MeetingFactory(
        group=world.group, starts_at=world.meeting.starts_at + timedelta(days=30)
    )
    future = TopicFactory(meeting=later, department=world.it)
    with pytest.raises(ValidationError):
        services.link_add(
            meeting=world.meeting,
            code=topic.code,
            other_code=future.code,
            kind=LinkKind.SIMILAR,
            by=world.moderator,
        )

    services.link_add(
        meeting=world.meeting,
        code=topic.code,
        other_code=old.code,
        kind=LinkKind.SIMILAR,
        by=world.moderator,
    )

    assert list(TopicLink.objects.values_list("from_topic", "to_topic")) == [(topic.pk, old.pk)]


def test_link_add_refuses_a_post_it_of_another_group(world):
    topic, *_rest = _agenda(world, 1)
    elsewhere = TopicFactory(meeting=MeetingFactory(group=world.other_group))

    with override("en"), pytest.raises(ValidationError) as raised:
        services.link_add(
            meeting=world.meeting,
            code=topic.code,
            other_code=elsewhere.code,
            kind=LinkKind.SIMILAR,
            by=world.moderator,
        )

    assert raised.value.messages == ["Choose another post-it of this group."]
    assert not TopicLink.objects.exists()


def test_link_add_refuses_a_draft_of_the_same_meeting(world):
    topic, *_rest = _agenda(world, 1)
    draft = TopicFactory(
        meeting=world.meeting, department=world.it, status=TopicStatus.DRAFT, submitted_at=None
    )

    with pytest.raises(ValidationError):
        services.link_add(
            meeting=world.meeting,
            code=topic.code,
            other_code=draft.code,
            kind=LinkKind.SIMILAR,
            by=world.moderator,
        )

    assert not TopicLink.objects.exists()


def test_link_add_refuses_linking_a_post_it_to_itself(world):
    topic, *_rest = _agenda(world, 1)

    with override("en"), pytest.raises(ValidationError) as raised:
        services.link_add(
            meeting=world.meeting,
            code=topic.code,
            other_code=topic.code,
            kind=LinkKind.SIMILAR,
            by=world.moderator,
        )

    assert raised.value.messages == ["Choose another post-it of this group."]
    assert not TopicLink.objects.exists()


def test_link_add_refuses_the_reverse_of_an_existing_link(world):
    a, b = _agenda(world, 2)
    services.link_add(
        meeting=world.meeting, code=a.code, other_code=b.code, kind="similar", by=world.moderator
    )

    with override("en"), pytest.raises(ValidationError) as raised:
        services.link_add(
            meeting=world.meeting,
            code=b.code,
            other_code=a.code,
            kind="similar",
            by=world.moderator,
        )

    assert raised.value.messages == ["These post-its are already linked."]
    assert list(TopicLink.objects.values_list("from_topic", "to_topic")) == [(a.pk, b.pk)]


def test_link_add_twice_in_the_same_direction_keeps_one_link(world):
    a, b = _agenda(world, 2)

    first = services.link_add(
        meeting=world.meeting, code=a.code, other_code=b.code, kind="similar", by=world.moderator
    )
    second = services.link_add(
        meeting=world.meeting, code=a.code, other_code=b.code, kind="similar", by=world.moderator
    )

    assert first.pk == second.pk
    assert TopicLink.objects.count() == 1


def test_link_add_refuses_an_unknown_kind(world):
    a, b = _agenda(world, 2)

    with override("en"), pytest.raises(ValidationError) as raised:
        services.link_add(
            meeting=world.meeting, code=a.code, other_code=b.code, kind="enemy", by=world.moderator
        )

    assert raised.value.messages == ["Unknown kind of link."]
    assert not TopicLink.objects.exists()


def test_link_remove_removes_the_link(world):
    a, b = _agenda(world, 2)
    link = TopicLinkFactory(from_topic=a, to_topic=b)

    services.link_remove(meeting=world.meeting, link_id=link.pk)

    assert not TopicLink.objects.exists()
    assert _version(world.meeting) == 2


def test_link_remove_leaves_a_link_of_another_meeting_alone(world):
    _agenda(world, 1)
    other_meeting = MeetingFactory(group=world.group)
    foreign = TopicLinkFactory(from_topic=TopicFactory(meeting=other_meeting))

    services.link_remove(meeting=world.meeting, link_id=foreign.pk)

    assert TopicLink.objects.filter(pk=foreign.pk).exists()


# --- The moderator's notes --------------------------------------------------------------


def test_notes_save_stores_the_notes_and_raises_the_notes_version(world):
    topic, *_rest = _agenda(world, 1)

    returned = services.notes_save(
        meeting=world.meeting, code=topic.code, notes="Beslut: pilot i mars.", version=1
    )

    topic.refresh_from_db()
    assert (topic.notes, topic.notes_version) == ("Beslut: pilot i mars.", 2)
    assert (returned.notes, returned.notes_version) == ("Beslut: pilot i mars.", 2)
    assert _version(world.meeting) == 2


def test_notes_save_with_a_stale_version_and_other_text_is_a_conflict(world):
    topic, *_rest = _agenda(world, 1)
    services.notes_save(meeting=world.meeting, code=topic.code, notes="Karins text", version=1)

    with pytest.raises(services.NotesConflict) as raised:
        services.notes_save(meeting=world.meeting, code=topic.code, notes="Omars text", version=1)

    assert raised.value.topic.pk == topic.pk
    assert (raised.value.topic.notes, raised.value.topic.notes_version) == ("Karins text", 2)
    topic.refresh_from_db()
    assert (topic.notes, topic.notes_version) == ("Karins text", 2)
    assert _version(world.meeting) == 2


def test_notes_save_with_a_stale_version_and_the_same_text_is_accepted(world):
    topic, *_rest = _agenda(world, 1)
    services.notes_save(meeting=world.meeting, code=topic.code, notes="Samma text", version=1)

    returned = services.notes_save(
        meeting=world.meeting, code=topic.code, notes="Samma text", version=1
    )

    assert (returned.notes, returned.notes_version) == ("Samma text", 2)
    topic.refresh_from_db()
    assert (topic.notes, topic.notes_version) == ("Samma text", 2)


def test_notes_save_with_the_current_version_follows_on(world):
    topic, *_rest = _agenda(world, 1)
    services.notes_save(meeting=world.meeting, code=topic.code, notes="Ett", version=1)

    services.notes_save(meeting=world.meeting, code=topic.code, notes="Ett, två", version=2)

    topic.refresh_from_db()
    assert (topic.notes, topic.notes_version) == ("Ett, två", 3)
    assert _version(world.meeting) == 3


# --- Follow-ups ------------------------------------------------------------------------


def test_follow_up_add_with_a_person_as_owner(world):
    topic, *_rest = _agenda(world, 1)

    added = services.follow_up_add(
        meeting=world.meeting,
        code=topic.code,
        title="  Boka möte med leverantören  ",
        owner=world.head,
        owner_department=None,
        due_date=date(2027, 4, 1),
    )

    stored = FollowUp.objects.get(pk=added.pk)
    assert (stored.meeting, stored.topic, stored.title) == (
        world.meeting,
        topic,
        "Boka möte med leverantören",
    )
    assert (stored.owner, stored.owner_department, stored.due_date) == (
        world.head,
        None,
        date(2027, 4, 1),
    )
    assert _version(world.meeting) == 2


def test_follow_up_add_with_a_department_as_owner(world):
    topic, *_rest = _agenda(world, 1)

    added = services.follow_up_add(
        meeting=world.meeting,
        code=topic.code,
        title="Utred",
        owner=None,
        owner_department=world.it,
        due_date=None,
    )

    stored = FollowUp.objects.get(pk=added.pk)
    assert (stored.owner, stored.owner_department, stored.due_date) == (None, world.it, None)


def test_follow_up_add_records_who_wrote_it(world):
    topic, *_rest = _agenda(world, 1)

    added = services.follow_up_add(
        meeting=world.meeting,
        code=topic.code,
        title="Utred",
        owner=world.head,
        owner_department=None,
        due_date=None,
        by=world.moderator,
    )

    [change] = added.changes.all()
    assert (change.by, change.by_name, change.changes) == (
        world.moderator,
        "Karin Åberg",
        [{"field": "created"}],
    )


def test_follow_up_add_without_any_owner_is_refused(world):
    topic, *_rest = _agenda(world, 1)

    with override("en"), pytest.raises(ValidationError) as raised:
        services.follow_up_add(
            meeting=world.meeting,
            code=topic.code,
            title="Ingen äger detta",
            owner=None,
            owner_department=None,
            due_date=None,
        )

    assert raised.value.messages == ["A follow-up needs an owner: a person or a department."]
    assert not FollowUp.objects.exists()


def test_follow_up_add_owned_by_a_department_of_another_group_is_forbidden(world):
    topic, *_rest = _agenda(world, 1)
    foreign = DepartmentFactory(group=world.other_group)

    with pytest.raises(PermissionDenied):
        services.follow_up_add(
            meeting=world.meeting,
            code=topic.code,
            title="Utlagt",
            owner=None,
            owner_department=foreign,
            due_date=None,
        )

    assert not FollowUp.objects.exists()


def test_follow_up_remove_deletes_the_follow_up_by_its_code(world):
    topic, *_rest = _agenda(world, 1)
    kept = FollowUpFactory(meeting=world.meeting, topic=topic)
    gone = FollowUpFactory(meeting=world.meeting, topic=topic)
    elsewhere = FollowUpFactory(meeting=MeetingFactory(group=world.group))

    services.follow_up_remove(meeting=world.meeting, code=gone.code)
    services.follow_up_remove(meeting=world.meeting, code=elsewhere.code)

    assert set(FollowUp.objects.values_list("code", flat=True)) == {kept.code, elsewhere.code}
    assert _version(world.meeting) == 3


# --- A closed meeting's board is frozen ---------------------------------------------------


def _snapshot(meeting) -> dict:
    return {
        "status": _status(meeting),
        "board": list(
            BoardState.objects.filter(meeting=meeting).values(
                "version", "topic", "timer_duration", "timer_elapsed", "timer_started_at"
            )
        ),
        "topics": list(
            Topic.objects.filter(meeting=meeting)
            .order_by("pk")
            .values("code", "title", "status", "position", "notes", "notes_version")
        ),
        "contributions": list(
            Contribution.objects.filter(topic__meeting=meeting).order_by("pk").values("pk", "text")
        ),
        "links": list(TopicLink.objects.order_by("pk").values("pk", "from_topic", "to_topic")),
        "follow_ups": list(
            FollowUp.objects.filter(meeting=meeting).order_by("pk").values("code", "title")
        ),
    }


def _edit(b):
    services.contribution_edit(
        meeting=b.meeting,
        contribution_id=b.contribution.pk,
        by=b.author,
        moderating=True,
        text="Ny",
    )


SERVICES = {
    "board_start": lambda b: services.board_start(meeting=b.meeting),
    "board_give_word": lambda b: services.board_give_word(
        meeting=b.meeting, code=b.b.code, now=NOW
    ),
    "board_step": lambda b: services.board_step(meeting=b.meeting, forward=True, now=NOW),
    "timer_toggle": lambda b: services.timer_toggle(meeting=b.meeting, now=NOW),
    "timer_adjust": lambda b: services.timer_adjust(meeting=b.meeting, seconds=60),
    "topic_reorder": lambda b: services.topic_reorder(
        meeting=b.meeting, codes=[b.c.code, b.b.code, b.a.code]
    ),
    "topic_move": lambda b: services.topic_move(meeting=b.meeting, code=b.c.code, offset=-1),
    "topic_set_status": lambda b: services.topic_set_status(
        meeting=b.meeting, code=b.a.code, status=TopicStatus.DISCUSSED
    ),
    "topic_add_on_the_spot": lambda b: services.topic_add_on_the_spot(
        meeting=b.meeting, department=b.world.hr, title="Sent påkommet", by=b.world.moderator
    ),
    "contribution_add": lambda b: services.contribution_add(
        meeting=b.meeting, code=b.a.code, author=b.author, department=None, text="Sen idé"
    ),
    "contribution_edit": _edit,
    "contribution_remove": lambda b: services.contribution_remove(
        meeting=b.meeting, contribution_id=b.contribution.pk, by=b.author, moderating=True
    ),
    "link_add": lambda b: services.link_add(
        meeting=b.meeting, code=b.a.code, other_code=b.c.code, kind="similar", by=b.author
    ),
    "link_remove": lambda b: services.link_remove(meeting=b.meeting, link_id=b.link.pk),
    "notes_save": lambda b: services.notes_save(
        meeting=b.meeting, code=b.a.code, notes="Efteråt", version=1
    ),
    "follow_up_add": lambda b: services.follow_up_add(
        meeting=b.meeting,
        code=b.a.code,
        title="Efteråt",
        owner=b.author,
        owner_department=None,
        due_date=None,
    ),
    "follow_up_remove": lambda b: services.follow_up_remove(
        meeting=b.meeting, code=b.follow_up.code
    ),
}


@pytest.mark.parametrize(
    "status", [MeetingStatus.CLOSED, MeetingStatus.SUMMARY_SENT, MeetingStatus.CANCELLED]
)
@pytest.mark.parametrize("service", list(SERVICES))
def test_every_service_refuses_a_closed_meeting_and_changes_nothing(world, service, status):
    a, b, c = _agenda(world, 3)
    contribution = ContributionFactory(topic=a, author=world.participant, text="Idé")
    link = TopicLinkFactory(from_topic=a, to_topic=b)
    follow_up = FollowUpFactory(meeting=world.meeting, topic=a, owner=world.participant)
    services.board_give_word(meeting=world.meeting, code=a.code, now=NOW - timedelta(hours=1))
    Meeting.objects.filter(pk=world.meeting.pk).update(status=status)
    meeting = Meeting.objects.get(pk=world.meeting.pk)
    before = _snapshot(meeting)
    board = SimpleNamespace(
        world=world,
        meeting=meeting,
        a=a,
        b=b,
        c=c,
        author=world.participant,
        contribution=contribution,
        link=link,
        follow_up=follow_up,
    )

    with override("en"), pytest.raises(ValidationError) as raised:
        SERVICES[service](board)

    assert raised.value.messages == [CLOSED_MESSAGE]
    assert _snapshot(meeting) == before
    assert before["status"] == status
    assert before["board"][0]["version"] == 2


# --- Two moderators at once ---------------------------------------------------------------


def test_two_moderators_giving_the_word_one_after_the_other_leave_the_second_in_focus(world):
    a, b, *_rest = _agenda(world, 3)
    services.board_start(meeting=world.meeting)
    version = _version(world.meeting)
    # Each moderator's request loads its own copy of the meeting.
    karins = Meeting.objects.get(pk=world.meeting.pk)
    omars = Meeting.objects.get(pk=world.meeting.pk)

    services.board_give_word(meeting=karins, code=a.code, now=NOW)
    services.board_give_word(meeting=omars, code=b.code, now=NOW + timedelta(seconds=1))

    state = _state(world.meeting)
    assert state.topic == b
    assert state.timer_started_at == NOW + timedelta(seconds=1)
    assert state.version == version + 2


@pytest.mark.django_db(transaction=True)
def test_a_second_moderator_waits_for_the_first_to_finish_and_has_the_last_word(world):
    """The board row lock really serialises two connections: the second blocks until commit."""
    a, b, *_rest = _agenda(world, 3)
    services.board_start(meeting=world.meeting)
    first_holds_lock = threading.Event()
    release_first = threading.Event()
    second_done = threading.Event()
    errors: list[BaseException] = []

    def first():
        try:
            with transaction.atomic():
                services.board_give_word(
                    meeting=Meeting.objects.get(pk=world.meeting.pk), code=a.code, now=NOW
                )
                first_holds_lock.set()
                release_first.wait(10)
        except BaseException as error:  # reported to the test below
            errors.append(error)
            first_holds_lock.set()
        finally:
            connection.close()

    def second():
        try:
            services.board_give_word(
                meeting=Meeting.objects.get(pk=world.meeting.pk),
                code=b.code,
                now=NOW + timedelta(seconds=1),
            )
        except BaseException as error:
            errors.append(error)
        finally:
            second_done.set()
            connection.close()

    one = threading.Thread(target=first)
    two = threading.Thread(target=second)
    one.start()
    assert first_holds_lock.wait(10)
    two.start()
    blocked = not second_done.wait(0.5)
    release_first.set()
    one.join(10)
    two.join(10)

    assert errors == []
    assert blocked, "the second write did not wait for the first transaction's lock"
    state = _state(world.meeting)
    assert (state.topic, state.timer_started_at, state.version) == (
        b,
        NOW + timedelta(seconds=1),
        4,
    )
