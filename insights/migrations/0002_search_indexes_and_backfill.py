"""PostgreSQL's indexes for the radar and the search, and the index of what exists.

The GIN indexes exist on PostgreSQL only (SQLite has no GIN), so they are made
here rather than in `Entry.Meta`: one on the full-text document, one trigram
index on the title. Then every existing post-it, idea, note and follow-up gets
its entry (later ones are kept by `insights/signals.py`).
"""

from django.contrib.postgres.indexes import GinIndex, OpClass
from django.contrib.postgres.search import SearchVector
from django.db import migrations
from django.db.models import Value

CONFIG = "swedish"

INDEXES = [
    GinIndex(fields=["vector"], name="entry_vector_gin"),
    GinIndex(OpClass("title", name="gin_trgm_ops"), name="entry_title_trgm"),
]


def add_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    Entry = apps.get_model("insights", "Entry")
    for index in INDEXES:
        schema_editor.add_index(Entry, index)


def remove_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    Entry = apps.get_model("insights", "Entry")
    for index in INDEXES:
        schema_editor.remove_index(Entry, index)


def _vector(*parts):
    vector = None
    for text, weight in parts:
        piece = SearchVector(Value(text or ""), weight=weight, config=CONFIG)
        vector = piece if vector is None else vector + piece
    return vector


def backfill(apps, schema_editor):
    Entry = apps.get_model("insights", "Entry")
    Topic = apps.get_model("topics", "Topic")
    Contribution = apps.get_model("topics", "Contribution")
    FollowUp = apps.get_model("topics", "FollowUp")
    postgres = schema_editor.connection.vendor == "postgresql"

    def store(weighted, **values):
        values["folded"] = "\n".join(text for text, _weight in weighted if text).lower()
        entry = Entry.objects.create(**values)
        if postgres:
            Entry.objects.filter(pk=entry.pk).update(vector=_vector(*weighted))

    for t in Topic.objects.select_related("meeting"):
        place = {"group_id": t.meeting.group_id, "meeting_id": t.meeting_id}
        fields = [t.background, t.current_state, t.goal, t.obstacle]
        store(
            [(t.title, "A"), (t.obstacle, "B"), ("\n".join(fields[:3]), "C")],
            kind="topic", topic=t, department_id=t.department_id, title=t.title,
            body="\n".join(f for f in fields if f), **place,
        )
        if t.notes.strip():
            store(
                [(t.notes, "A")],
                kind="note", topic=t, department_id=t.department_id, title=t.title,
                body=t.notes, **place,
            )
    for c in Contribution.objects.select_related("topic__meeting"):
        store(
            [(c.text, "A")],
            kind="idea", contribution=c, topic=c.topic, group_id=c.topic.meeting.group_id,
            meeting_id=c.topic.meeting_id, department_id=c.department_id,
            title=c.topic.title, body=c.text,
        )
    for f in FollowUp.objects.select_related("meeting"):
        store(
            [(f.title, "A"), (f.outcome, "C")],
            kind="follow_up", follow_up=f, topic_id=f.topic_id, group_id=f.meeting.group_id,
            meeting_id=f.meeting_id, department_id=f.owner_department_id,
            title=f.title, body=f.outcome,
        )


class Migration(migrations.Migration):
    dependencies = [("insights", "0001_search_index")]

    operations = [
        migrations.RunPython(add_indexes, remove_indexes),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
