from allauth.account.forms import LoginForm as AllauthLoginForm
from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from accounts.models import Language, User


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["full_name", "language"]
        help_texts = {"full_name": _("Shown on your post-its and ideas.")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["full_name"].required = True
        self.fields["full_name"].widget.attrs["autocomplete"] = "name"


class LanguageForm(forms.Form):
    language = forms.ChoiceField(label=_("Language"), choices=Language.choices)
    next = forms.CharField(required=False, max_length=2000)


class LoginForm(AllauthLoginForm):
    """allauth's sign-in form, refusing passwords where the installation turned them off."""

    def clean(self):
        if not settings.SIGNIN_PASSWORD:
            raise forms.ValidationError(
                _("Signing in with a password is turned off here. Use another way below."),
                code="password_signin_off",
            )
        return super().clean()
