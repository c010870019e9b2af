"""Sending a summary when things break: SMTP refusing, a worker killed, Redis emptied.

Everything is real: PostgreSQL, Redis, Celery worker processes and the loopback
SMTP server. The outbox rows are the record of what must be sent, so whatever
breaks, every recipient ends up with the summary, and at most a message that
was on the wire when a worker died is sent twice.

Messages are counted per address, each test with addresses of its own: a worker
from other tests may still be sending their mail.
"""

import io
import os
import signal
import subprocess
import time
from collections import Counter
from contextlib import contextmanager, suppress
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import redis
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from pypdf import PdfReader

from meetings.models import Meeting, MeetingStatus
from summaries.models import DeliveryStatus, Summary, SummaryStatus
from summaries.services import (
    DELIVERY_STUCK_AFTER,
    deliveries_sweep,
    meeting_close,
    summary_render,
    summary_send,
)
from tests.conftest import header, require_service, start_celery_worker, stop_celery_worker
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


@pytest.fixture
def broker(redis_available):
    require_service(redis_available, f"Redis ({settings.CELERY_BROKER_URL})")
    return redis.Redis.from_url(settings.CELERY_BROKER_URL)


@pytest.fixture
def workers():
    """Workers this test starts itself; stopped (or reaped, if killed) afterwards."""
    started = []

    def start(log_name: str, concurrency: int):
        process = start_celery_worker(log_name=log_name, concurrency=concurrency)
        started.append(process)
        return process

    yield start
    for process in started:
        stop_celery_worker(process)


def _send(*, tag: str, recipients: int, pdf_first: bool = False) -> tuple[Summary, list[str]]:
    """A live meeting with three post-its, closed and sent as the moderator does it."""
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
        deliveries = summary_send(summary=summary, by=moderator)
    assert sorted(delivery.email for delivery in deliveries) == addresses
    return summary, addresses


def _counts(mailbox, addresses: list[str]) -> Counter:
    ours = set(addresses)
    return Counter(
        header(message, "To") for message in mailbox.messages if header(message, "To") in ours
    )


def _wait_until(condition, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting until {what}")
        time.sleep(0.1)


def _all_sent(summary: Summary) -> bool:
    return not summary.deliveries.exclude(status=DeliveryStatus.SENT).exists()


def _wait_for_everyone(mailbox, summary: Summary, addresses: list[str], timeout: float) -> Counter:
    """Every address has mail and every row says sent; then the count, settled."""
    _wait_until(
        lambda: len(_counts(mailbox, addresses)) == len(addresses) and _all_sent(summary),
        timeout=timeout,
        what=f"all {len(addresses)} recipients have the summary "
        f"(got {len(_counts(mailbox, addresses))})",
    )
    time.sleep(1)  # a duplicate would arrive now
    return _counts(mailbox, addresses)


def _children(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    return [int(child) for child in found.stdout.split()]


@contextmanager
def _running_workers_deaf():
    """Workers already running (another test's) take no task for a while, by remote control."""
    from tvargrupp.celery import app

    queues = ["default", "mail", "pdf"]
    hostnames = sorted(
        {
            hostname
            for queue in queues
            for reply in app.control.cancel_consumer(queue, reply=True, timeout=1)
            for hostname in reply
        }
    )
    try:
        yield hostnames
    finally:
        if hostnames:
            for queue in queues:
                app.control.add_consumer(queue, destination=hostnames, reply=True, timeout=5)
            listening = app.control.inspect(destination=hostnames, timeout=5).active_queues()
            assert {
                hostname: sorted(queue["name"] for queue in active)
                for hostname, active in (listening or {}).items()
            } == {hostname: queues for hostname in hostnames}


def _kill_hard(process) -> None:
    """SIGKILL a worker and its pool processes: no clean shutdown, no acknowledgements."""
    children = _children(process.pid)
    os.kill(process.pid, signal.SIGKILL)
    for pid in children:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    process.wait(timeout=10)


def _after_stuck() -> datetime:
    return timezone.now() + DELIVERY_STUCK_AFTER + timedelta(minutes=1)


def test_twenty_recipients_get_one_message_each_with_the_pdf(celery_worker, mailbox):
    summary, addresses = _send(tag="tjugo", recipients=20)

    counts = _wait_for_everyone(mailbox, summary, addresses, timeout=60)

    assert counts == Counter({address: 1 for address in addresses})
    messages = [m for m in mailbox.messages if header(m, "To") in set(addresses)]
    assert {header(m, "Subject") for m in messages} == {
        "[Tvärgrupp] Sammanfattning: Tvärgrupp Tjugo 2025-03-12"
    }
    attachments = []
    for message in messages:
        assert message.is_multipart()
        [attachment] = message.iter_attachments()
        assert attachment.get_content_type() == "application/pdf"
        assert attachment.get_filename() == "sammanfattning-2025-03-12.pdf"
        attachments.append(attachment.get_content())
    summary.refresh_from_db()
    with summary.pdf.open("rb") as pdf:
        assert set(attachments) == {pdf.read()}
    reader = PdfReader(io.BytesIO(attachments[0]))
    text = "\n".join(page.extract_text() for page in reader.pages)
    for title in TITLES:
        assert title in text
    assert "Tvärgrupp Tjugo" in text

    deliveries = list(summary.deliveries.all())
    assert [d.email for d in deliveries] == addresses
    assert {(d.status, d.attempts, d.last_error) for d in deliveries} == {
        (DeliveryStatus.SENT, 1, "")
    }
    assert all(d.sent_at is not None for d in deliveries)
    assert summary.status == SummaryStatus.SENT
    assert summary.sent_at is not None
    assert Meeting.objects.get(pk=summary.meeting_id).status == MeetingStatus.SUMMARY_SENT


def test_smtp_refusing_with_421_for_a_while_delays_but_loses_nothing(celery_worker, mailbox):
    mailbox.refuse_for(4)
    summary, addresses = _send(tag="421", recipients=20, pdf_first=True)

    counts = _wait_for_everyone(mailbox, summary, addresses, timeout=60)

    assert counts == Counter({address: 1 for address in addresses})
    deliveries = list(summary.deliveries.all())
    assert {(d.status, d.last_error) for d in deliveries} == {(DeliveryStatus.SENT, "")}
    assert max(d.attempts for d in deliveries) > 1
    # Every refusal was one counted attempt, retried later.
    assert mailbox.refused == sum(d.attempts - 1 for d in deliveries)
    assert mailbox.refused > 0
    summary.refresh_from_db()
    assert summary.status == SummaryStatus.SENT


def test_a_worker_killed_mid_send_loses_nothing(mailbox, broker, workers, settings):
    settings.MAIL_RATE_PER_MINUTE = 300  # one send every 0.2 s: the kill lands mid-send
    doomed = workers("kill-worker.log", concurrency=1)
    summary, addresses = _send(tag="kill", recipients=40)
    _wait_until(lambda: len(_counts(mailbox, addresses)) >= 5, timeout=60, what="five have arrived")

    _kill_hard(doomed)

    assert summary.deliveries.filter(status=DeliveryStatus.PENDING).exists()
    assert deliveries_sweep(now=_after_stuck()) > 0
    workers("after-kill-worker.log", concurrency=2)
    counts = _wait_for_everyone(mailbox, summary, addresses, timeout=60)

    assert set(counts) == set(addresses)
    # Only a message on the wire when the worker died may go twice.
    assert sum(counts.values()) - len(addresses) <= 2
    assert max(counts.values()) <= 2
    assert set(summary.deliveries.values_list("status", flat=True)) == {DeliveryStatus.SENT}
    summary.refresh_from_db()
    assert summary.status == SummaryStatus.SENT


@pytest.mark.parametrize("lost", ["render", "deliveries"])
def test_redis_flushed_mid_send_the_sweeper_recovers_everything(mailbox, broker, workers, lost):
    # No worker may take a task before Redis loses it.
    with _running_workers_deaf():
        summary, addresses = _send(tag=f"flush-{lost}", recipients=20, pdf_first=lost != "render")
        broker.flushdb()
        time.sleep(2)
        assert _counts(mailbox, addresses) == Counter()

    assert set(summary.deliveries.values_list("status", flat=True)) == {DeliveryStatus.PENDING}
    workers("flush-worker.log", concurrency=2)
    time.sleep(2)
    assert _counts(mailbox, addresses) == Counter()  # the queue really is gone

    swept = deliveries_sweep(now=_after_stuck())

    # Without a PDF the deliveries wait: the sweep renders it, the render enqueues them.
    assert swept == (0 if lost == "render" else 20)
    counts = _wait_for_everyone(mailbox, summary, addresses, timeout=60)
    assert counts == Counter({address: 1 for address in addresses})
    summary.refresh_from_db()
    assert summary.status == SummaryStatus.SENT
    assert summary.pdf_version == summary.content_version
