from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from accounts.models import Language
from groups.models import Department, Group, InvitationRole


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("E-mail address"), max_length=254)
    full_name = forms.CharField(
        label=_("Name"),
        max_length=150,
        required=False,
        help_text=_("Optional; the person can correct it when accepting."),
    )
    role = forms.ChoiceField(label=_("Role"), choices=InvitationRole.choices)
    department = forms.ModelChoiceField(
        label=_("Department"),
        queryset=Department.objects.none(),
        required=False,
        help_text=_("Required for a department head."),
    )
    language = forms.ChoiceField(
        label=_("Language of the e-mail"),
        choices=Language.choices,
        initial=settings.LANGUAGE_CODE,
    )

    def __init__(self, *args, group: Group, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = group.departments.all()
        self.fields["email"].widget.attrs["autocomplete"] = "off"

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("role") == InvitationRole.HEAD and not cleaned.get("department"):
            self.add_error("department", _("Choose the department this person heads."))
        if cleaned.get("role") != InvitationRole.HEAD:
            cleaned["department"] = None
        return cleaned


class InvitationAcceptForm(forms.Form):
    full_name = forms.CharField(
        label=_("Your name"),
        max_length=150,
        help_text=_("Shown to the group on your post-its and ideas."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["full_name"].widget.attrs["autocomplete"] = "name"
