from django import forms
from django.utils.translation import gettext_lazy as _

from groups.models import StrategyGoal
from insights.models import EntryKind
from insights.selectors import Period
from insights.similarity import Query

# What the radar reads of each field; longer text adds nothing a query could use.
RADAR_FIELD_MAX = 4000


class RadarForm(forms.Form):
    """The post-it as typed so far. Never invalid: any text gives hits or none."""

    department = forms.CharField(required=False, max_length=32)
    topic = forms.CharField(required=False, max_length=32)
    title = forms.CharField(required=False, strip=False)
    background = forms.CharField(required=False, strip=False)
    current_state = forms.CharField(required=False, strip=False)
    goal = forms.CharField(required=False, strip=False)
    obstacle = forms.CharField(required=False, strip=False)

    def query(self) -> Query:
        data = self.cleaned_data if self.is_valid() else {}
        text = {
            name: (data.get(name) or "")[:RADAR_FIELD_MAX]
            for name in ["title", "background", "current_state", "goal", "obstacle"]
        }
        return Query.of_postit(
            title=text["title"],
            obstacle=text["obstacle"],
            goal=text["goal"],
            now=text["current_state"],
            background=text["background"],
        )

    def code(self, name: str) -> str:
        return self.cleaned_data.get(name, "") if self.is_valid() else ""


class SuggestForm(forms.Form):
    topic = forms.CharField(max_length=32, required=False)
    similar = forms.CharField(max_length=32)


class DecideForm(forms.Form):
    topic = forms.CharField(max_length=32)
    similar = forms.CharField(max_length=32)
    decision = forms.ChoiceField(choices=[("confirm", "confirm"), ("dismiss", "dismiss")])


# What the search reads of the box; a longer text adds nothing a query could use.
SEARCH_MAX = 1000


class SearchForm(forms.Form):
    """The group's search box and its filters. Any text is a search, never an error."""

    q = forms.CharField(label=_("Search"), required=False, strip=True)
    department = forms.ChoiceField(label=_("Department"), required=False)
    meeting = forms.ChoiceField(label=_("Meeting"), required=False)
    kind = forms.ChoiceField(label=_("Kind"), required=False)

    def __init__(self, *args, departments, meetings, **kwargs):
        super().__init__(*args, **kwargs)
        every = [("", _("All"))]
        self.fields["department"].choices = every + [(d.code, d.name) for d in departments]
        # The template writes the meetings' dates itself: a group with years of
        # meetings would otherwise render hundreds of option templates per search.
        self.fields["meeting"].choices = every + [(m.code, m.code) for m in meetings]
        self.fields["kind"].choices = every + list(EntryKind.choices)

    def clean_q(self) -> str:
        return self.cleaned_data["q"][:SEARCH_MAX]

    def query(self) -> Query:
        return Query.of(self.cleaned_data.get("q", "")) if self.is_valid() else Query(terms=[])


class GoalForm(forms.ModelForm):
    class Meta:
        model = StrategyGoal
        fields = ["title", "description"]
        labels = {"title": _("Goal"), "description": _("What it means (optional)")}
        help_texts = {
            "title": _(
                "As the organisation's strategy words it, e.g. “Enhetliga och "
                "standardiserade processer och verktyg”."
            ),
        }
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, group, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.group = group


class PeriodForm(forms.Form):
    """Which meetings the insights cover (GET). An unknown value is a field error, and
    the page shows the default period."""

    period = forms.ChoiceField(label=_("Meetings covered"), choices=Period.choices, required=False)

    def chosen(self) -> str:
        if self.is_bound and self.is_valid() and self.cleaned_data["period"]:
            return self.cleaned_data["period"]
        return Period.LATEST
