"""The live stream (board/stream.py) as its own process, on the real parts.

uvicorn serves `tvargrupp.live:application` on the test database and Redis; the board's
writes publish through Redis after they commit, and the stream pushes the fragment.
"""

import copy
import http.client
import json
import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from board import live
from board.selectors import board_version
from board.services import board_give_word, board_start, timer_adjust, topic_move
from tests.conftest import (
    ROOT,
    _worker_env,
    signed_in_context,
    start_live_stream,
    stop_live_stream,
)
from tests.factories import TopicFactory, UserFactory
from topics.models import TopicStatus

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def stream_process(django_db_setup, redis_available):
    if not redis_available:
        pytest.skip("the live stream needs Redis")
    process = start_live_stream(env={"LIVE_KEEPALIVE_SECONDS": "1"})
    yield process
    stop_live_stream(process)


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


class Stream:
    """A screen's connection, read as the browser's EventSource reads it."""

    def __init__(self, process, path: str, *, cookie: str = "", origin: str = ""):
        self.connection = http.client.HTTPConnection("127.0.0.1", process.port, timeout=10)
        headers = {"Accept": "text/event-stream"}
        if cookie:
            headers["Cookie"] = cookie
        if origin:
            headers["Origin"] = origin
        self.connection.request("GET", f"/live/{path}", headers=headers)
        self.response = self.connection.getresponse()

    def next_block(self, timeout: float = 5.0) -> str:
        """The next blank-line-terminated block: an event, a comment or the retry field."""
        self.connection.sock.settimeout(timeout)
        lines = []
        while True:
            line = self.response.readline().decode()
            if line in ("\n", ""):
                if lines or line == "":
                    return "".join(lines)
                continue
            lines.append(line)

    def next_event(self, timeout: float = 5.0) -> tuple[int, str]:
        """(version, html) of the next fragment, skipping keep-alives."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            block = self.next_block(deadline - time.monotonic())
            if block.startswith("event: live"):
                fields = block.splitlines()
                version = int(fields[1].removeprefix("id: "))
                html = "\n".join(f.removeprefix("data: ") for f in fields[2:])
                return version, html
        raise AssertionError("no fragment arrived in time")

    def close(self):
        self.connection.close()


@pytest.fixture
def running(world):
    """A started meeting with two post-its; the first has the word."""
    world.meeting.starts_at = timezone.now() - timedelta(minutes=5)
    world.meeting.ends_at = world.meeting.starts_at + timedelta(hours=1)
    world.meeting.submission_deadline = world.meeting.starts_at - timedelta(days=1)
    world.meeting.save()
    topics = [
        TopicFactory(meeting=world.meeting, department=world.hr, title=f"Lapp nummer {n}")
        for n in range(2)
    ]
    board_start(meeting=world.meeting)
    board_give_word(meeting=world.meeting, code=topics[0].code)
    return topics


def test_a_screen_gets_the_current_state_at_once_then_every_change(stream_process, world, running):
    stream = Stream(
        stream_process, f"{world.meeting.code}/screen/", cookie=session_cookie(world.participant)
    )
    try:
        assert stream.response.status == 200
        assert stream.response.getheader("Content-Type") == "text/event-stream; charset=utf-8"
        assert stream.response.getheader("X-Accel-Buffering") == "no"
        assert stream.next_block() == "retry: 2000\n"
        version, html = stream.next_event()
        assert version == board_version(meeting_id=world.meeting.pk)
        assert f'data-version="{version}"' in html and "Lapp nummer 0" in html

        board_give_word(meeting=world.meeting, code=running[1].code)
        new_version, html = stream.next_event()
        assert new_version == board_version(meeting_id=world.meeting.pk) > version
        assert f'data-focus="{running[1].code}"' in html
    finally:
        stream.close()


def test_a_screen_joining_after_changes_gets_the_newest_state_not_a_kept_older_one(
    stream_process, world, running
):
    """While screens are open the stream keeps the newest event per view and sends a
    joining screen those bytes; it must never be older than the board."""
    cookie = session_cookie(world.participant)
    first = Stream(stream_process, f"{world.meeting.code}/screen/", cookie=cookie)
    try:
        first.next_block()
        first.next_event()
        for topic in (running[1], running[0], running[1]):
            board_give_word(meeting=world.meeting, code=topic.code)
            version, _html = first.next_event()
        assert version == board_version(meeting_id=world.meeting.pk)
        second = Stream(stream_process, f"{world.meeting.code}/screen/", cookie=cookie)
        try:
            second.next_block()
            joined, html = second.next_event()
            assert joined == version
            assert f'data-focus="{running[1].code}"' in html
        finally:
            second.close()
    finally:
        first.close()
    # Nobody watches now: a change is not followed here, so what was kept must not be
    # offered to the next screen.
    _wait_until_unwatched(stream_process, world.meeting)
    board_give_word(meeting=world.meeting, code=running[0].code)
    later = Stream(stream_process, f"{world.meeting.code}/screen/", cookie=cookie)
    try:
        later.next_block()
        version, html = later.next_event()
        assert version == board_version(meeting_id=world.meeting.pk)
        assert f'data-focus="{running[0].code}"' in html
    finally:
        later.close()


def _wait_until_unwatched(process, meeting, timeout: float = 5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        connection = http.client.HTTPConnection("127.0.0.1", process.port, timeout=5)
        connection.request("GET", "/live/healthz")
        screens = json.loads(connection.getresponse().read())["screens"]
        connection.close()
        if screens == 0:
            return
        time.sleep(0.05)
    raise AssertionError("the stream still counts open screens")


def test_many_screens_connecting_at_once_each_get_the_current_state(stream_process, world, running):
    """Screens reconnecting together are checked on the stream's thread pool; each is
    checked on its own (a stranger among them gets 403) and gets the current state."""
    cookies = [session_cookie(world.participant), session_cookie(world.head)]
    stranger = session_cookie(UserFactory())
    results: dict[int, object] = {}

    def open_screen(n: int):
        cookie = stranger if n == 7 else cookies[n % 2]
        stream = Stream(stream_process, f"{world.meeting.code}/participant/", cookie=cookie)
        try:
            if stream.response.status != 200:
                results[n] = stream.response.status
                return
            stream.next_block()
            results[n] = stream.next_event()[0]
        finally:
            stream.close()

    threads = [threading.Thread(target=open_screen, args=(n,)) for n in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    current = board_version(meeting_id=world.meeting.pk)
    assert results.pop(7) == 403
    assert results == {n: current for n in range(24) if n != 7}


def test_keep_alive_comments_hold_a_quiet_stream_open(stream_process, world, running):
    stream = Stream(
        stream_process, f"{world.meeting.code}/participant/", cookie=session_cookie(world.head)
    )
    try:
        stream.next_block()
        stream.next_event()
        # LIVE_KEEPALIVE_SECONDS is 1 here (15 by default).
        assert stream.next_block(timeout=3) == ": keep-alive\n"
    finally:
        stream.close()


def test_every_screen_of_the_meeting_gets_the_same_change(stream_process, world, running):
    cookie = session_cookie(world.participant)
    streams = [
        Stream(stream_process, f"{world.meeting.code}/screen/", cookie=cookie) for _ in range(5)
    ]
    try:
        first = [s.next_event()[0] for s in streams]
        timer_adjust(meeting=world.meeting, seconds=60)
        changed = [s.next_event() for s in streams]
        assert {v for v, _html in changed} == {first[0] + 1}
        assert len({html for _v, html in changed}) == 1  # the same bytes for every screen
    finally:
        for s in streams:
            s.close()


@pytest.mark.parametrize(
    "who, path, status",
    [
        ("nobody", "screen", 403),
        ("outsider", "screen", 403),
        ("participant", "board", 404),
        ("participant", "nonsense", 404),
    ],
)
def test_who_may_open_a_stream(stream_process, world, who, path, status):
    cookie = "" if who == "nobody" else session_cookie(getattr(world, who))
    stream = Stream(stream_process, f"{world.meeting.code}/{path}/", cookie=cookie)
    try:
        assert stream.response.status == status
    finally:
        stream.close()


def test_an_unknown_meeting_and_a_forged_session_are_refused(stream_process, world):
    stream = Stream(stream_process, "nosuchcode/screen/", cookie=session_cookie(world.moderator))
    forged = Stream(
        stream_process,
        f"{world.meeting.code}/screen/",
        cookie=f"{settings.SESSION_COOKIE_NAME}=not-a-session",
    )
    try:
        assert stream.response.status == 403 and forged.response.status == 403
    finally:
        stream.close()
        forged.close()


def test_a_participant_stream_shows_nothing_read_ahead_would_hide(stream_process, world):
    """Before the start, with reading ahead off, participants see no post-it titles."""
    world.group.allow_read_ahead = False
    world.group.save()
    TopicFactory(meeting=world.meeting, department=world.hr, title="Hemlig rubrik före mötet")
    TopicFactory(
        meeting=world.meeting,
        department=world.hr,
        title="Utkast som ingen ska se",
        status=TopicStatus.DRAFT,
    )
    participant = Stream(
        stream_process,
        f"{world.meeting.code}/participant/",
        cookie=session_cookie(world.participant),
    )
    moderator = Stream(
        stream_process, f"{world.meeting.code}/screen/", cookie=session_cookie(world.moderator)
    )
    try:
        _v, seen = participant.next_event()
        _v, moderators = moderator.next_event()
        assert "Hemlig rubrik före mötet" not in seen
        assert "Utkast som ingen ska se" not in seen
        # The moderator's own screen may show the agenda ahead; drafts never.
        assert "Hemlig rubrik före mötet" in moderators
        assert "Utkast som ingen ska se" not in moderators
    finally:
        participant.close()
        moderator.close()


def test_only_the_sites_own_origins_may_read_the_stream_across_ports(
    stream_process, world, running
):
    cookie = session_cookie(world.participant)
    own = Stream(
        stream_process, f"{world.meeting.code}/screen/", cookie=cookie, origin=settings.SITE_URL
    )
    other = Stream(
        stream_process,
        f"{world.meeting.code}/screen/",
        cookie=cookie,
        origin="https://evil.example",
    )
    try:
        assert own.response.getheader("Access-Control-Allow-Origin") == settings.SITE_URL
        assert own.response.getheader("Access-Control-Allow-Credentials") == "true"
        assert other.response.getheader("Access-Control-Allow-Origin") is None
    finally:
        own.close()
        other.close()


def test_a_board_write_succeeds_when_redis_cannot_be_reached(world, running, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    live._redis.cache_clear()
    try:
        before = board_version(meeting_id=world.meeting.pk)
        topic_move(meeting=world.meeting, code=running[0].code, offset=1)
        assert board_version(meeting_id=world.meeting.pk) == before + 1
    finally:
        live._redis.cache_clear()


def test_screens_are_told_where_the_stream_is_and_the_moderator_board_is_not(
    client, world, running, settings
):
    settings.LIVE_URL = "https://tvargrupp.example.se/live/"
    client.force_login(world.moderator)
    code = world.meeting.code
    screen = client.get(f"/m/{code}/screen/").content.decode()
    board = client.get(f"/m/{code}/board/").content.decode()
    assert f'data-stream-url="https://tvargrupp.example.se/live/{code}/screen/"' in screen
    assert "data-stream-url" not in board
    settings.LIVE_URL = ""
    assert "data-stream-url" not in client.get(f"/m/{code}/screen/").content.decode()


def test_the_stream_starts_only_with_redis():
    result = subprocess.run(
        [sys.executable, "-c", "import tvargrupp.live"],
        cwd=ROOT,
        # The zero-setup mode (SQLite, no Redis): screens poll, the stream refuses to start.
        env={
            **_worker_env(),
            "REDIS_URL": "",
            "DATABASE_URL": "",
            "DEBUG": "true",
            "DJANGO_SETTINGS_MODULE": "tvargrupp.settings",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "set REDIS_URL" in result.stderr


def test_a_screen_that_reconnects_after_a_restart_gets_the_current_state(world, running):
    process = start_live_stream()
    cookie = session_cookie(world.participant)
    try:
        stream = Stream(process, f"{world.meeting.code}/screen/", cookie=cookie)
        stream.next_event()
        stream.close()
        stop_live_stream(process, kill=True)
        # Changes while the stream is down are published to nobody.
        board_give_word(meeting=world.meeting, code=running[1].code)
        process = start_live_stream(port=process.port)
        stream = Stream(process, f"{world.meeting.code}/screen/", cookie=cookie)
        version, html = stream.next_event()
        assert version == board_version(meeting_id=world.meeting.pk)
        assert f'data-focus="{running[1].code}"' in html
        stream.close()
    finally:
        stop_live_stream(process)


def test_a_person_with_no_account_left_is_refused(stream_process, world):
    gone = UserFactory(email="gone@example.se")
    world.group.participants.add(gone)
    cookie = session_cookie(gone)
    gone.delete()
    stream = Stream(stream_process, f"{world.meeting.code}/screen/", cookie=cookie)
    try:
        assert stream.response.status == 403
    finally:
        stream.close()


@pytest.mark.browser
def test_screens_follow_the_stream_fall_back_to_polling_and_come_back(
    browser, live_server, world, running, settings
):
    """Moderator, projector and participant in three browsers on the real stream process."""
    process = start_live_stream(env={"SITE_URL": live_server.url})
    # The stream on its own port of the same host: the session cookie goes with it.
    stream_origin = f"http://{urlparse(live_server.url).hostname}:{process.port}"
    settings.LIVE_URL = f"{stream_origin}/live/"
    policy = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)
    policy["DIRECTIVES"]["connect-src"] = ["'self'", stream_origin]
    settings.CONTENT_SECURITY_POLICY = policy
    third = TopicFactory(meeting=world.meeting, department=world.it, title="Lapp nummer 2")
    code = world.meeting.code
    contexts = []
    try:

        def open_page(user, path):
            context = signed_in_context(browser, live_server, user)
            contexts.append(context)
            page = context.new_page()
            errors = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.errors = errors
            page.goto(f"{live_server.url}{path}")
            return page

        board = open_page(world.moderator, f"/m/{code}/board/")
        screens = [
            open_page(world.moderator, f"/m/{code}/screen/"),
            open_page(world.participant, f"/m/{code}/live/"),
        ]
        for screen in screens:
            expect(screen.locator("[data-board]")).to_have_attribute("data-live", "stream")
        # The moderator's own board polls; it never follows the stream.
        expect(board.locator("[data-board]")).to_have_attribute("data-live", "poll")

        def give_word_to(topic):
            board.locator(f'[data-code="{topic.code}"] [data-give]').click()
            expect(board.locator("#live")).to_have_attribute("data-focus", topic.code)

        give_word_to(running[1])
        for screen in screens:
            expect(screen.locator("#live")).to_have_attribute(
                "data-focus", running[1].code, timeout=3000
            )

        stop_live_stream(process, kill=True)
        for screen in screens:
            expect(screen.locator("[data-board]")).to_have_attribute("data-live", "poll")
        give_word_to(third)
        for screen in screens:  # polling, about a second
            expect(screen.locator("#live")).to_have_attribute("data-focus", third.code)

        process = start_live_stream(port=process.port, env={"SITE_URL": live_server.url})
        for screen in screens:  # the browser reconnects by itself (retry: 2000)
            expect(screen.locator("[data-board]")).to_have_attribute(
                "data-live", "stream", timeout=15_000
            )
        give_word_to(running[0])
        version = str(board_version(meeting_id=world.meeting.pk))
        for screen in screens:
            expect(screen.locator("#live")).to_have_attribute("data-focus", running[0].code)
            expect(screen.locator("#live")).to_have_attribute("data-version", version)
            expect(screen.locator("[data-board]")).to_have_attribute("data-live", "stream")
        assert [page.errors for page in (board, *screens)] == [[], [], []]
    finally:
        for context in contexts:
            context.close()
        stop_live_stream(process)


@pytest.mark.browser
def test_a_stream_held_back_by_a_buffering_proxy_leaves_the_screen_polling(
    browser, live_server, world, running, settings
):
    """A proxy that buffers answers 200 and then sends nothing: the screen keeps polling."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held = []

    def hold():
        while True:
            try:
                conn, _addr = listener.accept()
            except OSError:
                return
            request = conn.recv(65536).decode("latin-1")
            origin = next(
                (
                    line.split(":", 1)[1].strip()
                    for line in request.split("\r\n")
                    if line.lower().startswith("origin:")
                ),
                "",
            )
            conn.sendall(
                (
                    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                    f"Access-Control-Allow-Origin: {origin}\r\n"
                    "Access-Control-Allow-Credentials: true\r\n\r\n"
                ).encode()
            )
            held.append(conn)  # and never a byte more

    threading.Thread(target=hold, daemon=True).start()
    host = urlparse(live_server.url).hostname
    port = listener.getsockname()[1]
    settings.LIVE_URL = f"http://{host}:{port}/live/"
    policy = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)
    policy["DIRECTIVES"]["connect-src"] = ["'self'", f"http://{host}:{port}"]
    settings.CONTENT_SECURITY_POLICY = policy
    context = signed_in_context(browser, live_server, world.participant)
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/m/{world.meeting.code}/screen/")
        wait_until_connected = time.monotonic() + 10
        while not held and time.monotonic() < wait_until_connected:
            time.sleep(0.1)
        assert held, "the screen never opened its stream"
        board_give_word(meeting=world.meeting, code=running[1].code)
        expect(page.locator("#live")).to_have_attribute("data-focus", running[1].code)
        expect(page.locator("[data-board]")).to_have_attribute("data-live", "poll")
    finally:
        context.close()
        listener.close()
        for conn in held:
            conn.close()
