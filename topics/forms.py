from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from groups.models import Department
from topics.models import (
    FIELD_MAX,
    FOLLOW_UP_TRANSITIONS,
    MICRO_PROJECT_TRANSITIONS,
    TEXT_MAX,
    TITLE_MAX,
    FollowUpStatus,
    MicroProjectStatus,
    Solution,
    Topic,
)

HELP = {
    "title": _(
        "One line that names the challenge, e.g. “Staffing the emergency ward in the evening”."
    ),
    "background": _("Why this matters: what happens, who is affected, since when."),
    "current_state": _("How it works today, and what it costs in time, money or worry."),
    "goal": _("What it would look like when it works. Be concrete."),
    "obstacle": _("What stops you today: knowledge, data, systems, rules, people."),
}


class GoalsField(forms.MultipleChoiceField):
    """Strategy goals as checkboxes, by code, from a list given once (see
    `groups.selectors.goals_offered`), so a page with a form per post-it asks the
    database once for all of them. Cleans to the goals themselves; a code not
    offered (another group's goal, an archived one, a made-up one) is a field error."""

    widget = forms.CheckboxSelectMultiple

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label", _("Strategy goals"))
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", _("The organisation's strategic goals this serves, if any."))
        super().__init__(*args, **kwargs)
        self.goals = []

    def offer(self, goals) -> None:
        self.goals = list(goals)
        self.choices = [
            (g.code, _("%(goal)s (archived)") % {"goal": g.title} if g.archived else g.title)
            for g in self.goals
        ]

    def clean(self, value):
        codes = super().clean(value)
        by_code = {g.code: g for g in self.goals}
        return [by_code[code] for code in codes]


def offer_goals(form, goals, current=None) -> None:
    """Offer `goals` in the form's `goals` field (dropped when there are none), ticked
    with `current` unless the form is bound."""
    goals = list(goals)
    if not goals:
        form.fields.pop("goals", None)
        return
    form.fields["goals"].offer(goals)
    if current is not None and not form.is_bound:
        form.initial["goals"] = [g.code for g in current]


def normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


class TopicForm(forms.ModelForm):
    class Meta:
        model = Topic
        fields = ["title", "background", "current_state", "goal", "obstacle"]
        labels = {
            "title": _("Title"),
            "background": _("Background"),
            "current_state": _("How it is now"),
            "goal": _("Where we want to go"),
            "obstacle": _("What stands in the way"),
        }
        help_texts = HELP

    def __init__(self, *args, read_only: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if self.is_bound:
            # Browsers send a textarea's line breaks as CRLF but count and show them as
            # one character: store them as "\n", so limits and comparisons agree.
            self.data = self.data.copy()
            for name in self.Meta.fields:
                if name in self.data:
                    self.data[name] = normalise_newlines(self.data[name])
        self.fields["title"].required = False  # required only when submitting
        for name, field in self.fields.items():
            limit = TITLE_MAX if name == "title" else FIELD_MAX
            # No maxlength: a browser would cut a long paste silently. The page's counter
            # says how much is over and the server refuses it with a field error.
            field.widget.attrs.pop("maxlength", None)
            field.widget.attrs.update({"data-limit": str(limit), "data-autosave-field": name})
            if name != "title":
                field.widget.attrs["rows"] = "4"
            if read_only:
                field.widget.attrs["readonly"] = "readonly"

    def cleaned_text(self) -> dict[str, str]:
        return {name: self.cleaned_data.get(name, "") for name in self.Meta.fields}


class TopicGoalsForm(forms.Form):
    """The post-it's strategy goals, beside its text in the same <form>. `goals_shown`
    says the checkboxes were on the page: without it (an older page, an autosave
    from a page without goals) the goals are left as they are."""

    goals = GoalsField()
    goals_shown = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, goals=(), current=None, read_only: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.setdefault("goals_shown", True)
        offer_goals(self, goals, current)
        if read_only and "goals" in self.fields:
            self.fields["goals"].disabled = True
        if "goals" in self.fields:
            self.fields["goals"].widget.attrs["data-autosave-goal"] = "true"

    def chosen(self):
        """The goals to store, or None to leave them alone."""
        if "goals" not in self.fields or not self.cleaned_data.get("goals_shown"):
            return None
        return self.cleaned_data["goals"]


class ReopenForm(forms.Form):
    hours = forms.IntegerField(label=_("Open for (hours)"), min_value=1, max_value=168, initial=24)


def _offer_only(field, statuses, transitions, current: str) -> None:
    """Offer the current status and the ones the lifecycle allows from it. Any other
    value still reaches the service, which refuses it with a message that says why."""
    allowed = {current, *transitions.get(current, set())}
    field.widget.choices = [(value, label) for value, label in statuses.choices if value in allowed]


class FollowUpFilterForm(forms.Form):
    """The follow-up list's filters (GET); an unknown value is a field error, not a 500."""

    status = forms.ChoiceField(
        label=_("Status"),
        choices=[("", _("All")), *FollowUpStatus.choices],
        required=False,
        initial=FollowUpStatus.OPEN,
    )
    department = forms.ModelChoiceField(
        label=_("Department"),
        queryset=Department.objects.none(),
        required=False,
        to_field_name="code",
        empty_label=_("All departments"),
    )
    owner = forms.ModelChoiceField(
        label=_("Owner"),
        queryset=User.objects.none(),
        required=False,
        to_field_name="code",
        empty_label=_("Everyone"),
    )
    overdue = forms.BooleanField(label=_("Only overdue"), required=False)

    def __init__(self, *args, departments=None, people=None, **kwargs):
        super().__init__(*args, **kwargs)
        if departments is not None:
            self.fields["department"].queryset = departments
        if people is not None:
            self.fields["owner"].queryset = people


class FollowUpChangeForm(forms.Form):
    """Everything about a follow-up its owner, its department's heads or a moderator
    may change; the service decides which status changes the lifecycle allows."""

    title = forms.CharField(label=_("What is to be done"), max_length=200)
    status = forms.ChoiceField(label=_("Status"), choices=FollowUpStatus.choices)
    reason = forms.CharField(
        label=_("Why it is dropped"),
        max_length=TEXT_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": "2"}),
        help_text=_("Required when the follow-up is dropped."),
    )
    outcome = forms.CharField(
        label=_("Outcome"),
        max_length=TEXT_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": "4"}),
        help_text=_("What was done, what came of it."),
    )
    owner = forms.ModelChoiceField(
        label=_("Owner (person)"),
        queryset=User.objects.none(),
        required=False,
        to_field_name="code",
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
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    def __init__(self, *args, departments=None, people=None, current=None, **kwargs):
        super().__init__(*args, **kwargs)
        if departments is not None:
            self.fields["owner_department"].queryset = departments
        if people is not None:
            self.fields["owner"].queryset = people
        if current is not None:
            _offer_only(self.fields["status"], FollowUpStatus, FOLLOW_UP_TRANSITIONS, current)

    def clean(self):
        data = super().clean()
        if not data.get("owner") and not data.get("owner_department") and not self.errors:
            raise forms.ValidationError(_("A follow-up needs an owner: a person or a department."))
        if data.get("status") == FollowUpStatus.DROPPED and not (data.get("reason") or "").strip():
            self.add_error("reason", _("Say why the follow-up is dropped."))
        return data

    def values(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.fields if name != "version"}


class SolutionForm(forms.ModelForm):
    class Meta:
        model = Solution
        fields = ["title", "description", "systems", "effort", "risks", "recommendation"]
        labels = {
            "title": _("Solution"),
            "description": _("Description"),
            "systems": _("Systems affected"),
            "effort": _("Rough effort"),
            "risks": _("Risks"),
            "recommendation": _("Recommendation"),
        }
        help_texts = {
            "systems": _("E.g. “Intranät, HR-systemet Heroma”."),
            "recommendation": _("What IT recommends, and why."),
        }
        widgets = {
            "description": forms.Textarea(attrs={"rows": "3"}),
            "risks": forms.Textarea(attrs={"rows": "2"}),
            "recommendation": forms.Textarea(attrs={"rows": "2"}),
            "effort": forms.RadioSelect,
        }

    goals = GoalsField()

    def __init__(self, *args, goals=(), tagged=None, **kwargs):
        super().__init__(*args, **kwargs)
        offer_goals(self, goals, tagged)


class IntroductionForm(forms.Form):
    introduction = forms.CharField(
        label=_("Introduction"),
        max_length=TEXT_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": "3"}),
    )


class MicroProjectCreateForm(forms.Form):
    owner = forms.ModelChoiceField(
        label=_("Owner"), queryset=User.objects.none(), to_field_name="code"
    )
    target_date = forms.DateField(
        label=_("Target date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, people=None, **kwargs):
        super().__init__(*args, **kwargs)
        if people is not None:
            self.fields["owner"].queryset = people


class MicroProjectChangeForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=TITLE_MAX)
    status = forms.ChoiceField(label=_("Status"), choices=MicroProjectStatus.choices)
    reason = forms.CharField(
        label=_("Why it is dropped"),
        max_length=TEXT_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": "2"}),
        help_text=_("Required when the micro-project is dropped."),
    )
    owner = forms.ModelChoiceField(
        label=_("Owner"), queryset=User.objects.none(), to_field_name="code"
    )
    target_date = forms.DateField(
        label=_("Target date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    goals = GoalsField()
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    def __init__(self, *args, people=None, current=None, goals=(), tagged=None, **kwargs):
        super().__init__(*args, **kwargs)
        if people is not None:
            self.fields["owner"].queryset = people
        if current is not None:
            _offer_only(
                self.fields["status"], MicroProjectStatus, MICRO_PROJECT_TRANSITIONS, current
            )
        offer_goals(self, goals, tagged)

    def clean(self):
        data = super().clean()
        if (
            data.get("status") == MicroProjectStatus.DROPPED
            and not (data.get("reason") or "").strip()
        ):
            self.add_error("reason", _("Say why the micro-project is dropped."))
        return data

    def values(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.fields if name != "version"}


class MicroProjectFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[("", _("All")), ("open", _("All open")), *MicroProjectStatus.choices],
        required=False,
    )
    department = forms.ModelChoiceField(
        label=_("Department"),
        queryset=Department.objects.none(),
        required=False,
        to_field_name="code",
        empty_label=_("All departments"),
    )
    owner = forms.ModelChoiceField(
        label=_("Owner"),
        queryset=User.objects.none(),
        required=False,
        to_field_name="code",
        empty_label=_("Everyone"),
    )

    def __init__(self, *args, departments=None, people=None, **kwargs):
        super().__init__(*args, **kwargs)
        if departments is not None:
            self.fields["department"].queryset = departments
        if people is not None:
            self.fields["owner"].queryset = people


class StatusAnswerForm(forms.Form):
    """The owner's answer through a status link: one text and a status."""

    text = forms.CharField(
        label=_("What has happened since last time?"),
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": "5"}),
    )
    status = forms.ChoiceField(label=_("Status"))

    def __init__(self, *args, choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = choices
