"""The periodic jobs outside Celery beat: `manage.py tick` and the clock of `make run`."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from meetings.clock import Clock
from meetings.models import Meeting, MeetingStatus
from tests.factories import GroupFactory, MeetingFactory


class FakeTime:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def three_jobs(settings):
    settings.CELERY_BEAT_SCHEDULE = {
        "periodic-tick": {"task": "meetings.periodic_tick", "schedule": 300.0},
        "post-it-reminders": {"task": "topics.reminders_queue", "schedule": 300.0},
        "summary-sweep": {"task": "summaries.sweep", "schedule": 120.0},
    }


def test_tick_runs_every_periodic_job_once(db, three_jobs):
    out = io.StringIO()
    call_command("tick", stdout=out)
    assert out.getvalue().splitlines() == [
        "periodic-tick: {'created': 0, 'opened': 0}",
        "post-it-reminders: 0",
        "summary-sweep: 0",
    ]


def test_clock_runs_every_job_at_start_then_each_on_its_interval(db, three_jobs):
    time = FakeTime()
    clock = Clock(now=time)

    assert set(clock.run_due()) == {"periodic-tick", "post-it-reminders", "summary-sweep"}
    assert clock.run_due() == {}
    assert clock.seconds_to_next() == 120

    time.now += 120
    assert set(clock.run_due()) == {"summary-sweep"}
    time.now += 100
    assert clock.run_due() == {}
    assert clock.seconds_to_next() == 20
    time.now += 80
    assert set(clock.run_due()) == {"periodic-tick", "post-it-reminders", "summary-sweep"}


def test_the_clock_opens_a_meeting_whose_time_has_come(db, three_jobs):
    meeting = MeetingFactory(
        group=GroupFactory(),
        status=MeetingStatus.PLANNED,
        opens_at=timezone.now() - timedelta(minutes=1),
    )

    Clock().run_due()

    assert Meeting.objects.get(pk=meeting.pk).status == MeetingStatus.OPEN


def test_a_failing_job_is_reported_and_the_others_still_run(db, settings):
    settings.CELERY_BEAT_SCHEDULE = {
        "missing": {"task": "no.such_task", "schedule": 60.0},
        "summary-sweep": {"task": "summaries.sweep", "schedule": 120.0},
    }
    results = Clock().run_due()
    assert results["missing"].startswith("failed: ")
    assert results["summary-sweep"] == 0
    with pytest.raises(Exception, match="A periodic job failed"):
        call_command("tick", stdout=io.StringIO())
