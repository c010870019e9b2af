"""Benchmark the outbox's fan-out: the moderator's send request, and e-mails a second.

    uv run python bench/outbox.py [--recipients 300] [--runs 3]

Throw-away PostgreSQL database (BENCH_DATABASE, default tvargrupp_bench) and a
Redis database it empties (BENCH_REDIS_URL, default redis://127.0.0.1:6379/14).
Each run, in one go:

1. a closed meeting with N attendees and its summary PDF rendered;
2. the moderator's POST to the summary's send view (the whole Django stack,
   middleware included, in this process): its time and its queries;
3. a Celery worker with two processes sends the N messages over SMTP to a
   sink running in its own process; time from the request to the last arrival;
4. the floor, right after, against the same sink: `smtplib` sending the same
   message bytes N times in a loop over one connection.

The result is the ratio of (3) to (4): both share the machine at the same
moment, so it holds on a shared machine where the absolute rates do not.
"""

import argparse
import os
import smtplib
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = os.environ.get("BENCH_DATABASE", "tvargrupp_bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
SMTP_PORT = int(os.environ.get("BENCH_SMTP_PORT", "8826"))
ENV = {
    "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB_NAME}",
    "REDIS_URL": REDIS_URL,
    "SECRET_KEY": "bench-secret-key-bench-secret-key-bench-secret-key-0123",
    "ALLOWED_HOSTS": "127.0.0.1,testserver",
    "DEBUG": "false",
    "LOG_LEVEL": "WARNING",
    "EMAIL_HOST": "127.0.0.1",
    "EMAIL_PORT": str(SMTP_PORT),
    "MAIL_RATE_PER_MINUTE": "0",
    "VAR_DIR": str(ROOT / "var" / "bench-outbox"),
}


# --- The sink: its own process, one line on stdout per message accepted ----------


def run_sink(port: int) -> None:
    import asyncio

    from aiosmtpd.controller import Controller

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            sys.stdout.write("1\n")
            sys.stdout.flush()
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    try:
        asyncio.run(asyncio.sleep(10**9))
    finally:
        controller.stop()


class Sink:
    """The sink process, and the arrival times read from its output."""

    def __init__(self):
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--sink", str(SMTP_PORT)],
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        assert self.process.stdout.readline().strip() == "ready"
        self.arrivals: list[float] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for _line in self.process.stdout:
            with self.lock:
                self.arrivals.append(time.perf_counter())

    def wait_for(self, count: int, timeout: float) -> float:
        """The time the count-th message arrived."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            with self.lock:
                if len(self.arrivals) >= count:
                    return self.arrivals[count - 1]
            time.sleep(0.01)
        raise RuntimeError(f"only {len(self.arrivals)} of {count} messages arrived")

    def clear(self):
        with self.lock:
            self.arrivals.clear()

    def stop(self):
        self.process.terminate()
        self.process.wait()


# --- The app -----------------------------------------------------------------------


def setup() -> None:
    os.environ.update(ENV)
    os.environ["DJANGO_SETTINGS_MODULE"] = "tvargrupp.settings"
    sys.path.insert(0, str(ROOT))
    subprocess.run(
        ["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", DB_NAME], check=True
    )
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", DB_NAME], check=True)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    (Path(ENV["VAR_DIR"]) / "static").mkdir(parents=True, exist_ok=True)  # no static files needed


def closed_meeting(recipients: int, run: int):
    """A closed meeting of ten post-its with `recipients` attendees; its PDF rendered."""
    from django.contrib.auth.hashers import make_password

    from accounts.models import User
    from meetings.models import Attendance, MeetingStatus
    from summaries.services import meeting_close, summary_render
    from tests.factories import (
        DepartmentFactory,
        GroupFactory,
        MeetingFactory,
        TopicFactory,
        UserFactory,
    )

    group = GroupFactory()
    departments = [DepartmentFactory(group=group) for _ in range(5)]
    moderator = UserFactory(email=f"moderator{run}@bench.se")
    group.moderators.add(moderator)
    meeting = MeetingFactory(group=group, status=MeetingStatus.LIVE)
    text = "Åsa på Öland vill förbättra rutinerna för kvällsbemanningen. " * 3
    for n in range(10):
        TopicFactory(meeting=meeting, department=departments[n % 5], background=text, goal=text)
    # In bulk and without passwords: hashing 300 would take longer than the benchmark.
    users = User.objects.bulk_create(
        User(email=f"r{run}-{n}@bench.se", full_name=f"Mottagare {n}", password=make_password(None))
        for n in range(recipients)
    )
    Attendance.objects.bulk_create(Attendance(meeting=meeting, user=user) for user in users)
    summary = meeting_close(meeting=meeting)
    summary_render(summary_id=summary.pk)
    return meeting, summary, moderator


def start_worker() -> subprocess.Popen:
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
            "2",
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
            "--hostname",
            "bench-outbox@%h",
        ],
        cwd=ROOT,
        env={**os.environ, **ENV, "LOG_LEVEL": "INFO"},  # INFO: to see "ready."
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    for line in process.stdout:  # wait until it is ready, then let its output go
        if "ready." in line:
            break
    threading.Thread(target=lambda: process.stdout.read(), daemon=True).start()
    return process


def one_run(run: int, recipients: int, sink: Sink) -> dict:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from outbox.models import MessageStatus
    from summaries.messages import render_summary
    from summaries.selectors import summary_messages

    meeting, summary, moderator = closed_meeting(recipients, run)
    client = Client()
    client.force_login(moderator)
    url = reverse("summaries:send", args=[meeting.code])
    sink.clear()

    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        response = client.post(url, secure=True)
        request_seconds = time.perf_counter() - started
    assert response.status_code == 302, response.status_code
    last = sink.wait_for(recipients, timeout=600)
    app_seconds = last - started
    messages = summary_messages(summary=summary)
    deadline = time.perf_counter() + 10  # the last row is marked sent just after its 250 OK
    while (sent := messages.filter(status=MessageStatus.SENT).count()) < recipients:
        if time.perf_counter() > deadline:
            break
        time.sleep(0.05)

    # The floor: the same bytes, smtplib, one connection, in a loop, to the same sink.
    data = render_summary(messages.first(), {}).message().as_bytes(linesep="\r\n")
    sink.clear()
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", SMTP_PORT) as smtp:
        for n in range(recipients):
            smtp.sendmail("bench@bench.se", [f"floor-{n}@bench.se"], data)
    sink.wait_for(recipients, timeout=600)
    floor_seconds = time.perf_counter() - started
    return {
        "request_ms": request_seconds * 1000,
        "request_queries": len(queries),
        "app_rate": recipients / app_seconds,
        "floor_rate": recipients / floor_seconds,
        "ratio": floor_seconds / app_seconds,
        "sent": sent,
        "size": len(data),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipients", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sink", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sink:
        run_sink(args.sink)
        return

    setup()
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    sink = Sink()
    worker = start_worker()
    try:
        results = []
        for run in range(args.runs):
            result = one_run(run, args.recipients, sink)
            results.append(result)
            print(
                f"run {run + 1}: send request {result['request_ms']:.0f} ms "
                f"({result['request_queries']} queries); "
                f"{result['sent']}/{args.recipients} sent at {result['app_rate']:.0f}/s; "
                f"smtplib loop {result['floor_rate']:.0f}/s; ratio {result['ratio']:.2f}; "
                f"{result['size'] // 1024} KiB each"
            )
    finally:
        worker.terminate()
        worker.wait()
        sink.stop()
    median = {key: statistics.median(r[key] for r in results) for key in results[0]}
    print(
        f"median of {args.runs}: send request {median['request_ms']:.0f} ms, "
        f"{median['app_rate']:.0f} messages/s, floor {median['floor_rate']:.0f}/s, "
        f"ratio {median['ratio']:.2f}"
    )
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
