"""Benchmark the radar, the group search and the insights page at 50 and 5,000 post-its.

    uv run python bench/insights.py [--sizes 50 5000] [--runs 60]

Creates a throw-away PostgreSQL database (tvargrupp_bench_insights), fills one group
with N post-its over many meetings (Swedish text made from the evaluation set's
phrases, ideas, follow-ups, links, goals), and measures in this process through
Django's whole request stack (test client: middleware, sessions, templates):

1. p95 of the radar (a head typing the emergency-ward post-it) and, in the same
   run, of the bare full-text query it builds on (one `@@` + `ts_rank` over the
   stored documents, no trigram, no joins) — the ratio is the radar's overhead;
2. p95 of the group search and of the insights page (the last 12 meetings, and all);
3. the number of queries of each, which must be the same at every size.

Figures go to docs/performance.md by hand, with the date and this command.
"""

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = "tvargrupp_bench_insights"
BASE_ENV = {
    "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB_NAME}",
    "SECRET_KEY": "bench-secret-key-bench-secret-key-bench-secret-key-0123",
    "ALLOWED_HOSTS": "testserver,127.0.0.1",
    "SECURE_SSL_REDIRECT": "false",
    "SECURE_COOKIES": "false",
    "DEBUG": "false",
    "LOG_LEVEL": "WARNING",
    "REDIS_URL": "redis://127.0.0.1:6379/7",
}


def setup_django():
    os.environ.update(BASE_ENV)
    os.environ["DJANGO_SETTINGS_MODULE"] = "tvargrupp.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def fresh_database():
    from django.core.management import call_command
    from django.db import connections

    connections.close_all()
    subprocess.run(
        ["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", DB_NAME], check=True
    )
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", DB_NAME], check=True)
    call_command("migrate", verbosity=0)
    call_command("collectstatic", "--no-input", verbosity=0)


def fill(size: int):
    """One group, 6 departments, N post-its over N/25 meetings; returns (group, meeting, head)."""
    from datetime import timedelta

    from django.utils import timezone

    from groups.models import StrategyGoal
    from insights.services import entries_rebuild
    from meetings.models import MeetingStatus
    from tests.factories import DepartmentFactory, GroupFactory, MeetingFactory, UserFactory
    from tests.insights.evaluation import CORPUS
    from topics.models import (
        Contribution,
        FollowUp,
        MicroProject,
        Solution,
        Topic,
        TopicLink,
        TopicStatus,
    )

    rng = random.Random(14)
    # Realistic spread: 200 themes, each with its own 30 words, so that a word of one
    # challenge appears in about one post-it in a hundred; the evaluation set's 18
    # real post-its sit among them (the emergency ward's among them).
    syllables = [
        "ka",
        "ro",
        "ben",
        "sta",
        "vik",
        "lu",
        "ment",
        "ös",
        "fa",
        "gri",
        "son",
        "tel",
        "må",
        "dra",
        "ning",
        "er",
        "pa",
        "lin",
        "sk",
        "åt",
        "hem",
        "bo",
    ]
    themes = [
        ["".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))) for _ in range(30)]
        for _ in range(200)
    ]
    common = ["vi", "har", "inte", "det", "är", "att", "och", "som", "en", "för", "med"]

    def text(theme, n):
        words = rng.sample(theme, n // 2) + rng.sample(common, min(len(common), n - n // 2))
        rng.shuffle(words)
        return " ".join(words).capitalize() + "."

    group = GroupFactory(name="Benchmark")
    moderator = UserFactory(email="moderator@bench.se")
    group.moderators.add(moderator)
    head = UserFactory(email="head@bench.se")
    departments = [DepartmentFactory(group=group, name=f"Avdelning {n}") for n in range(6)]
    departments[0].heads.add(head)
    meetings_count = max(2, size // 25)
    now = timezone.now()
    meetings = [
        MeetingFactory(
            group=group,
            starts_at=now - timedelta(days=30 * (meetings_count - n)),
            status=MeetingStatus.SUMMARY_SENT,
        )
        for n in range(meetings_count)
    ]
    upcoming = MeetingFactory(group=group, starts_at=now + timedelta(days=10))
    specs = list(CORPUS.values())
    topics = []
    for n in range(size):
        if n < len(specs):
            _dept, title, background, current, goal, obstacle = specs[n]
        else:
            theme = themes[n % len(themes)]
            title, background, current, goal, obstacle = (
                text(theme, 6)[:100],
                text(theme, 24),
                text(theme, 16),
                text(theme, 12),
                text(theme, 12),
            )
        topics.append(
            Topic(
                meeting=meetings[n % meetings_count],
                department=departments[n % 6],
                title=title,
                background=background,
                current_state=current,
                goal=goal,
                obstacle=obstacle,
                status=TopicStatus.DISCUSSED,
                submitted_at=now,
                position=n,
            )
        )
    topics = Topic.objects.bulk_create(topics)
    Contribution.objects.bulk_create(
        [
            Contribution(
                topic=t, department=departments[(i + 1) % 6], text=text(themes[i % 200], 12)
            )
            for i, t in enumerate(topics)
        ]
    )
    FollowUp.objects.bulk_create(
        [
            FollowUp(meeting=t.meeting, topic=t, title=text(themes[i % 200], 6)[:190], owner=head)
            for i, t in enumerate(topics[::3])
        ]
    )
    TopicLink.objects.bulk_create(
        [
            TopicLink(from_topic=a, to_topic=b)
            for a, b in zip(topics[::7], topics[1::7], strict=False)
        ]
    )
    solutions = Solution.objects.bulk_create(
        [Solution(topic=t, title=t.title[:100], effort="M") for t in topics[::10]]
    )
    projects = MicroProject.objects.bulk_create(
        [
            MicroProject(solution=solution, topic=solution.topic, title=solution.title, owner=head)
            for solution in solutions
        ]
    )
    goals = [StrategyGoal.objects.create(group=group, title=f"Mål {n}") for n in range(5)]
    Tag = Topic.goals.through
    Tag.objects.bulk_create(
        [Tag(strategygoal=goals[i % 5], topic=t) for i, t in enumerate(topics[::4])]
    )
    # Half the micro-projects tagged themselves; the rest serve their post-it's goals.
    ProjectTag = MicroProject.goals.through
    ProjectTag.objects.bulk_create(
        [ProjectTag(strategygoal=goals[i % 5], microproject=p) for i, p in enumerate(projects[::2])]
    )
    entries_rebuild()
    # What autovacuum does after a bulk load in production: without statistics the
    # planner filters every row instead of using the GIN indexes.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return group, upcoming, head, moderator


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1] * 1000


def measure(call, runs: int) -> tuple[float, float, int]:
    from django.db import connection

    call()  # warm up
    queries = []

    def count(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        call()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return p95(samples), statistics.median(samples) * 1000, len(queries)


def run(size: int, runs: int) -> dict:
    from django.contrib.postgres.search import SearchQuery, SearchRank
    from django.test import Client
    from django.urls import reverse

    from insights.models import Entry
    from insights.similarity import CONFIG, Query, tsquery_text

    fresh_database()
    group, upcoming, head, moderator = fill(size)
    as_head, as_moderator = Client(), Client()
    as_head.force_login(head)
    as_moderator.force_login(moderator)
    radar_url = reverse("insights:postit_radar", args=[upcoming.code])
    typed = {
        "title": "Bemanningen på akuten kvällstid",
        "obstacle": "Vi har ingen prognos över besöken",
    }

    def radar():
        response = as_head.post(radar_url, typed)
        assert response.status_code == 200, response.status_code

    query = Query.of_postit(title=typed["title"], obstacle=typed["obstacle"])
    ts_query = SearchQuery(tsquery_text(query.terms), config=CONFIG, search_type="raw")

    def bare():
        list(
            Entry.objects.filter(vector=ts_query)
            .annotate(rank=SearchRank("vector", ts_query))
            .order_by("-rank")
            .values_list("pk", flat=True)[:5]
        )

    search_url = reverse("insights:search", args=[group.code])

    def search():
        response = as_head.get(search_url, {"q": "bemanning prognos akuten"})
        assert response.status_code == 200

    insights_url = reverse("insights:insights", args=[group.code])

    def insights():
        response = as_moderator.get(insights_url)
        assert response.status_code == 200

    def insights_all():
        response = as_moderator.get(insights_url, {"period": "all"})
        assert response.status_code == 200

    def trivial():
        as_head.get("/healthz")

    results = {}
    for name, call in [
        ("trivial view (/healthz)", trivial),
        ("bare full-text query", bare),
        ("radar", radar),
        ("search", search),
        ("insights page", insights),
        ("insights, all meetings", insights_all),
    ]:
        results[name] = measure(call, runs)
    return results


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 5000])
    parser.add_argument("--runs", type=int, default=60)
    args = parser.parse_args()
    setup_django()
    table = {size: run(size, args.runs) for size in args.sizes}
    print(
        f"\n{'what':28} "
        + " ".join(f"{'p95 / median / queries @ ' + str(s):>36}" for s in args.sizes)
    )
    for name in table[args.sizes[0]]:
        cells = []
        for size in args.sizes:
            p, median, queries = table[size][name]
            cells.append(f"{p:8.1f} ms / {median:7.1f} ms / {queries:3d}")
        print(f"{name:28} " + " ".join(f"{c:>36}" for c in cells))
    for size in args.sizes:
        ratio = table[size]["radar"][0] / table[size]["bare full-text query"][0]
        print(f"radar ÷ bare full-text query at {size}: {ratio:.1f}×")


if __name__ == "__main__":
    main()
