"""Benchmark the live board on this machine: render time, the version check, live latency.

    uv run python bench/board.py [--screens 100] [--changes 5]

Creates a throw-away PostgreSQL database (tvargrupp_bench), fills a meeting with
60 post-its, serves the app with gunicorn (2 sync workers, as in production)
on a loopback port, and measures:

1. p95 and median render time of the moderator's board page at 5, 60 and 200
   post-its, and of a trivial view (the floor) in the same run, through the real
   HTTP stack, with Redis as the shared cache as in production;
2. throughput of the one-query "unchanged" check (answering 204), and of the
   trivial view, with concurrent keep-alive clients;
3. with N simulated open screens polling every second and fetching the live
   fragment when the version moves: p95 time from a change to every screen
   having it.

Figures go to docs/performance.md by hand, with the date and this command.
"""

import argparse
import http.client
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = "tvargrupp_bench"
PORT = 8781
BASE_ENV = {
    "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB_NAME}",
    "SECRET_KEY": "bench-secret-key-bench-secret-key-bench-secret-key-0123",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "SECURE_SSL_REDIRECT": "false",
    "SECURE_COOKIES": "false",
    "DEBUG": "false",
    "LOG_LEVEL": "WARNING",
    # As in production: Redis is the cache every process shares (and the broker).
    "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/7"),
    "LIVE_URL": "off",  # this benchmark measures the polling path; bench/live.py the stream
}


def setup_django():
    os.environ.update(BASE_ENV)
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
    call_command("collectstatic", "--no-input", verbosity=0)


def board_of(size: int, group, moderator, departments):
    """Another meeting of the group with `size` post-its on its started board."""
    from board.services import board_give_word, board_start
    from tests.factories import MeetingFactory, TopicFactory

    meeting = MeetingFactory(group=group)
    topics = [
        TopicFactory(meeting=meeting, department=departments[n % 6], title=f"Lapp {n} åäö")
        for n in range(size)
    ]
    board_start(meeting=meeting, early_ok=True)
    board_give_word(meeting=meeting, code=topics[0].code)
    return meeting


def fill(screens: int):
    from django.contrib.auth import SESSION_KEY
    from django.test import Client

    from board.selectors import poll_token
    from board.services import board_give_word, board_start, contribution_add
    from tests.factories import (
        AttendanceFactory,
        DepartmentFactory,
        GroupFactory,
        MeetingFactory,
        TopicFactory,
        UserFactory,
    )

    group = GroupFactory(name="Benchmark")
    moderator = UserFactory(email="moderator@bench.se")
    group.moderators.add(moderator)
    departments = [DepartmentFactory(group=group) for _ in range(6)]
    meeting = MeetingFactory(group=group)
    topics = [
        TopicFactory(meeting=meeting, department=departments[n % 6], title=f"Lapp {n} åäö")
        for n in range(60)
    ]
    board_start(meeting=meeting, early_ok=True)
    board_give_word(meeting=meeting, code=topics[0].code)
    for n in range(8):
        contribution_add(
            meeting=meeting,
            code=topics[0].code,
            author=moderator,
            department=departments[n % 6],
            text=f"Idé {n}",
        )
    viewers = []
    for n in range(screens):
        user = UserFactory(email=f"screen{n}@bench.se")
        AttendanceFactory(meeting=meeting, user=user)
        client = Client()
        client.force_login(user)
        assert SESSION_KEY in client.session
        viewers.append((client.cookies["sessionid"].value, poll_token(meeting=meeting, user=user)))
    client = Client()
    client.force_login(moderator)
    sizes = {size: board_of(size, group, moderator, departments) for size in (5, 200)}
    sizes[60] = meeting
    return meeting, topics, client.cookies["sessionid"].value, viewers, sizes


def serve():
    env = {**os.environ, **BASE_ENV}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "tvargrupp.wsgi",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{PORT}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    for _ in range(100):
        try:
            get("/healthz")
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("gunicorn did not start")


def get(path, cookie=None, connection=None):
    own = connection is None
    connection = connection or http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    headers = {"Cookie": f"sessionid={cookie}"} if cookie else {}
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    body = response.read()
    if own:
        connection.close()
    return response.status, body


def p95(samples):
    return statistics.quantiles(samples, n=20)[18]


def render_times(path, cookie, count=200):
    connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    for _ in range(10):
        get(path, cookie, connection)
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        status, _body = get(path, cookie, connection)
        samples.append(time.perf_counter() - started)
        assert status == 200, status
    connection.close()
    return samples


def throughput(path, seconds=5.0, clients=8):
    done = [0] * clients
    stop = time.perf_counter() + seconds

    def run(index):
        connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
        while time.perf_counter() < stop:
            get(path, connection=connection)
            done[index] += 1
        connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done) / seconds


def live_latency(meeting, topics, viewers, changes):
    """Each screen polls every second; measure change → screen has the new fragment."""
    from board.services import board_give_word

    seen: dict[int, list[float]] = {}
    lock = threading.Lock()
    stop = threading.Event()
    fragment = f"/m/{meeting.code}/live/?fragment=live"

    def screen(cookie, token):
        connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
        version = None
        while not stop.is_set():
            status, body = get(f"/poll/{token}/?v={version}", connection=connection)
            if status == 200:
                new = int(body.decode().split(":")[1].strip(" }"))
                get(fragment, cookie, connection)
                with lock:
                    seen.setdefault(new, []).append(time.perf_counter())
                version = new
            stop.wait(1.0)
        connection.close()

    threads = [threading.Thread(target=screen, args=v, daemon=True) for v in viewers]
    for thread in threads:
        thread.start()
        time.sleep(1.0 / len(threads))  # screens opened at different moments
    time.sleep(2)
    latencies = []
    for n in range(changes):
        from board.models import BoardState

        changed_at = time.perf_counter()
        board_give_word(meeting=meeting, code=topics[(n + 1) % len(topics)].code)
        version = BoardState.objects.get(meeting=meeting).version
        deadline = changed_at + 10
        while time.perf_counter() < deadline:
            with lock:
                if len(seen.get(version, [])) >= len(viewers):
                    break
            time.sleep(0.01)
        with lock:
            arrivals = seen.get(version, [])
        latencies.extend(t - changed_at for t in arrivals)
        missing = len(viewers) - len(arrivals)
        if missing:
            print(f"  change {n}: {missing} screens did not get it within 10 s")
        time.sleep(1.5)
    stop.set()
    return latencies


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--screens", type=int, default=100)
    parser.add_argument("--changes", type=int, default=5)
    args = parser.parse_args()
    setup_django()
    meeting, topics, moderator_cookie, viewers, sizes = fill(args.screens)
    process = serve()
    try:
        floor = render_times("/healthz", None)
        print(
            f"trivial view:             p95 {p95(floor) * 1000:.1f} ms, "
            f"median {statistics.median(floor) * 1000:.1f} ms"
        )
        for size in sorted(sizes):
            board = render_times(f"/m/{sizes[size].code}/board/", moderator_cookie)
            print(
                f"board page, {size:3} post-its: p95 {p95(board) * 1000:.1f} ms, "
                f"median {statistics.median(board) * 1000:.1f} ms "
                f"(board / trivial: p95 {p95(board) / p95(floor):.1f}x, "
                f"median {statistics.median(board) / statistics.median(floor):.1f}x)"
            )
        token = viewers[0][1]
        from board.models import BoardState

        version = BoardState.objects.get(meeting=meeting).version
        check = throughput(f"/poll/{token}/?v={version}")
        trivial = throughput("/healthz")
        print(
            f"unchanged check: {check:.0f} req/s; trivial view {trivial:.0f} req/s "
            f"(ratio {check / trivial:.2f})"
        )
        latencies = live_latency(meeting, topics, viewers, args.changes)
        print(
            f"{args.screens} screens, {args.changes} changes: change → screen p95 "
            f"{p95(latencies):.2f} s, max {max(latencies):.2f} s"
        )
    finally:
        process.terminate()
        process.wait()


if __name__ == "__main__":
    main()
