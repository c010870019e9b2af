from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _


class OutboxConfig(AppConfig):
    name = "outbox"
    verbose_name = _("Outbox")

    def ready(self) -> None:
        # Every app declares the kinds of message it sends in its `messages.py`
        # (see outbox/kinds.py); import them all so a worker can render any kind.
        autodiscover_modules("messages")
        from outbox import signals  # noqa: F401  (connects the worker start-up hook)
