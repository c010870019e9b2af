import io

from django.apps import apps
from django.core.management import call_command

from meetings.models import Meeting, MeetingStatus
from summaries.selectors import summary_messages
from topics.models import Topic


def _snapshot():
    snapshot = {}
    for app in ["accounts", "groups", "meetings", "topics", "summaries", "account"]:
        for model in apps.get_app_config(app).get_models():
            snapshot[model._meta.label] = sorted(
                map(repr, model.objects.values_list().order_by("pk"))
            )
    return snapshot


def test_seed_demo_twice_changes_nothing(db):
    call_command("seed_demo", stdout=io.StringIO())
    first = _snapshot()
    call_command("seed_demo", stdout=io.StringIO())
    assert _snapshot() == first


def test_seed_demo_tells_the_emergency_ward_story(db):
    call_command("seed_demo", stdout=io.StringIO())
    past = Meeting.objects.get(status=MeetingStatus.SUMMARY_SENT)
    upcoming = Meeting.objects.get(status=MeetingStatus.OPEN)
    assert past.starts_at < upcoming.starts_at
    hr = Topic.objects.get(title="Bemanning av akuten kvällstid")
    assert hr.department.name == "HR"
    assert any("inom 5 %" in c.text for c in hr.contributions.all())
    assert hr.links_in.get().from_topic.department.name == "Kommunikation"
    assert hr.follow_ups.filter(status="open").exists()
    # A sent summary always has its PDF.
    assert past.summary.pdf and past.summary.pdf_version == past.summary.content_version
    sent = summary_messages(summary=past.summary).filter(status="sent")
    assert sent.count() == past.attendances.count() == 8
    # Everyone came but the head of Sälj, who had said so.
    assert list(
        past.attendances.filter(present=False).values_list("user__full_name", "status")
    ) == [("Erik Berg", "declined")]
    assert upcoming.topics.filter(status="submitted").count() == 1
