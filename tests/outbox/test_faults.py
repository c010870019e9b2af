"""The outbox when things break, for a meeting notice and for a summary.

Everything is real: PostgreSQL, Redis, Celery worker processes (and beat where
the clock matters), the loopback SMTP server. The outbox rows are the record of
what must be sent, so whatever breaks, every recipient ends up with the message,
and at most a message that was on the wire when a worker died is sent twice.

Each test runs its own workers; workers already running (the session's) stop
consuming for the duration, by remote control, so nothing else drains the
outbox. Messages are counted per address, each test with addresses of its own.
"""

import io
import os
import signal
import socket
import time
from collections import Counter
from contextlib import contextmanager
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import redis
from django.conf import settings
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from board.services import board_start, contribution_add
from meetings.models import Meeting, MeetingStatus
from meetings.services import meeting_open
from outbox.models import MessageStatus
from outbox.selectors import messages_about
from summaries.models import Summary, SummaryStatus
from summaries.selectors import summary_messages
from summaries.services import meeting_close, summaries_sweep, summary_render, summary_send
from tests.conftest import (
    header,
    require_service,
    start_celery_beat,
    start_celery_worker,
    stop_celery_worker,
    wait_until,
)
from tests.factories import (
    AttendanceFactory,
    DepartmentFactory,
    GroupFactory,
    MeetingFactory,
    TopicFactory,
    UserFactory,
)

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

STARTS_AT = datetime(2025, 3, 12, 9, 0, tzinfo=ZoneInfo("Europe/Stockholm"))
TITLES = ["Bemanning på akuten åäö", "Väntetider för röntgen", "Överlämning mellan skiften"]
QUEUES = ["default", "mail", "pdf"]
KINDS = ["notice", "summary"]


@pytest.fixture
def broker(redis_available):
    require_service(redis_available, f"Redis ({settings.CELERY_BROKER_URL})")
    return redis.Redis.from_url(settings.CELERY_BROKER_URL)


def _node(name: str) -> str:
    return f"{name}@{socket.gethostname()}"


@contextmanager
def _deaf(destination: list[str] | None = None):
    """Workers (all running ones, or the named) take no task for a while."""
    from tvargrupp.celery import app

    hostnames = sorted(
        {
            hostname
            for queue in QUEUES
            for reply in app.control.cancel_consumer(
                queue, destination=destination, reply=True, timeout=1
            )
            for hostname in reply
        }
    )
    try:
        yield hostnames
    finally:
        if hostnames:
            for queue in QUEUES:
                app.control.add_consumer(queue, destination=hostnames, reply=True, timeout=5)
            listening = app.control.inspect(destination=hostnames, timeout=5).active_queues()
            assert {
                hostname: sorted(queue["name"] for queue in active)
                for hostname, active in (listening or {}).items()
            } == {hostname: QUEUES for hostname in hostnames}


@pytest.fixture
def workers(broker):
    """Start this test's own workers; the ones already running stay deaf meanwhile."""
    started = []

    def start(name: str, concurrency: int = 2, **env):
        process = start_celery_worker(
            log_name=f"{name}.log",
            concurrency=concurrency,
            env={key: str(value) for key, value in env.items()},
            name=name,
        )
        started.append(process)
        return process

    with _deaf():
        yield start
        for process in started:
            stop_celery_worker(process)


@pytest.fixture
def beat():
    """The real Celery clock, waking the outbox every two seconds."""
    started = []

    def start():
        process = start_celery_beat(env={"OUTBOX_PUMP_SECONDS": "2"})
        started.append(process)
        return process

    yield start
    for process in started:
        stop_celery_worker(process)


# --- Two kinds of message ------------------------------------------------------------


def _summary(tag: str, recipients: int, *, pdf_first: bool = False):
    """A live meeting with three post-its, closed and its summary sent to `recipients`."""
    group = GroupFactory(name=f"Tvärgrupp {tag.capitalize()}")
    departments = [
        DepartmentFactory(group=group, name="Akutmottagningen", short_name="AKM"),
        DepartmentFactory(group=group, name="Röntgen", short_name="RTG"),
    ]
    moderator = UserFactory(email=f"{tag}-moderator@example.se", full_name="Karin Åberg")
    group.moderators.add(moderator)
    meeting = MeetingFactory(group=group, status=MeetingStatus.LIVE, starts_at=STARTS_AT)
    addresses = [f"{tag}-{number:02d}@example.se" for number in range(recipients)]
    for number, address in enumerate(addresses):
        user = UserFactory(email=address)
        if number % 3 == 0:
            departments[number % 2].heads.add(user)
        else:
            AttendanceFactory(meeting=meeting, user=user)
    for number, title in enumerate(TITLES):
        TopicFactory(meeting=meeting, department=departments[number % 2], title=title)
    with transaction.atomic():
        summary = meeting_close(meeting=meeting)
        if pdf_first:  # the moderator looked at the PDF before sending
            assert summary_render(summary_id=summary.pk) is True
        queued = summary_send(summary=summary, by=moderator)
    assert sorted(message.address for message in queued) == addresses
    return summary_messages(summary=summary), addresses


def _notice(tag: str, recipients: int):
    """A planned meeting opened: every head of its departments gets the invitation."""
    group = GroupFactory(name=f"Tvärgrupp {tag.capitalize()}")
    department = DepartmentFactory(group=group, name="Akutmottagningen", short_name="AKM")
    addresses = [f"{tag}-{number:02d}@example.se" for number in range(recipients)]
    for address in addresses:
        department.heads.add(UserFactory(email=address))
    meeting = MeetingFactory(group=group, status=MeetingStatus.PLANNED)
    with transaction.atomic():
        assert meeting_open(meeting=meeting) is True
    messages = messages_about(meeting)
    assert sorted(messages.values_list("address", flat=True)) == addresses
    return messages, addresses


def _queue(kind: str, tag: str, recipients: int, **options):
    if kind == "summary":
        return _summary(f"{tag}-s", recipients, **options)
    return _notice(f"{tag}-n", recipients)


# --- Waiting and counting --------------------------------------------------------------


def _counts(mailbox, addresses: list[str]) -> Counter:
    ours = set(addresses)
    return Counter(
        header(message, "To") for message in mailbox.messages if header(message, "To") in ours
    )


def _all_sent(messages) -> bool:
    return not messages.exclude(status=MessageStatus.SENT).exists()


def _wait_for_everyone(mailbox, messages, addresses: list[str], timeout: float) -> Counter:
    """Every address has mail and every row says sent; then the count, settled."""
    wait_until(
        lambda: len(_counts(mailbox, addresses)) == len(addresses) and _all_sent(messages),
        timeout=timeout,
        what=f"all {len(addresses)} recipients have their message "
        f"(got {len(_counts(mailbox, addresses))})",
    )
    time.sleep(1)  # a duplicate would arrive now
    return _counts(mailbox, addresses)


def _kill_whole_worker(process) -> None:
    """SIGKILL the worker's whole process group: no clean shutdown, no acknowledgements."""
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def _idle_in_transaction() -> list[str]:
    """Other sessions on the test database holding a transaction open (and its locks)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT application_name || ' ' || left(query, 80) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND state LIKE 'idle in transaction%%'"
        )
        return [row[0] for row in cursor.fetchall()]


# --- Sending --------------------------------------------------------------------------


def test_twenty_recipients_get_one_summary_each_with_the_pdf(workers, mailbox):
    workers("outbox-twenty")
    messages, addresses = _summary("tjugo", 20)

    counts = _wait_for_everyone(mailbox, messages, addresses, timeout=60)

    assert counts == Counter({address: 1 for address in addresses})
    received = [m for m in mailbox.messages if header(m, "To") in set(addresses)]
    assert {header(m, "Subject") for m in received} == {
        "[Tvärgrupp] Sammanfattning: Tvärgrupp Tjugo 12 mars 2025"
    }
    attachments = []
    for message in received:
        assert message.is_multipart()
        [attachment] = message.iter_attachments()
        assert attachment.get_content_type() == "application/pdf"
        assert attachment.get_filename() == "sammanfattning-2025-03-12.pdf"
        attachments.append(attachment.get_content())
    summary = Summary.objects.get(meeting__group__name="Tvärgrupp Tjugo")
    with summary.pdf.open("rb") as pdf:
        assert set(attachments) == {pdf.read()}
    reader = PdfReader(io.BytesIO(attachments[0]))
    text = "\n".join(page.extract_text() for page in reader.pages)
    for title in TITLES:
        assert title in text
    assert {(m.status, m.attempts, m.last_error) for m in messages} == {(MessageStatus.SENT, 1, "")}
    assert all(m.sent_at is not None for m in messages)
    # The last batch to finish marks the summary sent.
    wait_until(
        lambda: Summary.objects.get(pk=summary.pk).status == SummaryStatus.SENT,
        what="the summary is marked sent",
    )
    summary.refresh_from_db()
    assert summary.sent_at is not None
    assert Meeting.objects.get(pk=summary.meeting_id).status == MeetingStatus.SUMMARY_SENT


@pytest.mark.parametrize("kind", KINDS)
def test_smtp_refusing_with_421_for_a_while_delays_but_loses_nothing(workers, mailbox, kind):
    workers(f"outbox-421-{kind}")
    mailbox.refuse_for(4)
    options = {"pdf_first": True} if kind == "summary" else {}
    messages, addresses = _queue(kind, "421", 20, **options)

    counts = _wait_for_everyone(mailbox, messages, addresses, timeout=90)

    assert counts == Counter({address: 1 for address in addresses})
    rows = list(messages)
    assert {(m.status, m.last_error) for m in rows} == {(MessageStatus.SENT, "")}
    assert max(m.attempts for m in rows) > 1
    # Every refusal was one counted attempt, retried later.
    assert mailbox.refused == sum(m.attempts - 1 for m in rows) > 0


@pytest.mark.parametrize("kind", KINDS)
def test_a_worker_killed_mid_send_loses_nothing_its_claims_lapse(workers, beat, mailbox, kind):
    # A slow server, so the kill lands mid-conversation; claims last three seconds.
    mailbox.delay = 0.3
    doomed = workers(f"outbox-doomed-{kind}", 1, OUTBOX_LEASE_SECONDS=3)
    messages, addresses = _queue(kind, "kill", 30)
    wait_until(lambda: len(_counts(mailbox, addresses)) >= 5, timeout=60, what="five arrived")

    _kill_whole_worker(doomed)

    assert messages.filter(status=MessageStatus.SENDING).count() >= 5  # claimed, never sent
    # Another worker, under another name, and the clock: the lapsed claims are taken again.
    mailbox.delay = 0
    workers(f"outbox-heir-{kind}", 2)
    beat()
    counts = _wait_for_everyone(mailbox, messages, addresses, timeout=90)

    assert set(counts) == set(addresses)
    # Only the message on the wire when the worker died may go twice.
    assert sum(counts.values()) - len(addresses) <= 1
    assert set(messages.values_list("status", flat=True)) == {MessageStatus.SENT}


def test_the_whole_worker_killed_and_restarted_sends_everything_within_two_minutes(
    workers, mailbox
):
    mailbox.delay = 0.2  # a slow server, so the kill lands mid-conversation
    doomed = workers("outbox-whole", 2)
    summaries, summary_addresses = _summary("whole-s", 15, pdf_first=True)
    notices, notice_addresses = _notice("whole-n", 15)
    addresses = summary_addresses + notice_addresses
    wait_until(lambda: len(_counts(mailbox, addresses)) >= 5, timeout=60, what="five arrived")

    _kill_whole_worker(doomed)
    unsent = summaries.exclude(status="sent").count() + notices.exclude(status="sent").count()
    claimed = summaries.filter(status="sending").count() + notices.filter(status="sending").count()
    assert (unsent > 10, claimed > 2) == (True, True)

    restarted = time.monotonic()
    workers("outbox-whole", 2)  # the same worker, back: it releases its claims at once
    _wait_for_everyone(mailbox, summaries, summary_addresses, timeout=120)
    counts = _wait_for_everyone(mailbox, notices, notice_addresses, timeout=120) + _counts(
        mailbox, summary_addresses
    )

    assert time.monotonic() - restarted - 1 < 120
    assert set(counts) == set(addresses)
    assert sum(counts.values()) - len(addresses) <= 2  # the two in flight, at most
    assert max(counts.values()) <= 2


@pytest.mark.parametrize("kind", KINDS)
def test_redis_emptied_under_a_running_worker_the_clock_recovers_everything(
    workers, beat, broker, mailbox, kind
):
    workers(f"outbox-flush-{kind}")
    node = _node(f"outbox-flush-{kind}")
    # The worker takes nothing until Redis has lost the queue.
    with _deaf([node]):
        options = {"pdf_first": True} if kind == "summary" else {}
        messages, addresses = _queue(kind, "flush", 20, **options)
        assert broker.llen("mail") > 0
        broker.flushdb()
    time.sleep(2)
    assert _counts(mailbox, addresses) == Counter()  # the queue really is gone

    beat()

    counts = _wait_for_everyone(mailbox, messages, addresses, timeout=60)
    assert counts == Counter({address: 1 for address in addresses})


def test_a_lost_render_is_made_again_and_its_summary_then_goes_out(workers, broker, mailbox):
    with _deaf():
        messages, addresses = _summary("flush-render", 10)
        broker.flushdb()
    workers("outbox-render")
    time.sleep(2)
    assert _counts(mailbox, addresses) == Counter()

    assert summaries_sweep(now=timezone.now() + timedelta(minutes=11)) == 1

    counts = _wait_for_everyone(mailbox, messages, addresses, timeout=60)
    assert counts == Counter({address: 1 for address in addresses})
    wait_until(
        lambda: Summary.objects.get(meeting__group__name="Tvärgrupp Flush-render").status == "sent",
        what="the summary is marked sent",
    )


# --- A slow server, a refused recipient, the rate ---------------------------------------


def test_a_slow_smtp_server_holds_no_lock_and_delays_no_one(workers, mailbox, client):
    workers("outbox-slow", 2)
    mailbox.delay = 5
    group = GroupFactory(name="Tvärgrupp Långsam")
    hr = DepartmentFactory(group=group, name="HR", short_name="HR")
    moderator = UserFactory(email="slow-moderator@example.se")
    group.moderators.add(moderator)
    closed = MeetingFactory(group=group, status=MeetingStatus.LIVE, starts_at=STARTS_AT)
    addresses = [f"slow-{n}@example.se" for n in range(4)]
    for address in addresses:
        AttendanceFactory(meeting=closed, user=UserFactory(email=address))
    summary = meeting_close(meeting=closed)
    summary_render(summary_id=summary.pk)
    live = MeetingFactory(group=group, status=MeetingStatus.OPEN)
    topic = TopicFactory(meeting=live, department=hr, title="Pågående lapp")
    board_start(meeting=live)
    client.force_login(moderator)

    started = time.monotonic()
    response = client.post(reverse("summaries:send", args=[closed.code]))
    request_seconds = time.monotonic() - started

    assert response.status_code == 302
    assert request_seconds < 1.0
    messages = summary_messages(summary=summary)
    wait_until(
        lambda: messages.filter(status=MessageStatus.SENDING).exists(),
        timeout=20,
        what="a worker is in an SMTP conversation",
    )
    # Mid-conversation: no session holds a transaction open, and a board write goes at once.
    assert _idle_in_transaction() == []
    started = time.monotonic()
    contribution_add(meeting=live, code=topic.code, author=moderator, department=hr, text="Idé")
    assert time.monotonic() - started < 1.0
    assert _idle_in_transaction() == []

    counts = _wait_for_everyone(mailbox, messages, addresses, timeout=60)
    assert counts == Counter({address: 1 for address in addresses})


@pytest.mark.parametrize("kind", KINDS)
def test_a_recipient_refused_for_good_fails_at_once_with_the_reply_and_is_never_retried(
    workers, mailbox, kind
):
    workers(f"outbox-refused-{kind}")
    gone = f"refused-{kind[0]}-01@example.se"
    mailbox.unknown = {gone}
    options = {"pdf_first": True} if kind == "summary" else {}
    messages, addresses = _queue(kind, "refused", 4, **options)
    others = [a for a in addresses if a != gone]

    wait_until(
        lambda: not messages.filter(status__in=["pending", "sending"]).exists(),
        timeout=30,
        what="every message is sent or failed",
    )
    time.sleep(3)  # retries come after 1, 2, 4 s here: none may come

    refused = messages.get(address=gone)
    assert (refused.status, refused.attempts) == (MessageStatus.FAILED, 1)
    assert refused.last_error == f"550 5.1.1 <{gone}>: Recipient address rejected: User unknown"
    assert mailbox.rcpt_attempts[gone] == 1
    assert _counts(mailbox, others) == Counter({address: 1 for address in others})
    assert set(messages.exclude(address=gone).values_list("status", flat=True)) == {"sent"}


def test_the_sending_rate_holds_across_all_workers(workers, mailbox):
    rate = {"MAIL_RATE_PER_MINUTE": 120}  # one e-mail every half second, installation-wide
    workers("outbox-rate-a", 2, **rate)
    workers("outbox-rate-b", 2, **rate)
    messages, addresses = _notice("rate", 8)

    _wait_for_everyone(mailbox, messages, addresses, timeout=60)

    arrivals = sorted(mailbox.arrivals)
    assert len(arrivals) == 8
    # Four worker processes, yet one slot at a time. A message reaches the server
    # some time after its slot (a worker process's first message makes it slowly:
    # up to 0.4 s on a loaded machine), so two arrivals may come close together,
    # but never three: three slots span a second.
    assert all(later - first > 0.5 for first, later in zip(arrivals, arrivals[2:], strict=False))
    assert arrivals[-1] - arrivals[0] > 7 * 0.45
