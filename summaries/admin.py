from django.contrib import admin

from summaries.models import Summary


@admin.register(Summary)
class SummaryAdmin(admin.ModelAdmin):
    list_display = ["meeting", "status", "sent_at"]
    list_filter = ["status"]
