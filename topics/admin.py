from django.contrib import admin

from topics.models import Contribution, FollowUp, FollowUpChange, Topic, TopicLink


class ContributionInline(admin.TabularInline):
    model = Contribution
    extra = 0


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = ["title", "meeting", "department", "author", "status", "position"]
    list_filter = ["status", "meeting__group"]
    search_fields = ["title", "background", "current_state", "goal", "obstacle"]
    readonly_fields = ["code", "version"]
    inlines = [ContributionInline]


@admin.register(TopicLink)
class TopicLinkAdmin(admin.ModelAdmin):
    list_display = ["from_topic", "kind", "to_topic"]
    list_filter = ["kind"]


class FollowUpChangeInline(admin.TabularInline):
    model = FollowUpChange
    extra = 0
    readonly_fields = ["at", "by", "by_name", "changes"]
    can_delete = False


@admin.register(FollowUp)
class FollowUpAdmin(admin.ModelAdmin):
    list_display = ["title", "meeting", "owner", "owner_department", "due_date", "status"]
    list_filter = ["status", "meeting__group"]
    search_fields = ["title", "outcome"]
    readonly_fields = ["code", "version"]
    inlines = [FollowUpChangeInline]
