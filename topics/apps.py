from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TopicsConfig(AppConfig):
    name = "topics"
    verbose_name = _("Post-its")

    def ready(self) -> None:
        from groups.signals import member_removal_notes
        from topics.selectors import drafts_left_behind

        def notes(sender, *, group, user, **kwargs) -> list[str]:
            return drafts_left_behind(group=group, user=user)

        member_removal_notes.connect(notes, dispatch_uid="topics.drafts_left_behind", weak=False)
