"""The search index follows every save of the rows it copies.

Django's own `post_save` is the announcement: `topics` knows nothing of this app.
Deletions need nothing: an entry is deleted with its row (CASCADE). Writes that
bypass `save()` (`QuerySet.update`) change only status, position or version in
this product — never text — and who may read an entry is decided from the live
rows at query time, so the index never needs them.
"""

from django.db.models.signals import post_save

from insights.services import (
    contribution_entry_refresh,
    follow_up_entry_refresh,
    micro_project_entry_refresh,
    topic_entries_refresh,
)
from topics.models import Contribution, FollowUp, MicroProject, Topic


def _topic_saved(sender, instance, raw=False, **kwargs):
    if not raw:
        topic_entries_refresh(topic=instance)


def _contribution_saved(sender, instance, raw=False, **kwargs):
    if not raw:
        contribution_entry_refresh(contribution=instance)


def _follow_up_saved(sender, instance, raw=False, **kwargs):
    if not raw:
        follow_up_entry_refresh(follow_up=instance)


def _micro_project_saved(sender, instance, raw=False, **kwargs):
    if not raw:
        micro_project_entry_refresh(micro_project=instance)


def connect() -> None:
    post_save.connect(_topic_saved, sender=Topic, dispatch_uid="insights.topic")
    post_save.connect(_contribution_saved, sender=Contribution, dispatch_uid="insights.idea")
    post_save.connect(_follow_up_saved, sender=FollowUp, dispatch_uid="insights.follow_up")
    post_save.connect(
        _micro_project_saved, sender=MicroProject, dispatch_uid="insights.micro_project"
    )
