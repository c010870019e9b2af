"""Backups: the pg_dump / pg_restore round trip docs/deployment.md gives operators."""

import json
import os
import shutil
import subprocess
import sys

import pytest
from django.apps import apps
from django.db import connections
from psycopg.sql import SQL, Identifier, Literal

from outbox.models import Message, MessageStatus
from tests.conftest import ROOT, _worker_env, require_service
from tests.factories import ContributionFactory, TopicFactory
from topics.models import Topic


def _pg_env() -> dict[str, str]:
    db = connections["default"].settings_dict
    return {
        **os.environ,
        "PGHOST": db["HOST"] or "127.0.0.1",
        "PGPORT": str(db["PORT"] or 5432),
        "PGUSER": db["USER"],
        "PGPASSWORD": db["PASSWORD"] or "",
    }


def _pg(*words: str) -> subprocess.CompletedProcess:
    result = subprocess.run(words, env=_pg_env(), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result


def _query(database: str, query) -> list[tuple]:
    """Read another database on the same server directly (outside Django's test isolation)."""
    import psycopg

    db = connections["default"].settings_dict
    with psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"],
        password=db["PASSWORD"] or None,
        dbname=database,
    ) as connection:
        cursor = connection.execute(query)
        return cursor.fetchall() if cursor.description else []


def _counts(database: str) -> dict[str, int]:
    """Rows per table of every model: the whole database, table by table."""
    tables = sorted(
        {m._meta.db_table for m in apps.get_models() if m._meta.managed and not m._meta.proxy}
    )
    union = SQL(" UNION ALL ").join(
        SQL("SELECT {}, count(*) FROM {}").format(Literal(t), Identifier(t)) for t in tables
    )
    return dict(_query(database, union))


@pytest.fixture
def restored_database(transactional_db):
    """A second database on the same server, dropped afterwards, and a connection to it."""
    require_service(bool(shutil.which("pg_dump") and shutil.which("pg_restore")), "pg_dump")
    name = f"{connections['default'].settings_dict['NAME']}_restored"
    _pg("dropdb", "--if-exists", name)
    _pg("createdb", name)
    yield name
    _pg("dropdb", "--if-exists", name)


def test_a_dump_restores_into_a_new_database_with_everything_in_it(
    world, restored_database, tmp_path
):
    topic = TopicFactory(meeting=world.meeting, department=world.hr, author=world.head)
    topic.background = "Akuten saknar kvällspersonal 🏥 — åäö"
    topic.save()
    ContributionFactory(topic=topic, author=world.participant)
    Message.objects.create(kind="summary", key="backup-1", address="maria@example.se")
    Message.objects.create(
        kind="summary",
        key="backup-2",
        address="omar@example.se",
        status=MessageStatus.FAILED,
        last_error="550 5.1.1 User unknown",
    )
    database = connections["default"].settings_dict["NAME"]
    before = _counts(database)
    dump = tmp_path / "tvargrupp.dump"

    # The commands of docs/deployment.md, "Backups and restore".
    with dump.open("wb") as out:
        dumped = subprocess.run(
            ["pg_dump", "--format=custom", database], env=_pg_env(), stdout=out, timeout=120
        )
    assert dumped.returncode == 0
    restore = ["pg_restore", "--dbname", restored_database, "--clean", "--if-exists", "--no-owner"]
    _pg(*restore, str(dump))

    topics, messages = Topic._meta.db_table, Message._meta.db_table
    assert _counts(restored_database) == before
    assert before[topics] == 1 and before[messages] == 2
    assert _query(
        restored_database, SQL("SELECT title, background FROM {}").format(Identifier(topics))
    ) == [(topic.title, "Akuten saknar kvällspersonal 🏥 — åäö")]

    # Restoring over a database that has changed since puts it back as it was.
    _query(restored_database, SQL("DELETE FROM {}").format(Identifier(messages)))
    assert _counts(restored_database)[messages] == 0
    _pg(*restore, str(dump))
    assert _counts(restored_database) == before

    # The app itself runs on the restored database and sees its outbox.
    db = connections["default"].settings_dict
    url = f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{restored_database}"
    readiness = subprocess.run(
        [sys.executable, "manage.py", "readiness", "--only", "database", "--only", "outbox"],
        cwd=ROOT,
        env={**_worker_env(), "DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert readiness.returncode == 0, readiness.stdout + readiness.stderr
    checks = json.loads(readiness.stdout)["checks"]
    assert checks["outbox"]["pending"] == 1
    assert checks["outbox"]["failed_last_day"] == 1
