"""Every summary delivery becomes an outbox message; a pending one stays pending.

The key, kind and payload are the ones summaries/messages.py writes today.
"""

from django.db import migrations
from django.utils import timezone

from tvargrupp.models import new_code

KIND = "summaries.summary"


def _keep_timestamps(model) -> None:
    """This migration's copy of the model writes the old rows' own times, not now."""
    model._meta.get_field("created_at").auto_now_add = False
    model._meta.get_field("updated_at").auto_now = False


def deliveries_to_outbox(apps, schema_editor):
    Delivery = apps.get_model("summaries", "Delivery")
    Message = apps.get_model("outbox", "Message")
    _keep_timestamps(Message)
    ContentType = apps.get_model("contenttypes", "ContentType")
    meeting_type, _created = ContentType.objects.get_or_create(app_label="meetings", model="meeting")
    now = timezone.now()
    batch = []
    deliveries = Delivery.objects.select_related("summary").order_by("pk")
    for delivery in deliveries.iterator(chunk_size=1000):
        pending = delivery.status == "pending"
        batch.append(
            Message(
                code=new_code(),
                kind=KIND,
                channel="email",
                key=f"{KIND}:{delivery.summary_id}:{delivery.email.lower()}",
                about_type=meeting_type,
                about_id=delivery.summary.meeting_id,
                recipient_id=delivery.recipient_id,
                address=delivery.email,
                name=delivery.name,
                language=delivery.language,
                payload={"summary": delivery.summary_id},
                priority=9,
                status=delivery.status,
                attempts=delivery.attempts,
                not_before=(delivery.scheduled_at or now) if pending else delivery.created_at,
                last_error=delivery.last_error,
                sent_at=delivery.sent_at,
                created_at=delivery.created_at,
                updated_at=delivery.updated_at,
            )
        )
        if len(batch) >= 1000:
            Message.objects.bulk_create(batch, ignore_conflicts=True)
            batch = []
    Message.objects.bulk_create(batch, ignore_conflicts=True)


def outbox_to_deliveries(apps, schema_editor):
    Delivery = apps.get_model("summaries", "Delivery")
    Message = apps.get_model("outbox", "Message")
    messages = Message.objects.filter(kind=KIND)
    Delivery.objects.bulk_create(
        [
            Delivery(
                summary_id=m.payload["summary"],
                recipient_id=m.recipient_id,
                email=m.address,
                name=m.name,
                language=m.language,
                status="pending" if m.status == "sending" else m.status,
                attempts=m.attempts,
                last_error=m.last_error,
                sent_at=m.sent_at,
            )
            for m in messages
        ],
        ignore_conflicts=True,
    )
    messages.delete()


class Migration(migrations.Migration):
    dependencies = [
        ("summaries", "0001_initial"),
        ("meetings", "0001_initial"),
        ("outbox", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(deliveries_to_outbox, outbox_to_deliveries)]
