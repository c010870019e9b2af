"""Benchmark the summary: PDF rendering time and memory, and e-mail fan-out.

    uv run python bench/summary.py [--renders 200] [--recipients 300]

Uses a throw-away PostgreSQL database (tvargrupp_bench) and Redis database 14.
Measures, each with its floor from the same run:

1. the PDF of 30 and of 100 post-its rendered by the app (template, data and
   WeasyPrint) in a warm process, against WeasyPrint rendering the same HTML
   directly; peak memory of a fresh process rendering the 30-post-it PDF;
2. memory growth over N renders in one process (RSS per render);
3. N recipients through the real path (outbox rows, Redis, a Celery worker with
   two processes, SMTP to a local sink), against smtplib sending the same
   message N times in a loop over one connection.
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
DB_NAME = "tvargrupp_bench"
REDIS_URL = "redis://127.0.0.1:6379/14"
SMTP_PORT = 8825
ENV = {
    "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB_NAME}",
    "REDIS_URL": REDIS_URL,
    "SECRET_KEY": "bench-secret-key-bench-secret-key-bench-secret-key-0123",
    "ALLOWED_HOSTS": "127.0.0.1",
    "DEBUG": "false",
    "LOG_LEVEL": "WARNING",
    "EMAIL_HOST": "127.0.0.1",
    "EMAIL_PORT": str(SMTP_PORT),
    "MAIL_RATE_PER_MINUTE": "0",
    "VAR_DIR": str(ROOT / "var" / "bench"),
}


def rss_mb(field: str = "VmRSS") -> float:
    """Resident memory now (VmRSS) or at its peak so far (VmHWM), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0


def setup(fresh_db: bool):
    os.environ.update(ENV)
    os.environ["DJANGO_SETTINGS_MODULE"] = "tvargrupp.settings"
    sys.path.insert(0, str(ROOT))
    if fresh_db:
        subprocess.run(
            ["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", DB_NAME], check=True
        )
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", DB_NAME], check=True)
    import django

    django.setup()
    if fresh_db:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)


def make_summary(topics: int, recipients: int = 0):
    from meetings.models import MeetingStatus
    from summaries.services import meeting_close
    from tests.factories import (
        AttendanceFactory,
        ContributionFactory,
        DepartmentFactory,
        FollowUpFactory,
        GroupFactory,
        MeetingFactory,
        TopicFactory,
        UserFactory,
    )

    group = GroupFactory()
    departments = [DepartmentFactory(group=group) for _ in range(6)]
    meeting = MeetingFactory(group=group, status=MeetingStatus.LIVE)
    text = "Åsa på Öland vill förbättra rutinerna för kvällsbemanningen. " * 4
    for n in range(topics):
        topic = TopicFactory(
            meeting=meeting,
            department=departments[n % 6],
            title=f"Utmaning {n} – kvällsbemanning på akuten",
            background=text,
            current_state=text,
            goal=text,
            obstacle=text,
        )
        for _ in range(3):
            ContributionFactory(topic=topic, department=departments[(n + 1) % 6])
        FollowUpFactory(meeting=meeting, topic=topic, owner_department=departments[n % 6])
    for n in range(recipients):
        AttendanceFactory(meeting=meeting, user=UserFactory(email=f"r{n}@bench.se"))
    summary = meeting_close(meeting=meeting)
    summary.intro = text
    summary.save()
    return summary


def time_pdf(summary, repeats=3):
    from summaries.pdf import render_pdf
    from summaries.services import summary_pdf_html

    html = summary_pdf_html(summary=summary)
    render_pdf(html)  # warm up
    app, floor = [], []
    for _ in range(repeats):
        started = time.perf_counter()
        render_pdf(summary_pdf_html(summary=summary))
        app.append(time.perf_counter() - started)
        started = time.perf_counter()
        render_pdf(html)  # the floor: WeasyPrint on the same HTML, no template or database
        floor.append(time.perf_counter() - started)
    return statistics.median(app), statistics.median(floor), html


def peak_memory_child(topics: int) -> tuple[float, float]:
    """Peak RSS (MB) of a fresh process before (Django and WeasyPrint loaded) and after one PDF."""
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(topics)],
        capture_output=True,
        text=True,
        env={**os.environ, **ENV},
        check=True,
    )
    baseline, peak = out.stdout.strip().splitlines()[-1].split()
    return float(baseline), float(peak)


class Sink:
    def __init__(self):
        from aiosmtpd.controller import Controller

        self.count = 0
        self.lock = threading.Lock()
        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                with sink.lock:
                    sink.count += 1
                return "250 OK"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=SMTP_PORT)
        self.controller.start()

    def stop(self):
        self.controller.stop()


def fan_out(recipients: int):
    import redis
    from django.db import transaction

    from summaries.messages import render_summary
    from summaries.selectors import summary_messages
    from summaries.services import summary_render, summary_send
    from tests.factories import UserFactory

    redis.Redis.from_url(REDIS_URL).flushdb()
    summary = make_summary(10, recipients)
    summary_render(summary_id=summary.pk)
    moderator = UserFactory()
    sink = Sink()
    worker = subprocess.Popen(
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
            "WARNING",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env={**os.environ, **ENV},
    )
    try:
        time.sleep(4)  # let the worker start
        started = time.perf_counter()
        with transaction.atomic():
            summary_send(summary=summary, by=moderator)
        deadline = started + 300
        while sink.count < recipients and time.perf_counter() < deadline:
            time.sleep(0.02)
        app_seconds = time.perf_counter() - started
        sent = summary_messages(summary=summary).filter(status="sent").count()
        # The floor: the same message, smtplib, one connection, in a loop.
        message = render_summary(summary_messages(summary=summary).first(), {}).message()
        data = message.as_bytes(linesep="\r\n")  # as Django's SMTP backend sends it
        sink.count = 0
        started = time.perf_counter()
        with smtplib.SMTP("127.0.0.1", SMTP_PORT) as smtp:
            for n in range(recipients):
                smtp.sendmail("bench@bench.se", [f"r{n}@bench.se"], data)
        floor_seconds = time.perf_counter() - started
        return recipients / app_seconds, recipients / floor_seconds, sent, len(data)
    finally:
        worker.terminate()
        worker.wait()
        sink.stop()


def child(topics: int):
    setup(fresh_db=False)
    from summaries.models import Summary
    from summaries.pdf import render_pdf
    from summaries.services import summary_pdf_html

    target = next(s for s in Summary.objects.all() if s.meeting.topics.count() == topics)
    html = summary_pdf_html(summary=target)
    import weasyprint  # noqa: F401 - counted in the baseline

    baseline = rss_mb("VmHWM")
    render_pdf(html)
    peak = rss_mb("VmHWM")
    print(f"{baseline} {peak}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--renders", type=int, default=200)
    parser.add_argument("--recipients", type=int, default=300)
    parser.add_argument("--child", type=int, default=0)
    parser.add_argument("--mail-only", action="store_true")
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    setup(fresh_db=True)
    if args.mail_only:
        report_mail(args.recipients)
        return
    s30, s100 = make_summary(30), make_summary(100)
    app30, floor30, html30 = time_pdf(s30)
    print(f"PDF, 30 post-its: {app30:.2f} s; WeasyPrint alone {floor30:.2f} s")
    app100, floor100, _html = time_pdf(s100, repeats=2)
    print(f"PDF, 100 post-its: {app100:.2f} s; WeasyPrint alone {floor100:.2f} s")
    baseline, peak = peak_memory_child(30)
    print(
        f"fresh process, 30-post-it PDF: peak {peak:.0f} MB, of which {baseline:.0f} MB "
        f"before rendering (Django, WeasyPrint loaded): the render adds {peak - baseline:.0f} MB"
    )
    from summaries.pdf import render_pdf

    for _ in range(5):
        render_pdf(html30)
    before = rss_mb()
    for _ in range(args.renders):
        render_pdf(html30)
    after = rss_mb()
    print(
        f"memory over {args.renders} renders: {before:.0f} → {after:.0f} MB "
        f"({(after - before) / args.renders:.3f} MB per render)"
    )
    report_mail(args.recipients)


def report_mail(recipients: int):
    rate, floor_rate, sent, size = fan_out(recipients)
    print(
        f"{recipients} recipients, 2 worker processes: {rate:.0f} messages/s "
        f"(smtplib loop {floor_rate:.0f}/s, ratio {rate / floor_rate:.2f}); "
        f"{sent} delivered, {size // 1024} KiB each"
    )


if __name__ == "__main__":
    main()
