from django.contrib import admin

from groups.models import Department, Group, Invitation


class DepartmentInline(admin.TabularInline):
    model = Department
    extra = 0
    fields = ["name", "short_name", "colour", "position"]


@admin.register(Group)
class GroupAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "time_zone"]
    search_fields = ["name", "code"]
    readonly_fields = ["code"]
    filter_horizontal = ["moderators", "participants"]
    inlines = [DepartmentInline]


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["name", "short_name", "group", "colour"]
    list_filter = ["group"]
    search_fields = ["name", "short_name"]
    filter_horizontal = ["heads"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "group", "role", "department", "sent_at", "accepted_at"]
    list_filter = ["group", "role"]
    search_fields = ["email", "full_name"]
    readonly_fields = ["key", "sent_at", "accepted_at", "accepted_by"]
