"""Every meeting notice becomes an outbox message; a pending one stays pending.

The key, kind and payload are the ones meetings/messages.py writes today, so a
notice migrated here is never queued a second time, and a pending one is sent
by the outbox like any other.
"""

from django.db import migrations
from django.utils import timezone

from tvargrupp.models import new_code

KIND_PREFIX = "meetings."


def _keep_timestamps(model) -> None:
    """This migration's copy of the model writes the old rows' own times, not now."""
    model._meta.get_field("created_at").auto_now_add = False
    model._meta.get_field("updated_at").auto_now = False


def notices_to_outbox(apps, schema_editor):
    Notice = apps.get_model("meetings", "Notice")
    Message = apps.get_model("outbox", "Message")
    _keep_timestamps(Message)
    ContentType = apps.get_model("contenttypes", "ContentType")
    meeting_type, _created = ContentType.objects.get_or_create(app_label="meetings", model="meeting")
    now = timezone.now()
    batch = []
    for notice in Notice.objects.select_related("user").order_by("pk").iterator(chunk_size=1000):
        kind = KIND_PREFIX + notice.kind
        batch.append(
            Message(
                code=new_code(),
                kind=kind,
                channel="email",
                key=f"{kind}:{notice.meeting_id}:{notice.user_id}:{notice.sequence}",
                about_type=meeting_type,
                about_id=notice.meeting_id,
                recipient_id=notice.user_id,
                address=notice.user.email,
                name=notice.user.full_name[:150],
                language=notice.user.language,
                payload={"meeting": notice.meeting_id, "sequence": notice.sequence},
                priority=5,
                status=notice.status,
                attempts=notice.attempts,
                not_before=now if notice.status == "pending" else notice.created_at,
                last_error=notice.last_error,
                sent_at=notice.sent_at,
                created_at=notice.created_at,
                updated_at=notice.updated_at,
            )
        )
        if len(batch) >= 1000:
            Message.objects.bulk_create(batch, ignore_conflicts=True)
            batch = []
    Message.objects.bulk_create(batch, ignore_conflicts=True)


def outbox_to_notices(apps, schema_editor):
    Notice = apps.get_model("meetings", "Notice")
    Message = apps.get_model("outbox", "Message")
    messages = Message.objects.filter(kind__startswith=KIND_PREFIX)
    Notice.objects.bulk_create(
        [
            Notice(
                meeting_id=m.payload["meeting"],
                user_id=m.recipient_id,
                kind=m.kind.removeprefix(KIND_PREFIX),
                sequence=m.payload.get("sequence", 0),
                status="pending" if m.status == "sending" else m.status,
                attempts=m.attempts,
                last_error=m.last_error,
                sent_at=m.sent_at,
            )
            for m in messages.filter(recipient__isnull=False)
        ],
        ignore_conflicts=True,
    )
    messages.delete()


class Migration(migrations.Migration):
    dependencies = [
        ("meetings", "0002_attendance_answer_and_presence"),
        ("outbox", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(notices_to_outbox, outbox_to_notices)]
