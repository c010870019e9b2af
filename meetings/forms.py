from django import forms
from django.utils.translation import gettext_lazy as _

from meetings.models import AttendanceStatus, Meeting, Schedule


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


def video_url_field() -> forms.URLField:
    return forms.URLField(
        label=_("Video link"), max_length=500, required=False, assume_scheme="https"
    )


class ScheduleForm(forms.ModelForm):
    video_url = video_url_field()
    allow_read_ahead = forms.BooleanField(
        label=_("Heads and participants may read each other's post-its before the meeting"),
        required=False,
    )

    class Meta:
        model = Schedule
        fields = [
            "rule",
            "week",
            "weekday",
            "day_of_month",
            "start_time",
            "duration_minutes",
            "location",
            "video_url",
            "deadline_hours_before",
            "open_days_before",
            "topics_per_department",
            "active",
        ]
        widgets = {"start_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M")}

    def clean(self):
        cleaned = super().clean()
        duration = cleaned.get("duration_minutes")
        if duration is not None and not 5 <= duration <= 720:
            self.add_error("duration_minutes", _("Between 5 and 720 minutes."))
        limit = cleaned.get("topics_per_department")
        if limit is not None and not 1 <= limit <= 10:
            self.add_error("topics_per_department", _("Between 1 and 10."))
        day = cleaned.get("day_of_month")
        if day is not None and not 1 <= day <= 31:
            self.add_error("day_of_month", _("Between 1 and 31."))
        days = cleaned.get("open_days_before")
        if days is not None and days > 60:
            self.add_error("open_days_before", _("At most 60 days."))
        return cleaned

    def schedule_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class MeetingForm(forms.ModelForm):
    """Times are entered and shown in the group's time zone (the view activates it)."""

    video_url = video_url_field()

    class Meta:
        model = Meeting
        fields = ["title", "starts_at", "ends_at", "submission_deadline", "location", "video_url"]
        widgets = {
            "starts_at": DateTimeLocalInput(),
            "ends_at": DateTimeLocalInput(),
            "submission_deadline": DateTimeLocalInput(),
        }

    def meeting_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class AnswerForm(forms.Form):
    """Coming or not, answered on the meeting page."""

    answer = forms.ChoiceField(
        label=_("Are you coming?"),
        choices=[
            (AttendanceStatus.ACCEPTED, _("I am coming")),
            (AttendanceStatus.DECLINED, _("I am not coming")),
        ],
        error_messages={
            "required": _("Answer either coming or not coming."),
            "invalid_choice": _("Answer either coming or not coming."),
        },
    )
