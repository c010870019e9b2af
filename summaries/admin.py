from django.contrib import admin

from summaries.models import Delivery, Summary


class DeliveryInline(admin.TabularInline):
    model = Delivery
    extra = 0
    readonly_fields = ["status", "attempts", "last_error", "sent_at"]


@admin.register(Summary)
class SummaryAdmin(admin.ModelAdmin):
    list_display = ["meeting", "status", "sent_at"]
    list_filter = ["status"]
    inlines = [DeliveryInline]


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["email", "summary", "status", "attempts", "sent_at"]
    list_filter = ["status"]
    search_fields = ["email", "name"]
