"""Fixtures shared by the whole suite: real services, and one person per role.

PostgreSQL, Redis, SMTP (aiosmtpd on loopback), a Celery worker process and
Debian's Chromium are all real. When the environment variable CI is set, a
missing service fails the run with a clear message instead of skipping.
"""

import asyncio
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlparse

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings

from groups.models import BoardColour
from tests.factories import (
    AttendanceFactory,
    DepartmentFactory,
    GroupFactory,
    MeetingFactory,
    UserFactory,
)

ROOT = Path(__file__).resolve().parent.parent
IN_CI = bool(os.environ.get("CI"))
CHROMIUM = "/usr/bin/chromium"


def _reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname, parsed.port or default_port), timeout=2):
            return True
    except OSError:
        return False


def require_service(available: bool, what: str) -> None:
    """Skip locally, fail in CI: a missing real part must never pass silently."""
    if available:
        return
    message = f"{what} is not available; start it (see README, 'Tests')."
    if IN_CI:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def pytest_sessionstart(session):
    database_url = os.environ["DATABASE_URL"]
    if not _reachable(database_url, 5432):
        pytest.exit(
            f"PostgreSQL is not reachable at {database_url}. Start it, or set DATABASE_URL.",
            returncode=3,
        )


# --- SMTP ------------------------------------------------------------------


class Mailbox:
    """Messages received by the loopback SMTP server, parsed.

    It can misbehave as real servers do: answer 421 to everything for a while,
    take `delay` seconds over each message, or refuse some recipients for good.
    """

    def __init__(self):
        self._messages: list[EmailMessage] = []
        self._envelopes: list[tuple[str, list[str]]] = []
        self._arrivals: list[float] = []
        self._lock = threading.Lock()
        self.refuse_until = 0.0  # time.monotonic() until which every message gets a 421
        self.refuse_seconds = 0.0  # a 421 spell still to begin, at the next message
        self.refused = 0
        self.delay = 0.0
        self.unknown: set[str] = set()  # recipients answered 550 at RCPT TO
        self.rcpt_attempts: Counter = Counter()

    def refuse_for(self, seconds: float) -> None:
        """Answer 421 (service not available, try later) to every message for a while,
        from the next message on (however long the test takes to queue it)."""
        self.refuse_seconds = seconds

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self._lock:
            self.rcpt_attempts[address] += 1
        if address in self.unknown:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.refuse_seconds:
            self.refuse_until, self.refuse_seconds = time.monotonic() + self.refuse_seconds, 0.0
        if time.monotonic() < self.refuse_until:
            with self._lock:
                self.refused += 1
            return "421 4.3.2 Service not available, try again later"
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        with self._lock:
            self._messages.append(message)
            self._envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self._arrivals.append(time.monotonic())
        return "250 Message accepted for delivery"

    @property
    def arrivals(self) -> list[float]:
        with self._lock:
            return list(self._arrivals)

    @property
    def messages(self) -> list[EmailMessage]:
        with self._lock:
            return list(self._messages)

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()
            self._envelopes.clear()
            self._arrivals.clear()
            self.refuse_until = 0.0
            self.refuse_seconds = 0.0
            self.refused = 0
            self.delay = 0.0
            self.unknown = set()
            self.rcpt_attempts = Counter()

    def wait_for(self, count: int, timeout: float = 20.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.messages) >= count:
                return self.messages
            time.sleep(0.05)
        raise AssertionError(f"expected {count} message(s), got {len(self.messages)}")


@pytest.fixture(scope="session")
def smtp_server():
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=settings.EMAIL_PORT)
    controller.start()
    yield mailbox
    controller.stop()


@pytest.fixture
def mailbox(smtp_server, settings):
    """The SMTP server's mailbox, emptied for this test.

    Django's test set-up swaps in the in-memory backend; this puts the real SMTP
    backend back, so mail crosses a real SMTP conversation.
    """
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    smtp_server.clear()
    yield smtp_server
    smtp_server.clear()


def notices(meeting=None, kind: str | None = None):
    """The outbox messages about meetings (invitations, reminders, …), optionally narrowed."""
    from outbox.models import Message
    from outbox.selectors import messages_about

    found = messages_about(meeting) if meeting is not None else Message.objects.all()
    found = found.filter(kind__startswith="meetings.")
    return found.filter(kind=f"meetings.{kind}") if kind else found


def send_outbox() -> int:
    """Send what is due in the outbox now, in this process: the worker's own code path."""
    from outbox.services import outbox_drain

    return outbox_drain()


def wait_until(condition, *, timeout: float = 20.0, what: str = "the condition holds") -> None:
    """Poll `condition` until it is true; fail after `timeout` seconds saying what was awaited."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting until {what}")
        time.sleep(0.05)


def header(message: EmailMessage, name: str) -> str:
    """A header's value as a mail client shows it (folding white space undone)."""
    return " ".join(str(message[name]).split())


def text_body(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def html_body(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


def mime_shape(message: EmailMessage | bytes) -> list[tuple[list[tuple[str, str]], bytes | None]]:
    """A message as its receiver reads it, to compare two makings of one e-mail: each
    part's headers, decoded (Date and Message-ID only present, boundaries left out),
    and its decoded content."""
    if isinstance(message, bytes):
        message = message_from_bytes(message, policy=policy.default)
    shape = []
    for part in message.walk():
        headers = []
        for name, value in part.items():
            value = " ".join(str(value).split())
            if name.lower() in ("date", "message-id"):
                value = "(present)"
            elif name.lower() == "content-type":
                value = re.sub(r';\s*boundary="?[^";]*"?', "", value)
            headers.append((name, value))
        content = None if part.is_multipart() else part.get_payload(decode=True)
        shape.append((headers, content))
    return shape


# --- A chat webhook receiver (Teams or Slack, on loopback) ---------------------


class WebhookReceiver:
    """An HTTP server on loopback that takes chat posts as Teams or Slack would.

    It records every POST (path and JSON body) and answers with the statuses
    queued by `answer(...)`, then 200.
    """

    def __init__(self):
        self._posts: list[tuple[str, dict]] = []
        self._answers: list[int] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver._lock:
                    receiver._posts.append((self.path, json.loads(body or b"{}")))
                    status = receiver._answers.pop(0) if receiver._answers else 200
                self.send_response(status)
                if status in (301, 302, 307, 308):
                    self.send_header("Location", "http://127.0.0.1:1/elsewhere")
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.end_headers()
                self.wfile.write(b"ok" if status < 300 else f"nope {status}".encode())

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/workflows/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(self, *statuses: int) -> None:
        with self._lock:
            self._answers.extend(statuses)

    @property
    def posts(self) -> list[tuple[str, dict]]:
        with self._lock:
            return list(self._posts)

    def clear(self) -> None:
        with self._lock:
            self._posts.clear()
            self._answers.clear()


@pytest.fixture(scope="session")
def webhook_server():
    receiver = WebhookReceiver()
    yield receiver
    receiver.server.shutdown()


@pytest.fixture
def webhook(webhook_server):
    """The chat receiver, emptied for this test."""
    webhook_server.clear()
    yield webhook_server
    webhook_server.clear()


# --- Redis and the Celery worker -------------------------------------------


@pytest.fixture(scope="session")
def redis_available() -> bool:
    return _reachable(settings.CELERY_BROKER_URL, 6379)


@pytest.fixture(autouse=True)
def _empty_cache(redis_available):
    """Django's cache is Redis, as in production: each test starts without cached
    fragments or sign-in counts. Only the cache's keys go; the broker's stay."""
    if redis_available:
        import redis

        client = redis.Redis.from_url(settings.CACHES["default"]["LOCATION"])
        prefix = settings.CACHES["default"]["KEY_PREFIX"]
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
    yield


def _worker_env(extra: dict | None = None) -> dict:
    """The environment of a Celery process on the test database (worker or beat)."""
    db = settings.DATABASES["default"]
    database_url = (
        f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}"
    )
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tvargrupp.test_settings",
        "DATABASE_URL": database_url,
        "DATABASE_CONN_MAX_AGE": "0",
        **(extra or {}),
    }


def start_celery_worker(
    *,
    log_name: str = "test-worker.log",
    concurrency: int = 2,
    env: dict | None = None,
    name: str = "",
):
    """Start a real `celery worker` process on the test database; wait until it is ready.

    `env` adds settings (MAIL_RATE_PER_MINUTE, OUTBOX_LEASE_SECONDS…); `name` is
    its node name (a worker started again under the same name is the same worker).
    """
    env = _worker_env(env)
    log_path = ROOT / "var" / log_name
    log_path.parent.mkdir(exist_ok=True)
    log = log_path.open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "tvargrupp",
            "worker",
            "--queues",
            "default,mail,pdf",
            "--concurrency",
            str(concurrency),
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--hostname",
            f"{name or log_name}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: killed as a whole in fault tests
    )
    process.log_path = log_path
    process.log_file = log
    deadline = time.monotonic() + 60
    while "ready." not in log_path.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"Celery worker did not start:\n{log_path.read_text()[-3000:]}")
        time.sleep(0.2)
    return process


def start_celery_beat(*, env: dict | None = None, log_name: str = "test-beat.log"):
    """Start the real Celery clock (beat) on the test database."""
    log_path = ROOT / "var" / log_name
    log = log_path.open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "tvargrupp",
            "beat",
            "--loglevel",
            "INFO",
            "--schedule",
            str(ROOT / "var" / f"{log_name}.schedule"),
        ],
        cwd=ROOT,
        env=_worker_env(env),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    process.log_path = log_path
    process.log_file = log
    return process


def stop_celery_worker(process) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    process.log_file.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_live_stream(*, port: int | None = None, env: dict | None = None):
    """Start the real live-stream process (`make live`: uvicorn) on the test database.

    Returns the process with `.url` (its base, e.g. http://127.0.0.1:PORT/live/) once
    it answers its health check with its Redis subscription held.
    """
    port = port or free_port()
    log_path = ROOT / "var" / f"test-live-{port}.log"
    log_path.parent.mkdir(exist_ok=True)
    log = log_path.open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "tvargrupp.live:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
            "--timeout-graceful-shutdown",
            "1",
        ],
        cwd=ROOT,
        env=_worker_env(env),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    process.log_path = log_path
    process.log_file = log
    process.port = port
    process.url = f"http://127.0.0.1:{port}/live/"
    import urllib.request

    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(process.url + "healthz", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return process
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"The live stream did not start:\n{log_path.read_text()[-3000:]}")
        time.sleep(0.2)


def stop_live_stream(process, *, kill: bool = False) -> None:
    if process.poll() is None:
        if kill:
            os.killpg(process.pid, 9)
        else:
            process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    process.log_file.close()


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker, redis_available, smtp_server):
    """A real `celery worker` process consuming from Redis, on the test database."""
    require_service(redis_available, f"Redis ({settings.CELERY_BROKER_URL})")
    import redis

    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()
    process = start_celery_worker()
    yield process
    stop_celery_worker(process)


@pytest.fixture
def celery_worker(celery_worker_process, transactional_db):
    """Use in tests whose tasks run in the worker: data must be committed for it to see."""
    return celery_worker_process


# --- Browser ---------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    require_service(
        Path(CHROMIUM).exists() and shutil.which(CHROMIUM), "Chromium (/usr/bin/chromium)"
    )
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop
    from playwright.sync_api import expect, sync_playwright

    # Assertions wait for the page; on a shared two-core machine under a full suite a
    # board action has been seen to take over five seconds (Playwright's default).
    expect.set_options(timeout=15_000)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--disable-quic",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(locale="sv-SE", timezone_id="Europe/Stockholm")
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


# --- People, one per role ---------------------------------------------------


@dataclass
class World:
    """A group with departments, a coming meeting, and one person in every role."""

    group: object
    hr: object
    it: object
    meeting: object
    admin: object
    moderator: object
    head: object
    participant: object
    outsider: object
    other_group: object
    it_member: object = None  # the group's IT role


@pytest.fixture
def world(db) -> World:
    group = GroupFactory(name="Tvärgrupp IT")
    hr = DepartmentFactory(group=group, name="HR", short_name="HR", colour=BoardColour.ORANGE)
    it = DepartmentFactory(group=group, name="IT", short_name="IT", colour=BoardColour.GREY)
    meeting = MeetingFactory(group=group)
    moderator = UserFactory(email="moderator@example.se", full_name="Karin Åberg")
    group.moderators.add(moderator)
    head = UserFactory(email="head@example.se", full_name="Maria Lindqvist")
    hr.heads.add(head)
    participant = UserFactory(email="participant@example.se", full_name="Omar Haddad")
    group.participants.add(participant)
    AttendanceFactory(meeting=meeting, user=participant)
    outsider = UserFactory(email="outsider@example.se", full_name="Utom Stående")
    other_group = GroupFactory(name="Annan grupp")
    outsider_dept = DepartmentFactory(group=other_group, name="Ekonomi", short_name="EKO")
    outsider_dept.heads.add(outsider)
    admin = UserFactory(email="admin@example.se", is_superuser=True, is_staff=True)
    it_member = UserFactory(email="it-roll@example.se", full_name="Ivar Tekniker")
    group.it_members.add(it_member)
    return World(
        group=group,
        hr=hr,
        it=it,
        meeting=meeting,
        admin=admin,
        moderator=moderator,
        head=head,
        participant=participant,
        outsider=outsider,
        other_group=other_group,
        it_member=it_member,
    )


@pytest.fixture
def moderator(world):
    return world.moderator


@pytest.fixture
def head(world):
    return world.head


@pytest.fixture
def participant(world):
    return world.participant


@pytest.fixture
def outsider(world):
    return world.outsider


# --- Logs --------------------------------------------------------------------


class JsonLog:
    """Lines logged during a test, as the production JSON formatter writes them."""

    def __init__(self, stream):
        self.stream = stream

    def lines(self, logger: str | None = None) -> list[dict]:
        import json

        parsed = [json.loads(line) for line in self.stream.getvalue().splitlines() if line]
        return [line for line in parsed if logger is None or line["logger"] == logger]


@pytest.fixture
def json_log():
    """A handler configured from settings.LOGGING's JSON formatter and request-id filter."""
    import io
    import logging

    from django.utils.module_loading import import_string

    config = settings.LOGGING
    formatter_options = dict(config["formatters"]["json"])
    formatter = import_string(formatter_options.pop("()"))(**formatter_options)
    filter_options = dict(config["filters"]["request_id"])
    log_filter = import_string(filter_options.pop("()"))(**filter_options)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    handler.addFilter(log_filter)
    root = logging.getLogger()
    root.addHandler(handler)
    yield JsonLog(stream)
    root.removeHandler(handler)


def signed_in_context(browser, live_server, user=None, *, viewport=None, language="sv"):
    """A browser context signed in as `user` (a session cookie, no sign-in form)."""
    from urllib.parse import urlparse

    from django.test import Client

    context = browser.new_context(
        locale="sv-SE" if language == "sv" else "en-GB",
        timezone_id="Europe/Stockholm",
        viewport=viewport or {"width": 1280, "height": 800},
    )
    context.set_default_timeout(10_000)
    if user is not None:
        client = Client()
        client.force_login(user)
        host = urlparse(live_server.url).hostname
        context.add_cookies(
            [
                {
                    "name": settings.SESSION_COOKIE_NAME,
                    "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                    "domain": host,
                    "path": "/",
                }
            ]
        )
    return context
