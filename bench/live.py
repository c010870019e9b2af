"""Benchmark the live board: a change reaching N screens, stream and polling side by side.

    uv run python bench/live.py [--screens 100 300] [--seconds 60]

Creates a throw-away PostgreSQL database (tvargrupp_bench_live) with a running meeting
of 60 post-its, starts the real processes — gunicorn with 2 sync workers (production
settings) and the stream process (uvicorn, `make live`) on Redis — and for each N and
each way of following the board:

- opens N screens in a separate client process (asyncio), a tenth of them projector
  screens and the rest participant views, that behave as static/js/board.js does:
  *stream*: hold `GET /live/<code>/<view>/` open and take each `event: live`;
  *poll*: `GET /poll/<token>/?v=V` every second and, when it answers 200, fetch the
  page's live fragment (`?fragment=live`);
- lets a moderator client (this process, another thread of work than the screens)
  make a real HTTP change every 2 s (`POST /m/<code>/board/act/`, give the word);
- reports the time from sending each change to each screen having it (p50/p95/max;
  a screen "has" a change when it holds that version or a newer one), screens that
  never got a change, the moderator's request time, and the CPU seconds used by
  gunicorn (all its processes), the stream process and the screens' client process.

Then the reconnect storm: all N stream screens drop and reconnect at once; the time
until each holds the current state.

    uv run python bench/live.py --screens 300 --modes stream --storms 5 --compare-with ../main

runs the storm only (no changes, no polling), five times against this checkout's stream
process and five times against the stream process of another checkout (its own .venv,
the same database and Redis), alternating, so a change to the stream is compared with
the code before it under the same load.

Figures go to docs/performance.md by hand, with the date and this command.
"""

import argparse
import asyncio
import contextlib
import http.client
import multiprocessing
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = "tvargrupp_bench_live"
WEB_PORT = 8791
LIVE_PORT = 8792
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/7")
BASE_ENV = {
    "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB_NAME}",
    "REDIS_URL": REDIS_URL,
    "SECRET_KEY": "bench-secret-key-bench-secret-key-bench-secret-key-0123",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "SECURE_SSL_REDIRECT": "false",
    "SECURE_COOKIES": "false",
    "DEBUG": "false",
    "LOG_LEVEL": "WARNING",
    "DISABLE_RATE_LIMITS": "true",
    "LIVE_URL": f"http://127.0.0.1:{LIVE_PORT}/live/",
}
VERSION = re.compile(rb'data-version="(\d+)"')


def setup_django():
    os.environ.update(BASE_ENV)
    os.environ["DJANGO_SETTINGS_MODULE"] = "tvargrupp.settings"
    sys.path.insert(0, str(ROOT))
    subprocess.run(
        ["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", DB_NAME], check=True
    )
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", DB_NAME], check=True)
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    # Seeding hundreds of screen users: nobody signs in with these passwords, so a fast
    # hash (the servers under test keep the real hashers; sessions are made directly).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

    call_command("migrate", verbosity=0)
    call_command("collectstatic", "--no-input", verbosity=0)


def fill(screens: int):
    from django.test import Client

    from board.selectors import poll_token
    from board.services import board_give_word, board_start
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
    viewers = []
    for n in range(screens):
        user = UserFactory(email=f"screen{n}@bench.se")
        AttendanceFactory(meeting=meeting, user=user)
        client = Client()
        client.force_login(user)
        token = poll_token(meeting=meeting, user=user)
        view = "screen" if n % 10 == 0 else "participant"
        viewers.append((client.cookies["sessionid"].value, token, view))
    client = Client()
    client.force_login(moderator)
    return meeting, [t.code for t in topics], client.cookies["sessionid"].value, viewers


def start(command: list[str], port: int, health: str, cwd: Path = ROOT):
    env = {**os.environ, **BASE_ENV}
    process = subprocess.Popen(command, cwd=cwd, env=env, start_new_session=True)
    deadline = time.monotonic() + 180  # a loaded machine is slow to import Django
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", health)
            if connection.getresponse().status == 200:
                return process
        except OSError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"{command[2]} did not start")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and all its descendants, from /proc."""
    total = 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    pids = [pid]
    while pids:
        current = pids.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
            pids.extend(int(c) for c in children)
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


# --- the screens (their own process) ------------------------------------------------


async def fetch(path: str, cookie: str | None = None) -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", WEB_PORT)
    headers = f"Cookie: sessionid={cookie}\r\n" if cookie else ""
    writer.write(
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}Connection: close\r\n\r\n".encode()
    )
    data = await reader.read()
    writer.close()
    head, _sep, body = data.partition(b"\r\n\r\n")
    return int(head[9:12]), body


async def poll_screen(code, viewer, arrivals, stop):
    cookie, token, view = viewer
    page = f"/m/{code}/screen/" if view == "screen" else f"/m/{code}/live/"
    version = None
    await asyncio.sleep(hash(token) % 1000 / 1000)  # screens opened at different moments
    while not stop.is_set():
        try:
            status, _body = await fetch(f"/poll/{token}/?v={version}")
            if status == 200:
                _status, fragment = await fetch(f"{page}?fragment=live", cookie)
                match = VERSION.search(fragment)
                if match:
                    version = int(match[1])
                    arrivals.append((version, time.time()))
        except OSError:
            pass
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 1.0)


async def open_stream(code, viewer, port=None):
    cookie, _token, view = viewer
    reader, writer = await asyncio.open_connection("127.0.0.1", port or LIVE_PORT, limit=2**20)
    writer.write(
        f"GET /live/{code}/{view}/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Cookie: sessionid={cookie}\r\nAccept: text/event-stream\r\n\r\n".encode()
    )
    await writer.drain()
    return reader, writer


async def stream_screen(code, viewer, arrivals, stop, first_event=None, port=None):
    reader, writer = await open_stream(code, viewer, port)
    try:
        while not stop.is_set():
            line = await reader.readline()
            if not line:
                return
            if line.startswith(b"id: "):
                arrivals.append((int(line[4:]), time.time()))
                if first_event is not None and not first_event.done():
                    first_event.set_result(time.time())
    finally:
        writer.close()


async def run_screens(mode, code, viewers, seconds, ready, storm):
    stop = asyncio.Event()
    arrivals = [[] for _ in viewers]
    follow = poll_screen if mode == "poll" else stream_screen
    tasks = [
        asyncio.create_task(follow(code, viewer, arrivals[n], stop))
        for n, viewer in enumerate(viewers)
    ]
    await asyncio.sleep(3)  # every screen connected and up to date
    ready.set()
    await asyncio.sleep(seconds + 3)
    stop.set()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    storm_times = []
    if storm and mode == "stream":
        # Every screen drops and reconnects at once: how soon does each have the state?
        loop = asyncio.get_running_loop()
        firsts = [loop.create_future() for _ in viewers]
        started = time.time()
        stop = asyncio.Event()
        tasks = [
            asyncio.create_task(stream_screen(code, v, [], stop, firsts[n]))
            for n, v in enumerate(viewers)
        ]
        done, _pending = await asyncio.wait(firsts, timeout=10)
        storm_times = [f.result() - started for f in done]
        stop.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return arrivals, storm_times


async def storm(code, viewers, port) -> list[float]:
    """All screens connect at once: seconds until each holds the current state."""
    loop = asyncio.get_running_loop()
    firsts = [loop.create_future() for _ in viewers]
    stop = asyncio.Event()
    started = time.time()
    tasks = [
        asyncio.create_task(stream_screen(code, v, [], stop, firsts[n], port))
        for n, v in enumerate(viewers)
    ]
    done, _pending = await asyncio.wait(firsts, timeout=10)
    times = [f.result() - started for f in done]
    stop.set()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return times + [10.0] * (len(viewers) - len(times))  # a screen never served counts as 10 s


def storms_process(code, viewers, ports, rounds, results):
    figures = {label: [] for label in ports}
    for _ in range(rounds):
        for label, port in ports.items():
            times = asyncio.run(storm(code, viewers, port))
            figures[label].append(times)
            time.sleep(1)
    results.put(figures)


def compare_storms(code, viewers, ports, rounds):
    results = multiprocessing.Queue()
    child = multiprocessing.Process(
        target=storms_process, args=(code, viewers, ports, rounds, results)
    )
    child.start()
    figures = results.get(timeout=rounds * len(ports) * 30 + 60)
    child.join()
    for label, runs in figures.items():
        p95s = [pct(times, 95) * 1000 for times in runs]
        within = [sum(1 for t in times if t <= 2.0) for times in runs]
        print(
            f"storm, {len(viewers)} screens, {label}: current state p95 per round "
            + ", ".join(f"{p:.0f}" for p in p95s)
            + f" ms (median {statistics.median(p95s):.0f} ms); within 2 s: "
            + ", ".join(str(w) for w in within)
            + f" of {len(viewers)}",
            flush=True,
        )


def screens_process(mode, code, viewers, seconds, ready, results, storm):
    started = time.process_time()
    arrivals, storm_times = asyncio.run(run_screens(mode, code, viewers, seconds, ready, storm))
    results.put((arrivals, storm_times, time.process_time() - started))


# --- the moderator and the figures --------------------------------------------------


def moderator(code, topics, cookie, seconds):
    """A real HTTP change every 2 s: (sent at, request seconds, version) for each."""
    changes = []
    csrf = "a" * 32
    started = time.monotonic()
    n = 0
    while time.monotonic() - started < seconds:
        n += 1
        body = f"action=give&topic={topics[n % len(topics)]}"
        connection = http.client.HTTPConnection("127.0.0.1", WEB_PORT, timeout=30)
        sent = time.time()
        connection.request(
            "POST",
            f"/m/{code}/board/act/",
            body=body,
            headers={
                "Cookie": f"sessionid={cookie}; csrftoken={csrf}",
                "X-CSRFToken": csrf,
                "HX-Request": "true",
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        response = connection.getresponse()
        html = response.read()
        took = time.time() - sent
        connection.close()
        match = VERSION.search(html)
        assert response.status == 200 and match, (response.status, html[:300])
        changes.append((sent, took, int(match[1])))
        time.sleep(max(0.0, 2.0 - took))
    return changes


def pct(samples, q):
    if not samples:
        return float("nan")
    if len(samples) == 1:
        return samples[0]
    return statistics.quantiles(samples, n=100)[q - 1]


def measure(mode, meeting_code, topics, mod_cookie, viewers, seconds, processes, storm):
    ctx = multiprocessing.get_context("fork")
    ready, results = ctx.Event(), ctx.Queue()
    before = {name: cpu_seconds(p.pid) for name, p in processes.items()}
    screens = ctx.Process(
        target=screens_process,
        args=(mode, meeting_code, viewers, seconds, ready, results, storm),
    )
    screens.start()
    ready.wait(60)
    changes = moderator(meeting_code, topics, mod_cookie, seconds)
    arrivals, storm_times, client_cpu = results.get(timeout=seconds + 120)
    screens.join()
    cpu = {name: cpu_seconds(p.pid) - before[name] for name, p in processes.items()}
    latencies, missing = [], 0
    for sent, _took, version in changes:
        for screen in arrivals:
            later = [t for v, t in screen if v >= version and t >= sent - 0.001]
            if later:
                latencies.append(min(later) - sent)
            else:
                missing += 1
    requests = [took for _sent, took, _v in changes]
    print(
        f"{mode:6} {len(viewers):3} screens, {len(changes)} changes: change → screen "
        f"p50 {pct(latencies, 50) * 1000:.0f} ms, p95 {pct(latencies, 95) * 1000:.0f} ms, "
        f"max {max(latencies) * 1000:.0f} ms; missed {missing}; moderator request "
        f"p50 {pct(requests, 50) * 1000:.0f} ms, p95 {pct(requests, 95) * 1000:.0f} ms; "
        f"CPU s: gunicorn {cpu['gunicorn']:.1f}, stream {cpu['stream']:.1f}, "
        f"screens' client {client_cpu:.1f}",
        flush=True,
    )
    if storm_times:
        within = sum(1 for t in storm_times if t <= 2.0)
        print(
            f"       reconnect storm, {len(viewers)} screens at once: current state p95 "
            f"{pct(storm_times, 95) * 1000:.0f} ms, max {max(storm_times) * 1000:.0f} ms; "
            f"{within}/{len(viewers)} within 2 s",
            flush=True,
        )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--screens", type=int, nargs="+", default=[100, 300])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument(
        "--modes", nargs="+", choices=["stream", "poll"], default=["stream", "poll"]
    )
    parser.add_argument("--storms", type=int, default=0, help="storm-only rounds (see above)")
    parser.add_argument("--compare-with", type=Path, help="another checkout's stream process")
    args = parser.parse_args()
    setup_django()
    meeting, topics, mod_cookie, viewers = fill(max(args.screens))
    from django.db import connections

    connections.close_all()
    processes = {}
    try:
        gunicorn = start(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "tvargrupp.wsgi",
                "--workers",
                "2",
                "--bind",
                f"127.0.0.1:{WEB_PORT}",
                "--log-level",
                "warning",
            ],
            WEB_PORT,
            "/healthz",
        )
        stream = start(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "tvargrupp.live:application",
                "--host",
                "127.0.0.1",
                "--port",
                str(LIVE_PORT),
                "--no-access-log",
                "--log-level",
                "warning",
            ],
            LIVE_PORT,
            "/live/healthz",
        )
        processes.update(gunicorn=gunicorn, stream=stream)
        ports = {"this checkout": LIVE_PORT}
        if args.compare_with:
            other = args.compare_with.resolve()
            processes["other stream"] = start(
                [
                    str(other / ".venv/bin/python"),
                    *stream.args[1:6],  # -m uvicorn tvargrupp.live:application --host 127.0.0.1
                    "--port",
                    str(LIVE_PORT + 10),
                    "--no-access-log",
                    "--log-level",
                    "warning",
                ],
                LIVE_PORT + 10,
                "/live/healthz",
                cwd=other,
            )
            ports[f"{other.name} checkout"] = LIVE_PORT + 10
        print(f"load average before: {os.getloadavg()[0]:.2f}; {os.cpu_count()} cores", flush=True)
        for n in args.screens if args.storms else ():
            compare_storms(meeting.code, viewers[:n], ports, args.storms)
        for n in () if args.storms else args.screens:
            for mode in args.modes:
                measure(
                    mode,
                    meeting.code,
                    topics,
                    mod_cookie,
                    viewers[:n],
                    args.seconds,
                    processes,
                    storm=n == max(args.screens),
                )
    finally:
        for process in processes.values():
            process.terminate()
            process.wait()
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
