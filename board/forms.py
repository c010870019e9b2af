from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from groups.models import Department
from topics.models import TEXT_MAX, TITLE_MAX, ContributionKind, LinkKind


class IdeaForm(forms.Form):
    """An idea on the moderator's board: for a person in the room, a department, or neither."""

    text = forms.CharField(
        label=_("Idea or thought"), max_length=TEXT_MAX, widget=forms.Textarea(attrs={"rows": 2})
    )
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=ContributionKind.choices,
        initial=ContributionKind.IDEA,
        required=False,
    )
    speaker = forms.ModelChoiceField(
        label=_("Who said it"), queryset=User.objects.none(), required=False
    )
    department = forms.ModelChoiceField(
        label=_("Speaker's department"), queryset=Department.objects.none(), required=False
    )

    def __init__(self, *args, departments=None, people=None, **kwargs):
        super().__init__(*args, **kwargs)
        if departments is not None:
            self.fields["department"].queryset = departments
        if people is not None:
            self.fields["speaker"].queryset = people
        self.fields["department"].to_field_name = "code"

    def clean_kind(self) -> str:
        return self.cleaned_data.get("kind") or ContributionKind.IDEA


class ParticipantIdeaForm(forms.Form):
    """A participant's idea: one field; their department and the kind are the defaults."""

    text = forms.CharField(label=_("Idea or thought"), max_length=TEXT_MAX)


class OnTheSpotForm(forms.Form):
    department = forms.ModelChoiceField(
        label=_("Department"), queryset=Department.objects.none(), to_field_name="code"
    )
    title = forms.CharField(label=_("Title"), max_length=TITLE_MAX)

    def __init__(self, *args, departments=None, **kwargs):
        super().__init__(*args, **kwargs)
        if departments is not None:
            self.fields["department"].queryset = departments


class FollowUpForm(forms.Form):
    title = forms.CharField(label=_("What is to be done"), max_length=200)
    owner = forms.ModelChoiceField(
        label=_("Owner (person)"), queryset=User.objects.none(), required=False
    )
    owner_department = forms.ModelChoiceField(
        label=_("Owner (department)"),
        queryset=Department.objects.none(),
        required=False,
        to_field_name="code",
    )
    due_date = forms.DateField(
        label=_("Due date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, departments=None, people=None, **kwargs):
        super().__init__(*args, **kwargs)
        if departments is not None:
            self.fields["owner_department"].queryset = departments
        if people is not None:
            self.fields["owner"].queryset = people

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("owner") and not cleaned.get("owner_department"):
            self.add_error("owner", _("Choose an owner: a person or a department."))
        return cleaned


class NotesForm(forms.Form):
    notes = forms.CharField(
        label=_("Notes"),
        max_length=TEXT_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    notes_version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)


class LinkForm(forms.Form):
    other = forms.CharField(max_length=16)
    kind = forms.ChoiceField(label=_("Kind"), choices=LinkKind.choices)


class TimerForm(forms.Form):
    minutes = forms.IntegerField(label=_("Minutes"), min_value=-60, max_value=60)
