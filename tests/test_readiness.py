"""/healthz is liveness; /readyz checks the database, Redis, the worker and the outbox."""

import time
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from outbox.models import Message
from tvargrupp.health import HEARTBEAT_KEY
from tvargrupp.tasks import heartbeat


def _readyz(client):
    response = client.get("/readyz")
    return response.status_code, response.json()


@pytest.fixture
def fresh_heartbeat():
    cache.set(HEARTBEAT_KEY, time.time(), timeout=None)


def test_ready_when_database_redis_worker_and_outbox_are_fine(client, db, fresh_heartbeat):
    status, body = _readyz(client)
    assert status == 200
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "redis", "worker", "outbox"}
    assert all(check["ok"] for check in body["checks"].values())
    assert body["checks"]["worker"]["last_heartbeat_seconds_ago"] <= 1
    assert body["checks"]["outbox"] == {
        "ok": True,
        "pending": 0,
        "oldest_pending_seconds": 0,
        "failed_last_day": 0,
    }
    assert client.get("/readyz").headers["Cache-Control"].startswith("max-age=0, no-cache")


def test_not_ready_without_any_worker_heartbeat(client, db):
    status, body = _readyz(client)
    assert status == 503
    assert body["status"] == "fail"
    assert body["checks"]["worker"] == {
        "ok": False,
        "error": "no heartbeat yet: is a worker and beat running?",
    }
    assert body["checks"]["database"]["ok"] is True


def test_not_ready_when_the_last_heartbeat_is_stale(client, db):
    cache.set(HEARTBEAT_KEY, time.time() - 600, timeout=None)
    status, body = _readyz(client)
    assert status == 503
    assert body["checks"]["worker"]["ok"] is False
    assert body["checks"]["worker"]["last_heartbeat_seconds_ago"] == 600


def test_not_ready_when_redis_does_not_answer(client, db, fresh_heartbeat, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    status, body = _readyz(client)
    assert status == 503
    assert body["checks"]["redis"]["ok"] is False
    assert "127.0.0.1:1" in body["checks"]["redis"]["error"]


def _message(key, **fields) -> Message:
    fields.setdefault("kind", "meetings.invitation")
    return Message.objects.create(key=key, address=f"{key}@example.se", **fields)


def test_outbox_backlog_counts_every_message_still_on_its_way(client, db, fresh_heartbeat):
    _message("a")
    _message("b", kind="summaries.summary")
    _message("c", status="sending", lease_until=timezone.now() + timedelta(minutes=1))
    # A message waiting for its turn (the sending rate, a back-off) is pending, not late.
    _message("d", not_before=timezone.now() + timedelta(hours=2))
    _message("e", status="failed", last_error="550 no")
    _message("f", status="sent", sent_at=timezone.now())

    status, body = _readyz(client)
    assert status == 200
    assert body["checks"]["outbox"]["pending"] == 4
    assert body["checks"]["outbox"]["oldest_pending_seconds"] <= 2
    assert body["checks"]["outbox"]["failed_last_day"] == 1


def test_not_ready_when_mail_has_waited_more_than_an_hour(client, db, fresh_heartbeat):
    _message("late", not_before=timezone.now() - timedelta(minutes=61))
    status, body = _readyz(client)
    assert status == 503
    assert body["checks"]["outbox"]["ok"] is False
    assert body["checks"]["outbox"]["pending"] == 1
    assert 3660 <= body["checks"]["outbox"]["oldest_pending_seconds"] <= 3662


@pytest.mark.worker
def test_worker_heartbeat_task_makes_the_installation_ready(celery_worker, client):
    cache.delete(HEARTBEAT_KEY)
    assert _readyz(client)[0] == 503
    heartbeat.delay()
    deadline = time.monotonic() + 20
    while cache.get(HEARTBEAT_KEY) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    status, body = _readyz(client)
    assert status == 200, body
    assert body["checks"]["worker"]["ok"] is True


def test_readiness_command_prints_the_same_checks_and_fails_with_status_1(db, capsys):
    from django.core.management import call_command

    cache.delete(HEARTBEAT_KEY)
    with pytest.raises(SystemExit) as exit_info:
        call_command("readiness", "--only", "worker")
    assert exit_info.value.code == 1
    assert '"worker": {"ok": false' in capsys.readouterr().out
    cache.set(HEARTBEAT_KEY, time.time(), timeout=None)
    call_command("readiness", "--only", "worker", "--only", "database")
    out = capsys.readouterr().out
    assert out.startswith('{"status": "ok", "checks": {"worker": {"ok": true')
    assert '"database": {"ok": true' in out


def test_healthz_touches_no_database(client):
    # Without the db fixture, any query would raise instead of answering.
    response = client.get("/healthz")
    assert response.content == b"ok"
