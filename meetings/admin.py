from django.contrib import admin

from meetings.models import Attendance, Meeting


class AttendanceInline(admin.TabularInline):
    model = Attendance
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Meeting)
class MeetingAdmin(admin.ModelAdmin):
    list_display = ["__str__", "group", "starts_at", "status", "code"]
    list_filter = ["group", "status"]
    readonly_fields = ["code"]
    date_hierarchy = "starts_at"
    inlines = [AttendanceInline]
