"""The data migration: meeting notices and summary deliveries become outbox messages.

The database is taken back to the schema before the outbox, filled with notices
and deliveries in every state through that schema's own models, and migrated
forward: each row is one message, a pending one still pending and due, and the
outbox then sends the pending ones, and only those.
"""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from meetings.messages import notice_key
from outbox.models import Message, MessageStatus
from outbox.services import outbox_drain
from summaries.messages import SUMMARY_KIND
from tests.conftest import header

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("meetings", "0002_attendance_answer_and_presence"), ("summaries", "0001_initial")]
AFTER = [("meetings", "0004_delete_notice"), ("summaries", "0003_delete_delivery")]
LONG_AGO = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)


def _migrate(targets):
    """Migrate meetings and summaries to `targets`; the models as the database now has them."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    moved = {app for app, _name in targets}
    others = [node for node in executor.loader.graph.leaf_nodes() if node[0] not in moved]
    return executor.loader.project_state(others + targets).apps


@pytest.fixture
def old_schema():
    apps = _migrate(BEFORE)
    yield apps
    _migrate(AFTER)  # whatever happened, the next test finds today's schema


def test_notices_and_deliveries_become_outbox_messages_and_pending_ones_still_go(
    old_schema, mailbox
):
    apps = old_schema
    User = apps.get_model("accounts", "User")
    Group = apps.get_model("groups", "Group")
    Meeting = apps.get_model("meetings", "Meeting")
    Notice = apps.get_model("meetings", "Notice")
    Summary = apps.get_model("summaries", "Summary")
    Delivery = apps.get_model("summaries", "Delivery")

    head = User.objects.create(
        email="head@example.se", full_name="Maria Lindqvist", language="sv", code="head"
    )
    guest = User.objects.create(
        email="guest@example.se", full_name="John Smith", language="en", code="guest"
    )
    group = Group.objects.create(name="Tvärgrupp IT", code="grp")
    start = timezone.now() + timedelta(days=10)
    meeting = Meeting.objects.create(
        group=group,
        code="mtg",
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        submission_deadline=start - timedelta(days=2),
        status="open",
    )
    Notice.objects.create(
        meeting=meeting, user=head, kind="invitation", status="sent", attempts=1, sent_at=LONG_AGO
    )
    Notice.objects.create(meeting=meeting, user=guest, kind="invitation", status="pending")
    Notice.objects.create(
        meeting=meeting,
        user=head,
        kind="update",
        sequence=2,
        status="failed",
        attempts=8,
        last_error="550 5.1.1 unknown",
    )
    Notice.objects.filter(kind="invitation", user=head).update(created_at=LONG_AGO)
    summary = Summary.objects.create(meeting=meeting, status="sending", pdf_version=0)
    Delivery.objects.create(
        summary=summary,
        recipient=head,
        email="head@example.se",
        name="Maria Lindqvist",
        status="sent",
        attempts=1,
        sent_at=LONG_AGO,
    )
    Delivery.objects.create(
        summary=summary,
        email="Extra@Example.se",
        status="pending",
        attempts=2,
        last_error="421 later",
    )

    _migrate(AFTER)

    rows = {(m.kind, m.address): m for m in Message.objects.all()}
    assert set(rows) == {
        ("meetings.invitation", "head@example.se"),
        ("meetings.invitation", "guest@example.se"),
        ("meetings.update", "head@example.se"),
        (SUMMARY_KIND, "head@example.se"),
        (SUMMARY_KIND, "Extra@Example.se"),
    }
    sent_notice = rows[("meetings.invitation", "head@example.se")]
    assert (sent_notice.status, sent_notice.attempts, sent_notice.sent_at) == ("sent", 1, LONG_AGO)
    assert sent_notice.created_at == LONG_AGO
    assert sent_notice.payload == {"meeting": meeting.pk, "sequence": 0}
    assert sent_notice.about.pk == meeting.pk
    assert (sent_notice.recipient.email, sent_notice.name, sent_notice.language) == (
        "head@example.se",
        "Maria Lindqvist",
        "sv",
    )
    failed = rows[("meetings.update", "head@example.se")]
    assert (failed.status, failed.attempts, failed.last_error) == ("failed", 8, "550 5.1.1 unknown")
    pending = rows[("meetings.invitation", "guest@example.se")]
    assert (pending.status, pending.language) == ("pending", "en")
    assert pending.not_before <= timezone.now()
    extra = rows[(SUMMARY_KIND, "Extra@Example.se")]
    assert (extra.status, extra.attempts, extra.last_error, extra.recipient) == (
        "pending",
        2,
        "421 later",
        None,
    )
    assert extra.payload == {"summary": summary.pk}
    assert extra.about.pk == meeting.pk

    # The keys are today's: queuing the same notice again queues nothing.
    from accounts.models import User as CurrentUser
    from meetings.models import Meeting as CurrentMeeting

    current_guest = CurrentUser.objects.get(email="guest@example.se")
    current_meeting = CurrentMeeting.objects.get(pk=meeting.pk)
    assert pending.key == notice_key(
        meeting=current_meeting, user=current_guest, kind="invitation", sequence=0
    )
    assert extra.key == f"summaries.summary:{summary.pk}:extra@example.se"

    # The outbox sends what was pending (the notice; the summary still waits for its
    # PDF, which the render releases) and nothing that had gone before.
    outbox_drain()
    assert [header(m, "To") for m in mailbox.messages] == ["guest@example.se"]
    assert Message.objects.get(pk=pending.pk).status == MessageStatus.SENT
    assert Message.objects.get(pk=extra.pk).status == MessageStatus.PENDING
