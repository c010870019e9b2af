from django import forms
from django.utils.translation import gettext_lazy as _

from summaries.models import Summary
from topics.models import TEXT_MAX


class SummaryForm(forms.ModelForm):
    """The introduction, extra recipients, and one short summary per post-it."""

    class Meta:
        model = Summary
        fields = ["intro", "extra_recipients"]
        widgets = {
            "intro": forms.Textarea(attrs={"rows": 5}),
            "extra_recipients": forms.Textarea(attrs={"rows": 3}),
        }
        labels = {"intro": _("Introduction"), "extra_recipients": _("Extra recipients")}

    def __init__(self, *args, topics=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.topics = list(topics)
        for topic in self.topics:
            self.fields[f"topic_{topic.code}"] = forms.CharField(
                label=topic.title,
                required=False,
                max_length=TEXT_MAX,
                initial=topic.summary,
                widget=forms.Textarea(attrs={"rows": 3}),
            )

    def topic_fields(self):
        return [self[f"topic_{topic.code}"] for topic in self.topics]

    def topic_rows(self):
        """Each post-it with its summary box, for the review that shows them side by side."""
        return [(topic, self[f"topic_{topic.code}"]) for topic in self.topics]

    def topic_summaries(self) -> dict[str, str]:
        return {t.code: self.cleaned_data.get(f"topic_{t.code}", "") for t in self.topics}


class ITPerspectiveSendForm(forms.Form):
    extra_recipients = forms.CharField(
        label=_("More recipients"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": "3"}),
        help_text=_(
            "E-mail addresses besides the group's IT role, one per line; kept for next time."
        ),
    )
