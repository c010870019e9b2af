from django.contrib import admin

from outbox.models import Message


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    """Read-only: the outbox pages are where messages are resent. The payload stays hidden."""

    list_display = ["kind", "address", "status", "attempts", "not_before", "sent_at"]
    list_filter = ["status", "channel", "kind"]
    search_fields = ["address", "name", "key"]
    fields = readonly_fields = [
        "code",
        "kind",
        "channel",
        "key",
        "address",
        "name",
        "language",
        "status",
        "attempts",
        "not_before",
        "lease_until",
        "claimed_by",
        "last_error",
        "sent_at",
        "created_at",
    ]

    def has_add_permission(self, request) -> bool:
        return False
