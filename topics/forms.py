from django import forms
from django.utils.translation import gettext_lazy as _

from topics.models import FIELD_MAX, TITLE_MAX, Topic

HELP = {
    "title": _(
        "One line that names the challenge, e.g. “Staffing the emergency ward in the evening”."
    ),
    "background": _("Why this matters: what happens, who is affected, since when."),
    "current_state": _("How it works today, and what it costs in time, money or worry."),
    "goal": _("What it would look like when it works. Be concrete."),
    "obstacle": _("What stops you today: knowledge, data, systems, rules, people."),
}


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
        self.fields["title"].required = False  # required only when submitting
        for name, field in self.fields.items():
            limit = TITLE_MAX if name == "title" else FIELD_MAX
            field.widget.attrs.update(
                {"maxlength": str(limit), "data-limit": str(limit), "data-autosave-field": name}
            )
            if name != "title":
                field.widget.attrs["rows"] = "4"
            if read_only:
                field.widget.attrs["readonly"] = "readonly"

    def cleaned_text(self) -> dict[str, str]:
        return {name: self.cleaned_data.get(name, "") for name in self.Meta.fields}


class ReopenForm(forms.Form):
    hours = forms.IntegerField(label=_("Open for (hours)"), min_value=1, max_value=168, initial=24)
