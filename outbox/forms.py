from django import forms
from django.utils.translation import gettext_lazy as _


class ResendForm(forms.Form):
    """The outbox pages' buttons: resend one failed message, all failed,
    push all stuck, or send now all that wait for a later try."""

    which = forms.ChoiceField(
        choices=[
            ("one", _("This message")),
            ("failed", _("All failed")),
            ("stuck", _("All stuck")),
            ("waiting", _("All waiting")),
        ]
    )
    message = forms.CharField(required=False, max_length=16)
    kind = forms.CharField(required=False, max_length=64)

    def clean(self):
        data = super().clean()
        if data.get("which") == "one" and not data.get("message"):
            raise forms.ValidationError(_("Choose the message to resend."))
        return data
