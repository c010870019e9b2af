"""The outbox's own rules, driven in this process over a real SMTP conversation.

`outbox_drain()` is exactly what a worker runs; here it runs in the test's
process so each rule can be watched step by step. A kind declared here through
the public `register()` stands in for a kind a later feature adds.
"""

import random
from datetime import timedelta
from email import encoders

import pytest
from django.core.mail import EmailMessage, EmailMultiAlternatives, get_connection
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from outbox import kinds
from outbox.models import Clock, Message, MessageStatus, Priority
from outbox.selectors import estimated_finish, outbox_backlog, outbox_list
from outbox.services import (
    Outgoing,
    backoff,
    messages_push,
    messages_queue,
    messages_release,
    messages_resend,
    outbox_drain,
    outbox_pump,
    outbox_release_worker,
    outbox_resend,
)
from outbox.transports import FrozenPart, wire_bytes
from tests.conftest import header, mime_shape, text_body

pytestmark = pytest.mark.django_db


class Probe:
    """What the probe kind does when rendered: which it was asked for, and how to behave."""

    rendered: list[str] = []
    caches: list[int] = []
    seen: list[tuple[int, int]] = []
    mailbox = None
    not_ready: set[str] = set()
    broken: set[str] = set()


def render_probe(message, cache):
    Probe.rendered.append(message.address)
    if message.address in Probe.not_ready:
        raise kinds.NotReady("waiting for something", retry_in=timedelta(minutes=3))
    if message.address in Probe.broken:
        raise ValueError("a bug in the template")
    cache["renders"] = cache.get("renders", 0) + 1
    return EmailMessage(
        subject=f"Prov {message.payload.get('n', '')}", body="Hej åäö", to=[message.address]
    )


def render_watcher(message, cache):
    """The probe, noting how many messages had arrived and how many were marked sent."""
    Probe.seen.append(
        (len(Probe.mailbox.messages), Message.objects.filter(status=MessageStatus.SENT).count())
    )
    return render_probe(message, cache)


def render_thief(message, cache):
    """The probe, while another drain takes this message (its lease ran out meanwhile)."""
    if message.address in Probe.not_ready:
        Message.objects.filter(pk=message.pk).update(claimed_by="other@host/1/ff")
    return render_probe(message, cache)


def render_spy(message, cache):
    """The probe, noting which cache each message was given."""
    Probe.caches.append(id(cache))
    return render_probe(message, cache)


PROBE = kinds.register(kinds.Kind("tests.probe", "Probe", render_probe))
SPY = kinds.register(kinds.Kind("tests.spy", "Spy", render_spy))
WATCHER = kinds.register(kinds.Kind("tests.watcher", "Watcher", render_watcher))
THIEF = kinds.register(kinds.Kind("tests.thief", "Thief", render_thief))
SECRET = kinds.register(kinds.Kind("tests.secret", "Secret", render_probe, secret=True))
URGENT = kinds.register(
    kinds.Kind("tests.urgent", "Urgent", render_probe, priority=Priority.URGENT)
)


@pytest.fixture(autouse=True)
def _reset_probe():
    Probe.rendered, Probe.caches, Probe.not_ready, Probe.broken = [], [], set(), set()
    Probe.seen, Probe.mailbox = [], None


def _queue(*addresses, kind="tests.probe", **fields):
    return messages_queue(
        outgoing=[
            Outgoing(kind=kind, key=f"{kind}:{address}", address=address, **fields)
            for address in addresses
        ]
    )


def _row(address) -> Message:
    return Message.objects.get(address=address)


# --- Queuing ----------------------------------------------------------------------------


def test_a_key_is_queued_once_however_often_it_is_asked_for():
    first = _queue("a@example.se", "b@example.se")
    again = _queue("b@example.se", "c@example.se", "c@example.se")

    assert [m.address for m in first] == ["a@example.se", "b@example.se"]
    assert [m.address for m in again] == ["c@example.se"]
    assert Message.objects.count() == 3


def test_messages_of_a_change_that_rolls_back_are_never_queued():
    with pytest.raises(RuntimeError), transaction.atomic():
        _queue("a@example.se")
        raise RuntimeError("the change failed")

    assert not Message.objects.exists()


def test_an_unknown_kind_is_refused_when_queued():
    with pytest.raises(LookupError):
        _queue("a@example.se", kind="tests.nonsense")


def test_names_lose_their_line_breaks_and_rows_take_the_kinds_priority():
    [message] = _queue("a@example.se", kind="tests.urgent", name="Eva\r\nBcc: x@example.com")

    row = _row("a@example.se")
    assert (row.name, row.priority, row.channel) == ("Eva Bcc: x@example.com", 0, "email")
    assert message.status == MessageStatus.PENDING


# --- Sending ---------------------------------------------------------------------------


def test_a_drain_sends_each_due_message_once_over_smtp(mailbox):
    _queue("a@example.se", "b@example.se", payload={"n": 7})

    assert outbox_drain() == 2
    assert outbox_drain() == 0

    assert sorted(header(m, "To") for m in mailbox.messages) == ["a@example.se", "b@example.se"]
    assert {header(m, "Subject") for m in mailbox.messages} == {"Prov 7"}
    assert text_body(mailbox.messages[0]).strip() == "Hej åäö"
    rows = list(Message.objects.all())
    assert {(m.status, m.attempts, m.last_error, m.claimed_by) for m in rows} == {
        (MessageStatus.SENT, 1, "", "")
    }
    assert all(m.sent_at and m.lease_until is None for m in rows)


def test_urgent_messages_go_first():
    _queue("bulk-1@example.se", "bulk-2@example.se")
    _queue("code@example.se", kind="tests.urgent")

    outbox_drain()

    assert Probe.rendered[0] == "code@example.se"


def test_a_message_not_due_yet_waits():
    _queue("later@example.se", not_before=timezone.now() + timedelta(minutes=5))

    assert outbox_drain() == 0
    assert Probe.rendered == []


def test_a_server_that_says_try_later_is_retried_with_growing_back_off(mailbox, settings):
    settings.MAIL_RETRY_SECONDS = 30
    mailbox.refuse_for(60)
    _queue("a@example.se")

    before = timezone.now()
    assert outbox_drain() == 0

    row = _row("a@example.se")
    assert (row.status, row.attempts, row.claimed_by) == (MessageStatus.PENDING, 1, "")
    assert row.last_error == "421 4.3.2 Service not available, try again later"
    assert (
        before + timedelta(seconds=30) <= row.not_before <= timezone.now() + timedelta(seconds=30)
    )
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 8, 20)] == [30, 60, 120, 3600, 3600]


def test_after_the_last_attempt_a_message_fails_with_the_servers_reply(mailbox, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 2
    mailbox.refuse_for(60)
    _queue("a@example.se")

    outbox_drain()
    Message.objects.update(not_before=timezone.now())  # the back-off is over
    outbox_drain()

    row = _row("a@example.se")
    assert (row.status, row.attempts) == (MessageStatus.FAILED, 2)
    assert row.last_error == "421 4.3.2 Service not available, try again later"
    assert mailbox.refused == 2


def test_a_recipient_the_server_refuses_for_good_fails_at_once(mailbox):
    mailbox.unknown = {"gone@example.se"}
    _queue("gone@example.se", "here@example.se")

    assert outbox_drain() == 1

    gone = _row("gone@example.se")
    assert (gone.status, gone.attempts) == (MessageStatus.FAILED, 1)
    assert gone.last_error == (
        "550 5.1.1 <gone@example.se>: Recipient address rejected: User unknown"
    )
    assert _row("here@example.se").status == MessageStatus.SENT


def test_no_server_at_all_is_a_transient_failure(mailbox, settings):
    settings.EMAIL_PORT = 9  # nothing listens on the discard port
    _queue("a@example.se")

    outbox_drain()

    row = _row("a@example.se")
    assert (row.status, row.attempts) == (MessageStatus.PENDING, 1)
    assert row.last_error.startswith("ConnectionRefusedError")


def test_a_message_that_is_not_ready_waits_without_counting_an_attempt(mailbox):
    Probe.not_ready = {"a@example.se"}
    _queue("a@example.se")

    assert outbox_drain() == 0

    row = _row("a@example.se")
    assert (row.status, row.attempts, row.claimed_by) == (MessageStatus.PENDING, 0, "")
    assert row.not_before > timezone.now() + timedelta(minutes=2)
    assert mailbox.messages == []


def test_a_message_that_cannot_be_made_fails_with_the_error_and_the_rest_still_go(mailbox):
    Probe.broken = {"a@example.se"}
    _queue("a@example.se", "b@example.se")

    assert outbox_drain() == 1

    row = _row("a@example.se")
    assert (row.status, row.attempts) == (MessageStatus.FAILED, 0)
    assert row.last_error == "Could not make the message: ValueError: a bug in the template"
    assert [header(m, "To") for m in mailbox.messages] == ["b@example.se"]


def test_a_batch_shares_one_cache_between_its_messages(mailbox):
    _queue(*[f"r{n}@example.se" for n in range(5)], kind="tests.spy")

    assert outbox_drain() == 5

    assert len(Probe.caches) == 5
    assert len(set(Probe.caches)) == 1


def test_a_secret_message_forgets_its_payload_once_sent_and_cannot_be_resent(mailbox):
    _queue("a@example.se", kind="tests.secret", payload={"code": "ABCD-1234"})

    outbox_drain()
    row = _row("a@example.se")
    assert (row.status, row.payload) == (MessageStatus.SENT, {})

    Message.objects.update(status=MessageStatus.FAILED)
    assert messages_resend(messages=Message.objects.all()) == 0


def test_a_message_is_marked_sent_before_the_next_one_goes_out(mailbox):
    # A message's conversation runs while the next one is made, and its result is
    # written with the next one's start: whenever a message is being made, at most
    # the one before it is on the wire or has arrived and is not marked sent.
    Probe.mailbox = mailbox
    _queue(*[f"r{n:02d}@example.se" for n in range(25)], kind="tests.watcher")

    assert outbox_drain() == 25

    assert len(Probe.seen) == 25
    for made, (arrived, marked) in enumerate(Probe.seen):
        assert made - 1 <= marked <= arrived <= made
    rows = list(Message.objects.all())
    assert {(m.status, m.attempts, m.claimed_by) for m in rows} == {(MessageStatus.SENT, 1, "")}
    assert len(mailbox.messages) == 25


def test_a_message_whose_claim_is_lost_is_called_off_before_it_is_delivered(mailbox):
    # Its envelope may already be with the server; the message itself never goes.
    _queue("a@example.se", "b@example.se", "c@example.se", kind="tests.thief")
    Probe.not_ready = {"b@example.se"}  # here: the one another drain takes

    assert outbox_drain() == 2

    assert sorted(header(m, "To") for m in mailbox.messages) == ["a@example.se", "c@example.se"]
    stolen = _row("b@example.se")
    assert (stolen.status, stolen.claimed_by, stolen.attempts) == (
        MessageStatus.SENDING,
        "other@host/1/ff",
        0,
    )


# --- On the wire ------------------------------------------------------------------------


def _shared_part() -> FrozenPart:
    part = FrozenPart("application", "pdf")
    part.set_payload(bytes(range(256)) * 200)
    encoders.encode_base64(part)
    part.add_header("Content-Disposition", "attachment", filename="sammanfattning.pdf")
    return part


def _full_email(address: str, part: FrozenPart) -> EmailMultiAlternatives:
    """Everything our kinds put in an e-mail: Swedish headers, a long line, HTML, a
    calendar file, a part shared by many messages, an e-mail attached."""
    email = EmailMultiAlternatives(
        subject="[Tvärgrupp] Sammanfattning: Tvärgrupp Åsa 12 mars 2025",
        body="Hej Åsa Öberg,\n\n" + "en rad som aldrig tar slut " * 60 + "\n--\nTvärgrupp\n",
        from_email="Tvärgrupp <tvargrupp@example.se>",
        to=[address],
        reply_to=["Karin Åberg <karin@example.se>"],
    )
    email.attach_alternative("<p>Hej Åsa Öberg,</p><p>Här är den.</p>", "text/html")
    email.attach("möte.ics", "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "text/calendar")
    email.attach(part)
    email.attach("vidare.eml", EmailMessage("Vidare", "Hej", to=["x@example.se"]).message())
    return email


def test_an_email_goes_on_the_wire_as_django_would_make_it():
    part = _shared_part()
    for address in ("a@example.se", "b@example.se"):
        email = _full_email(address, part)
        data = wire_bytes(email)

        assert mime_shape(data) == mime_shape(email.message().as_bytes(linesep="\r\n"))
        assert b"\n" not in data.replace(b"\r\n", b"")  # CRLF throughout
    # The shared part was written once and its bytes reused.
    assert len(part.flattened) == 1
    [flat] = part.flattened.values()
    assert flat in data


def test_a_boundary_found_in_the_text_is_never_used():
    random.seed(10)
    taken = f"=_{random.getrandbits(96):024x}"  # the boundary wire_bytes would pick first
    email = EmailMultiAlternatives(
        subject="Gränser", body=f"före\n--{taken}\nefter\n", to=["a@b.se"]
    )
    email.attach_alternative(f"<p>--{taken}--</p>", "text/html")
    random.seed(10)

    data = wire_bytes(email)

    assert taken.encode() in data
    assert f'boundary="{taken}"'.encode() not in data
    assert mime_shape(data) == mime_shape(email.message().as_bytes(linesep="\r\n"))


def test_a_drain_sends_what_djangos_smtp_backend_would_send(mailbox):
    _queue("a@example.se", payload={"n": 3})

    assert outbox_drain() == 1
    get_connection().send_messages([render_probe(_row("a@example.se"), {})])

    ours, djangos = mailbox.wait_for(2)
    assert mime_shape(ours) == mime_shape(djangos)
    assert header(ours, "Subject") == "Prov 3"


# --- Claims, leases and recovery ----------------------------------------------------------


def test_a_claim_is_exclusive_until_its_lease_runs_out(mailbox):
    _queue("a@example.se")
    now = timezone.now()
    Message.objects.update(
        status=MessageStatus.SENDING,
        claimed_by="w1@host/1/aa",
        lease_until=now + timedelta(minutes=1),
    )

    assert outbox_drain() == 0  # another worker holds it

    Message.objects.update(lease_until=now - timedelta(seconds=1))
    assert outbox_drain() == 1
    assert [header(m, "To") for m in mailbox.messages] == ["a@example.se"]


def test_a_worker_back_under_its_name_releases_what_it_had_claimed():
    _queue("a@example.se", "b@example.se", "c@example.se")
    lease = timezone.now() + timedelta(minutes=1)
    Message.objects.filter(address="a@example.se").update(
        status=MessageStatus.SENDING, claimed_by="w1@host/11/aa", lease_until=lease
    )
    Message.objects.filter(address="b@example.se").update(
        status=MessageStatus.SENDING, claimed_by="w10@host/12/bb", lease_until=lease
    )

    assert outbox_release_worker(worker="w1@host") == 1

    assert dict(Message.objects.values_list("address", "status")) == {
        "a@example.se": MessageStatus.PENDING,
        "b@example.se": MessageStatus.SENDING,
        "c@example.se": MessageStatus.PENDING,
    }


def test_the_pump_counts_what_is_due_and_what_a_dead_worker_left():
    _queue("due@example.se", "later@example.se", "claimed@example.se", "lapsed@example.se")
    now = timezone.now()
    Message.objects.filter(address="later@example.se").update(not_before=now + timedelta(hours=1))
    Message.objects.filter(address="claimed@example.se").update(
        status=MessageStatus.SENDING, claimed_by="x/1/a", lease_until=now + timedelta(minutes=1)
    )
    Message.objects.filter(address="lapsed@example.se").update(
        status=MessageStatus.SENDING, claimed_by="x/1/a", lease_until=now - timedelta(seconds=1)
    )

    assert outbox_pump() == 2


# --- The sending rate --------------------------------------------------------------------


@override_settings(MAIL_RATE_PER_MINUTE=60, CELERY_TASK_ALWAYS_EAGER=False)
def test_with_a_rate_one_e_mail_goes_per_slot_across_the_installation(mailbox):
    _queue("a@example.se", "b@example.se", "c@example.se")

    started = timezone.now()
    assert outbox_drain(budget=0.1) == 1  # one slot now; the next is a second away

    clock = Clock.objects.get()
    assert (
        started + timedelta(seconds=1)
        <= clock.next_email_slot
        <= timezone.now() + timedelta(seconds=1)
    )
    assert Message.objects.filter(status=MessageStatus.PENDING).count() == 2
    finish = estimated_finish(messages=Message.objects.all(), now=timezone.now())
    # Two left, one a second: the last goes two seconds after the next slot opens.
    assert abs((finish - (clock.next_email_slot + timedelta(seconds=1))).total_seconds()) < 0.01


# --- Resending -------------------------------------------------------------------------------


def test_resend_one_or_all_failed_and_push_the_stuck():
    _queue(
        "f1@example.se", "f2@example.se", "stuck@example.se", "fresh@example.se", "ok@example.se"
    )
    now = timezone.now()
    Message.objects.filter(address__in=["f1@example.se", "f2@example.se"]).update(
        status=MessageStatus.FAILED, attempts=8, last_error="550 no"
    )
    Message.objects.filter(address="stuck@example.se").update(not_before=now - timedelta(minutes=3))
    Message.objects.filter(address="ok@example.se").update(status=MessageStatus.SENT, sent_at=now)
    everything = Message.objects.all()
    one = _row("f1@example.se").code

    assert outbox_resend(messages=everything, which="one", code=one) == 1
    assert outbox_resend(messages=everything, which="failed") == 1
    assert outbox_resend(messages=everything, which="stuck") == 1

    rows = {m.address: m for m in everything}
    assert {a: (m.status, m.attempts, m.last_error) for a, m in rows.items()} == {
        "f1@example.se": (MessageStatus.PENDING, 0, ""),
        "f2@example.se": (MessageStatus.PENDING, 0, ""),
        "stuck@example.se": (MessageStatus.PENDING, 0, ""),
        "fresh@example.se": (MessageStatus.PENDING, 0, ""),
        "ok@example.se": (MessageStatus.SENT, 0, ""),
    }
    assert rows["stuck@example.se"].not_before >= now


def test_resending_never_touches_messages_outside_the_given_set():
    _queue("mine@example.se", "theirs@example.se")
    Message.objects.update(status=MessageStatus.FAILED)

    assert messages_resend(messages=Message.objects.filter(address="mine@example.se")) == 1
    assert _row("theirs@example.se").status == MessageStatus.FAILED
    assert messages_push(messages=Message.objects.none()) == 0


def test_releasing_held_messages_makes_them_due_now():
    _queue("held@example.se", not_before=timezone.now() + timedelta(minutes=10))

    assert messages_release(messages=Message.objects.all()) == 1
    assert _row("held@example.se").not_before <= timezone.now()


# --- Reading ---------------------------------------------------------------------------------


def test_the_list_counts_every_state_and_pages_newest_first():
    _queue(*[f"r{n:03d}@example.se" for n in range(105)])
    Message.objects.filter(address__lt="r010").update(status=MessageStatus.FAILED)
    Message.objects.filter(address="r050@example.se").update(
        not_before=timezone.now() - timedelta(minutes=5)
    )

    listing = outbox_list(messages=Message.objects.all(), page=2)

    assert listing.counts == {"pending": 95, "sending": 0, "sent": 0, "failed": 10}
    assert (listing.total, listing.pages, listing.page, listing.stuck) == (105, 2, 2, 1)
    assert len(listing.messages) == 5
    failed = outbox_list(messages=Message.objects.all(), status="failed", page=9)
    assert (len(failed.messages), failed.page, failed.resendable) == (10, 1, 10)
    assert outbox_list(messages=Message.objects.all(), status="nonsense").status == ""


def test_the_backlog_says_how_much_waits_and_since_when():
    _queue("a@example.se", "b@example.se")
    old = timezone.now() - timedelta(minutes=7)
    Message.objects.filter(address="a@example.se").update(not_before=old)
    Message.objects.filter(address="b@example.se").update(status=MessageStatus.FAILED)

    backlog = outbox_backlog()

    assert (backlog.pending, backlog.sending, backlog.stuck, backlog.failed_last_day) == (
        1,
        0,
        1,
        1,
    )
    assert backlog.oldest_due == old
