from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MeetingsConfig(AppConfig):
    name = "meetings"
    verbose_name = _("Meetings")

    def ready(self) -> None:
        from groups.signals import member_removed
        from meetings.services import attendances_withdraw

        def withdraw(sender, *, group, user, **kwargs) -> None:
            attendances_withdraw(group=group, user=user)

        member_removed.connect(withdraw, dispatch_uid="meetings.attendances_withdraw", weak=False)
