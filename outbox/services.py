"""Writes for the outbox: queuing, claiming, sending, retrying, resending.

The path of every message:

1. `messages_queue` writes the rows in bulk inside the caller's transaction and,
   after commit, wakes the workers: one `outbox.drain` task per batch, at most
   OUTBOX_PARALLEL of them, however many messages there are.
2. `outbox_drain` (in a worker) claims a batch of due rows in a short
   transaction (`SELECT … FOR UPDATE SKIP LOCKED`, then status `sending`, a lease
   and its own claim token) and commits. With MAIL_RATE_PER_MINUTE set, e-mail is
   claimed one at a time, each taking the next slot of the installation's
   `Clock` row, so the rate holds across every worker.
3. Each message is rendered (its kind's `render`) and sent over the drain's one
   SMTP connection, outside any transaction; just before, its lease is renewed
   and its attempt counted, on the condition that the claim is still ours. The
   conversation runs in a second thread while the next message is made, one
   message on the wire at a time (`Transports`).
4. The result is one `UPDATE`: sent; or back to pending with exponential
   back-off after a transient refusal (4xx, a dropped connection); or failed with
   the server's reply after a permanent one (5xx) or the last attempt. It is
   written with the drain's next write (the next message's start, the next
   claim), in the same commit: one commit a message, not two (`_Results`).

A worker killed mid-batch leaves rows in `sending`: their lease runs out after
OUTBOX_LEASE_SECONDS (a minute) and any drain takes them again; a worker that
comes back under the same name releases its own at once (`outbox_release_worker`).
A broker that lost its tasks loses nothing either: `outbox_pump` (beat, every
OUTBOX_PUMP_SECONDS) wakes the workers whenever a row is due.
"""

import logging
import math
import os
import secrets
import socket
import time
from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ObjectDoesNotExist
from django.db import connection, models, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from outbox import kinds
from outbox.models import Channel, Clock, Message, MessageStatus
from outbox.transports import Transports, refusal

logger = logging.getLogger(__name__)

BATCH = 10  # claimed at once by one drain: small, so several workers share a backlog
DRAIN_SECONDS = 20.0  # a drain hands its worker process back after this long
STUCK_AFTER = timedelta(minutes=2)  # due this long and not taken: the page offers a push
REPORT_SECONDS = 1.0  # the kinds' `finished` hooks hear of finished messages this often


@dataclass
class Outgoing:
    """One message to queue: what it is, to whom, about what, and what it needs to render."""

    kind: str
    key: str
    address: str
    name: str = ""
    language: str = ""
    recipient: models.Model | None = None
    about: models.Model | None = None
    payload: dict = field(default_factory=dict)
    not_before: datetime | None = None


def _lease() -> timedelta:
    return timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)


def _email_spacing() -> float:
    """Seconds between two e-mails across the installation; 0 for no limit."""
    rate = settings.MAIL_RATE_PER_MINUTE
    if not rate or settings.CELERY_TASK_ALWAYS_EAGER:
        return 0.0  # in-process tasks (`make run`) write files: no relay to spare
    return 60.0 / rate


def backoff(attempts: int) -> timedelta:
    """Wait after the n-th failed attempt: MAIL_RETRY_SECONDS, doubling, at most an hour."""
    return timedelta(seconds=min(settings.MAIL_RETRY_SECONDS * 2 ** max(attempts - 1, 0), 3600))


# --- Queuing ----------------------------------------------------------------------


def messages_queue(*, outgoing: Iterable[Outgoing]) -> list[Message]:
    """Write one row per message, skipping keys already queued; wake workers after commit.

    Call it inside the transaction of the change that causes the messages: if
    that rolls back, nothing is queued and no worker is woken.
    """
    now = timezone.now()
    rows: dict[str, Message] = {}
    types: dict[type, ContentType] = {}
    for item in outgoing:
        kind = kinds.get(item.kind)
        about_type = None
        if item.about is not None:
            model = type(item.about)
            about_type = types.setdefault(model, ContentType.objects.get_for_model(model))
        message = Message(
            kind=kind.name,
            channel=kind.channel,
            priority=kind.priority,
            key=item.key[:255],
            address=item.address,
            name=" ".join(item.name.split())[:150],
            language=item.language or settings.LANGUAGE_CODE,
            recipient=item.recipient,
            about_type=about_type,
            about_id=item.about.pk if item.about is not None else None,
            payload=item.payload,
            not_before=item.not_before or now,
        )
        # The related rows are instances already loaded: checking that each exists
        # would cost two queries a message (a send to 300 people made 600).
        message.full_clean(
            exclude=["recipient", "about_type"], validate_unique=False, validate_constraints=False
        )
        rows.setdefault(message.key, message)
    if not rows:
        return []
    with transaction.atomic():
        existing = set(Message.objects.filter(key__in=rows).values_list("key", flat=True))
        new = [message for key, message in rows.items() if key not in existing]
        # A concurrent transaction may queue the same key: the unique key decides.
        Message.objects.bulk_create(new, ignore_conflicts=True, batch_size=500)
    if new:
        due = sum(1 for message in new if message.not_before <= now)
        if due:
            outbox_wake(count=due)
        else:
            transaction.on_commit(lambda: outbox_wake_at(min(m.not_before for m in new)))
    return new


def outbox_wake(*, count: int = 1) -> int:
    """Ask the workers to drain the outbox: one task per batch, at most OUTBOX_PARALLEL.

    The tasks are sent once the current transaction commits (at once outside one).
    """
    from outbox.tasks import drain_task

    tasks = (
        1
        if settings.CELERY_TASK_ALWAYS_EAGER
        else max(min(math.ceil(count / BATCH), settings.OUTBOX_PARALLEL), 1)
    )
    transaction.on_commit(lambda: [drain_task.delay() for _number in range(tasks)])
    return tasks


def outbox_wake_at(when: datetime) -> bool:
    """One drain at `when` (a back-off ends, the next slot), unless one is already due by then."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return False  # no clock in-process: `manage.py tick` (and `make run`) drain
    from outbox.tasks import drain_task

    now = timezone.now()
    Clock.objects.get_or_create(pk=1)
    asked = (
        Clock.objects.filter(pk=1)
        .filter(Q(wakeup_at__isnull=True) | Q(wakeup_at__lte=now) | Q(wakeup_at__gt=when))
        .update(wakeup_at=when)
    )
    if asked:
        countdown = max((when - now).total_seconds(), 0)
        transaction.on_commit(lambda: drain_task.apply_async(countdown=countdown))
    return bool(asked)


# --- Sending ----------------------------------------------------------------------


def _due(now: datetime) -> Q:
    return Q(status=MessageStatus.PENDING, not_before__lte=now) | Q(
        status=MessageStatus.SENDING, lease_until__lt=now
    )


class _Results:
    """A drain's results not yet written; each goes with the drain's next write, in one commit.

    A message's conversation runs while the drain makes the next message; its
    result is noted when the drain next writes (`settle`), and written in that
    same transaction: with the next message's start (its attempt counted just
    before it goes on the wire), the next claim, a release or the drain's end.
    One commit a message instead of two, and still one message on the wire at a
    time. The guarantee is unchanged: a process killed at any moment leaves at
    most one message sent and not marked, the one it was sending or had just
    sent, which goes again when its lease runs out.
    """

    def __init__(self, token: str):
        self.token = token
        self.pending: list[tuple[int, dict]] = []
        self.on_the_wire: tuple[Message, Future] | None = None
        self.sent = 0
        self.done: list[Message] = []  # sent or failed, for the kinds' `finished` hooks

    def add(self, message: Message, **fields) -> None:
        fields.setdefault("claimed_by", "")
        fields.setdefault("lease_until", None)
        finished = fields.get("status") in (MessageStatus.SENT, MessageStatus.FAILED)
        if finished and kinds.is_secret(message.kind):
            fields["payload"] = {}  # a sign-in code does not outlive its sending
        for name, value in fields.items():
            setattr(message, name, value)
        self.pending.append((message.pk, fields))
        if finished:
            self.done.append(message)

    def settle(self) -> None:
        """Wait for the conversation on the wire, if any, and note how it ended."""
        if self.on_the_wire is None:
            return
        message, conversation = self.on_the_wire
        self.on_the_wire = None
        try:
            conversation.result()
        except Exception as error:
            refused = refusal(error)
            if refused.permanent or message.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
                logger.warning("Outbox message %s failed: %s", message.pk, refused.reply)
                self.add(message, status=MessageStatus.FAILED, last_error=refused.reply)
            else:
                self.add(
                    message,
                    status=MessageStatus.PENDING,
                    last_error=refused.reply,
                    not_before=timezone.now() + backoff(message.attempts),
                )
            return
        self.add(message, status=MessageStatus.SENT, sent_at=timezone.now(), last_error="")
        self.sent += 1
        # No address in the log: the outbox pages show who; the log says what and when.
        logger.info(
            "Outbox message %s sent (%s)",
            message.pk,
            message.kind,
            extra={"message_id": message.pk, "kind": message.kind, "attempts": message.attempts},
        )

    @contextmanager
    def writing(self):
        """A transaction that begins with the pending results.

        The conversation on the wire is waited for before the transaction opens,
        so no transaction waits on the SMTP server.
        """
        self.settle()
        pending, self.pending = self.pending, []
        try:
            with transaction.atomic():
                if pending:
                    now = timezone.now()
                    with connection.cursor() as cursor:
                        for pk, fields in pending:
                            cursor.execute(*self._update(pk, {"updated_at": now, **fields}))
                yield
        except BaseException:
            self.pending[:0] = pending  # rolled back: written with the next write
            raise

    def start(self, message: Message) -> bool:
        """Write the pending results and this message's start: its attempt counted and its
        lease renewed, if the claim is still ours. Returns whether it was.

        On PostgreSQL that is one statement (the results as data-modifying `WITH`
        clauses): one round trip and one commit a message, where the ORM took a
        BEGIN, two UPDATEs and a COMMIT.
        """
        now = timezone.now()
        started, _rows = self._write_with(
            *self._update(message.pk, {"lease_until": now + _lease(), "updated_at": now}, True)
        )
        if started:
            message.attempts += 1
        return bool(started)

    def claim(self, now: datetime) -> list[int]:
        """Write the pending results and claim up to BATCH due messages, in one statement
        (PostgreSQL): `UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING id`."""
        self.settle()  # its result is one of those written
        name = connection.ops.quote_name
        table = name(Message._meta.db_table)
        status, not_before, lease = name("status"), name("not_before"), name("lease_until")
        # The names are the model's own and every value a parameter.
        due = (
            f"SELECT {name('id')} FROM {table} WHERE "  # noqa: S608 # nosec B608
            f"(({status} = %s AND {not_before} <= %s) OR ({status} = %s AND {lease} < %s))"
            f" AND NOT ({name('id')} = ANY(%s))"  # a result being written in the same statement
            f" ORDER BY {name('priority')}, {not_before}, {name('id')}"
            " LIMIT %s FOR UPDATE SKIP LOCKED"
        )
        sql = (
            f"UPDATE {table} SET {status} = %s, {name('claimed_by')} = %s, {lease} = %s,"  # noqa: S608 # nosec B608
            f" {name('updated_at')} = %s WHERE {name('id')} IN ({due}) RETURNING {name('id')}"
        )
        params = [
            MessageStatus.SENDING.value,
            self.token,
            now + _lease(),
            now,
            MessageStatus.PENDING.value,
            now,
            MessageStatus.SENDING.value,
            now,
            [pk for pk, _fields in self.pending],
            BATCH,
        ]
        _count, rows = self._write_with(sql, params, rows=True)
        return [row[0] for row in rows]

    def _write_with(self, sql: str, params: list, *, rows: bool = False) -> tuple[int, list]:
        """Run a statement with the pending results written in it, as data-modifying `WITH`
        clauses (elsewhere than PostgreSQL: before it, in one transaction). Returns its row
        count and, if asked, its rows."""
        self.settle()
        now = timezone.now()
        pending, self.pending = self.pending, []
        results = [self._update(pk, {"updated_at": now, **fields}) for pk, fields in pending]
        try:
            with connection.cursor() as cursor:
                if connection.vendor == "postgresql":
                    clauses = [
                        f"result_{n} AS ({result})" for n, (result, _p) in enumerate(results)
                    ]
                    cursor.execute(
                        f"WITH {', '.join(clauses)} {sql}" if clauses else sql,
                        [param for _sql, more in results for param in more] + params,
                    )
                else:
                    with transaction.atomic():
                        for statement in results:
                            cursor.execute(*statement)
                        cursor.execute(sql, params)
                return cursor.rowcount, cursor.fetchall() if rows else []
        except BaseException:
            self.pending[:0] = pending
            raise

    def _update(self, pk: int, fields: dict, count_attempt: bool = False) -> tuple[str, list]:
        """`UPDATE outbox_message SET … WHERE id = pk`, while the row is `sending` under
        our claim: what `Message.objects.filter(…).update(…)` writes, as SQL to combine."""
        name = connection.ops.quote_name
        columns, params = [], []
        for field_name, value in fields.items():
            field = Message._meta.get_field(field_name)
            columns.append(f"{name(field.column)} = %s")
            params.append(field.get_db_prep_save(value, connection))
        if count_attempt:
            columns.append(f"{name('attempts')} = {name('attempts')} + 1")
        # The names are the model's own and every value a parameter.
        table, where = name(Message._meta.db_table), f"{name('id')} = %s"
        where += f" AND {name('status')} = %s AND {name('claimed_by')} = %s"
        sql = f"UPDATE {table} SET {', '.join(columns)} WHERE {where}"  # noqa: S608 # nosec B608
        return sql, [*params, pk, MessageStatus.SENDING.value, self.token]

    def report(self) -> None:
        """The kinds' `finished` hooks, for what has been written sent or failed."""
        done, self.done = self.done, []
        by_kind: dict[str, list[Message]] = defaultdict(list)
        for message in done:
            by_kind[message.kind].append(message)
        for name, messages in by_kind.items():
            hook = kinds.get(name).finished
            if hook is not None:
                try:
                    hook(messages)
                except Exception:
                    logger.exception("The outbox's finished hook of %s failed", name)


def _claim(results: _Results) -> tuple[list[Message], datetime | None]:
    """Write the results still pending and claim due messages for this drain; with a rate,
    e-mail only as the clock allows.

    Returns the claimed messages, and the moment the next e-mail may go when the
    rate holds one back.
    """
    now = timezone.now()
    spacing = _email_spacing()
    held_until = None
    if spacing or connection.vendor != "postgresql":
        ids, held_until = _claim_with_clock(results, now, spacing)
    else:
        ids = results.claim(now)  # one statement, the results written in it
    claimed = list(
        Message.objects.filter(pk__in=ids, claimed_by=results.token)
        .select_related("recipient")
        .order_by("priority", "not_before", "pk")
    )
    return claimed, held_until


def _claim_with_clock(
    results: _Results, now: datetime, spacing: float
) -> tuple[list[int], datetime | None]:
    """The claim in a transaction of several statements: with a rate (the `Clock` row
    decides), and on SQLite."""
    held_until = None
    queue = Message.objects.filter(_due(now)).order_by("priority", "not_before", "pk")
    with results.writing():
        free = queue.exclude(channel=Channel.EMAIL) if spacing else queue
        ids = list(free.select_for_update(skip_locked=True).values_list("pk", flat=True)[:BATCH])
        if spacing and len(ids) < BATCH:
            Clock.objects.get_or_create(pk=1, defaults={"next_email_slot": now})
            clock = Clock.objects.select_for_update().get(pk=1)
            email = queue.filter(channel=Channel.EMAIL).select_for_update(skip_locked=True)
            if clock.next_email_slot <= now:
                first = email.values_list("pk", flat=True).first()
                if first is not None:
                    ids.append(first)
                    # Keep the cadence while busy; after a pause, start from now (no burst).
                    base = clock.next_email_slot
                    if base < now - timedelta(seconds=spacing):
                        base = now
                    clock.next_email_slot = base + timedelta(seconds=spacing)
                    clock.save(update_fields=["next_email_slot"])
            elif queue.filter(channel=Channel.EMAIL).exists():
                held_until = clock.next_email_slot
        if ids:
            # Still due: without row locks (SQLite) two claims cannot both win a row.
            Message.objects.filter(pk__in=ids).filter(_due(now)).update(
                status=MessageStatus.SENDING,
                claimed_by=results.token,
                lease_until=now + _lease(),
                updated_at=now,
            )
    return ids, held_until


def _deliver(message: Message, results: _Results, transports: Transports, cache: dict) -> None:
    """Make one claimed message and put it on the wire.

    It is made (rendered, and for e-mail turned into bytes) while the previous
    message's conversation may still run; then that one is settled, this one's
    conversation begins (up to the point where it would deliver), the previous
    result is written together with this one's start, and only then is this
    one delivered. Its own result is noted at the drain's next write.
    """
    now = timezone.now()
    try:
        kind = kinds.get(message.kind)
        rendered = kind.render(message, cache)
        conversation = transports.conversation(
            channel=message.channel, address=message.address, rendered=rendered
        )
    except kinds.NotReady as wait:
        results.add(message, status=MessageStatus.PENDING, not_before=now + wait.retry_in)
        return
    except ObjectDoesNotExist as gone:
        # Stored as the server's replies are: in English, whoever reads it later.
        reply = f"Nothing to send any more: {gone}"
        results.add(message, status=MessageStatus.FAILED, last_error=reply[:2000])
        return
    except Exception as error:
        logger.exception("Could not render outbox message %s (%s)", message.pk, message.kind)
        reply = f"Could not make the message: {type(error).__name__}: {error}"
        results.add(message, status=MessageStatus.FAILED, last_error=reply[:2000])
        return
    results.settle()  # the one before is done: this one's conversation may begin
    conversation, go = transports.start(conversation)
    started = False
    try:
        # The previous message's result and this one's start, while the server
        # hears this one's envelope; the message itself goes only once they are written.
        started = results.start(message)
    finally:
        go.set_result(started)
    if started:
        results.on_the_wire = (message, conversation)
    # Otherwise our lease ran out and another drain took it: the conversation is called off.


def _release(messages: list[Message], results: _Results) -> None:
    """Claimed but not started (the drain's time is up): back to the queue at once."""
    with results.writing():
        Message.objects.filter(
            pk__in=[m.pk for m in messages], status=MessageStatus.SENDING, claimed_by=results.token
        ).update(status=MessageStatus.PENDING, claimed_by="", lease_until=None)


def outbox_drain(*, worker: str = "", budget: float = DRAIN_SECONDS) -> int:
    """Send due messages in batches until none is due or the time is up; returns how many went."""
    results = _Results(f"{worker or socket.gethostname()}/{os.getpid()}/{secrets.token_hex(4)}")
    started = time.monotonic()
    held_until = None
    out_of_time = False
    transports = Transports()
    cache: dict = {}
    reported = started
    try:
        while True:
            claimed, held_until = _claim(results)
            if time.monotonic() - reported > REPORT_SECONDS:
                results.report()
                reported = time.monotonic()
            if not claimed:
                wait = (held_until - timezone.now()).total_seconds() if held_until else None
                if wait is not None and wait < 0.5 and results.sent and not out_of_time:
                    time.sleep(max(wait, 0))  # the next slot is a moment away: stay
                    continue
                break
            for index, message in enumerate(claimed):
                if time.monotonic() - started > budget:
                    _release(claimed[index:], results)
                    out_of_time = True
                    break
                _deliver(message, results, transports, cache)
            if out_of_time or time.monotonic() - started > budget:
                out_of_time = True
                break
    finally:
        try:
            if results.pending or results.on_the_wire:
                with results.writing():
                    pass
        finally:
            transports.close()
    results.report()
    if out_of_time:
        outbox_wake(count=1)  # carry on in a fresh task; other work gets its turn
    else:
        upcoming = held_until or (
            Message.objects.filter(status=MessageStatus.PENDING, not_before__gt=timezone.now())
            .order_by("not_before")
            .values_list("not_before", flat=True)
            .first()
        )
        if upcoming is not None:
            outbox_wake_at(upcoming)
    return results.sent


# --- Recovery -----------------------------------------------------------------------


def outbox_release_worker(*, worker: str) -> int:
    """A worker starting again: what its earlier life had claimed goes back to the queue."""
    return Message.objects.filter(
        status=MessageStatus.SENDING, claimed_by__startswith=f"{worker}/"
    ).update(status=MessageStatus.PENDING, claimed_by="", lease_until=None)


def outbox_pump(*, now: datetime | None = None) -> int:
    """What the clock does every OUTBOX_PUMP_SECONDS: wake workers if anything is due.

    Covers a broker that lost its queue (Redis restarted empty) and leases that ran
    out (a worker killed); returns how many messages were due.
    """
    now = now or timezone.now()
    due = Message.objects.filter(_due(now)).count()
    if due:
        outbox_wake(count=due)
    else:
        upcoming = (
            Message.objects.filter(status=MessageStatus.PENDING)
            .order_by("not_before")
            .values_list("not_before", flat=True)
            .first()
        )
        if upcoming is not None:
            outbox_wake_at(upcoming)
    return due


# --- Resending --------------------------------------------------------------------


@transaction.atomic
def messages_resend(*, messages: QuerySet[Message]) -> int:
    """Failed messages (of the given set) go back to the queue with fresh attempts."""
    now = timezone.now()
    count = (
        messages.filter(status=MessageStatus.FAILED)
        .exclude(kind__in=kinds.secret_names())
        .update(
            status=MessageStatus.PENDING, attempts=0, last_error="", not_before=now, updated_at=now
        )
    )
    if count:
        outbox_wake(count=count)
    return count


@transaction.atomic
def messages_push(*, messages: QuerySet[Message], now: datetime | None = None) -> int:
    """Stuck messages (due for STUCK_AFTER and not taken, or a lapsed claim) go now."""
    now = now or timezone.now()
    stuck = messages.filter(
        Q(status=MessageStatus.PENDING, not_before__lt=now - STUCK_AFTER)
        | Q(status=MessageStatus.SENDING, lease_until__lt=now)
    )
    count = stuck.update(
        status=MessageStatus.PENDING,
        claimed_by="",
        lease_until=None,
        not_before=now,
        updated_at=now,
    )
    if count:
        outbox_wake(count=count)
    return count


@transaction.atomic
def messages_release(*, messages: QuerySet[Message]) -> int:
    """Pending messages held for later (waiting for their PDF) may go now."""
    now = timezone.now()
    count = messages.filter(status=MessageStatus.PENDING, not_before__gt=now).update(
        not_before=now, updated_at=now
    )
    if count:
        outbox_wake(count=count)
    return count


def outbox_resend(
    *, messages: QuerySet[Message], which: str, code: str = "", kind: str = ""
) -> int:
    """What the outbox pages' buttons do: resend one or all failed, push all stuck,
    or send the waiting ones now."""
    if kind:
        messages = messages.filter(kind=kind)
    if which == "one":
        return messages_resend(messages=messages.filter(code=code))
    if which == "failed":
        return messages_resend(messages=messages)
    if which == "stuck":
        return messages_push(messages=messages)
    if which == "waiting":
        return messages_release(messages=messages)
    raise ValueError(f"Unknown resend choice {which!r}")
