import re
import zoneinfo
from email.utils import parseaddr

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Language
from groups.models import BoardColour, Department, Group, MemberRole
from groups.selectors import invitation_refusals
from groups.services import InvitationLine, Person

MAX_LINES = 200
NAME_MAX = 150


def time_zone_choices() -> list[tuple[str, str]]:
    zones = sorted(z for z in zoneinfo.available_timezones() if "/" in z and "Etc" not in z)
    return [(zone, zone.replace("_", " ")) for zone in zones]


# --- People written as text ---------------------------------------------------------

_SEPARATORS = re.compile(r"[,;\t]")


def parse_person(line: str) -> tuple[str, str, str]:
    """(name, e-mail address, what follows it) from one pasted line.

    Accepts `Maria Lindqvist <maria@example.se>, HR`, `maria@example.se, HR`,
    `Maria Lindqvist, maria@example.se, HR` and the same with tabs (a spreadsheet's
    columns) or semicolons.
    """
    line = line.strip()
    if "<" in line and ">" in line.split("<", 1)[1]:
        before, rest = line.split("<", 1)
        address, after = rest.split(">", 1)
        name = _SEPARATORS.sub(" ", before).strip().strip('"').strip()
        return name, address.strip(), _SEPARATORS.sub(",", after).strip(" ,")
    parts = [p.strip() for p in _SEPARATORS.split(line)]
    at = next((i for i, part in enumerate(parts) if "@" in part), None)
    if at is None:
        return "", "", line
    name = " ".join(p for p in parts[:at] if p)
    address = parseaddr(parts[at])[1] or parts[at]
    return name, address, ", ".join(p for p in parts[at + 1 :] if p)


def parse_people(text: str) -> tuple[list[Person], list[str]]:
    """The people of a one-per-line list, and the errors of lines that are not one."""
    people, errors = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        name, email, _rest = parse_person(line)
        try:
            validate_email(email)
        except ValidationError:
            errors.append(
                _("Line %(number)s: “%(line)s” has no valid e-mail address.")
                % {"number": number, "line": line.strip()[:80]}
            )
            continue
        people.append(Person(email=email.lower(), name=name[:NAME_MAX]))
    return people, errors


# --- The group --------------------------------------------------------------------


class GroupFieldsMixin(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=120)
    description = forms.CharField(
        label=gettext_lazy("Description"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("What the group is for; shown on its page."),
    )
    time_zone = forms.ChoiceField(
        label=gettext_lazy("Time zone"),
        initial="Europe/Stockholm",
        help_text=gettext_lazy("Meeting times are set and shown in this zone."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = time_zone_choices()

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise ValidationError(_("Give the group a name."))
        return name


class GroupCreateForm(GroupFieldsMixin):
    moderators = forms.CharField(
        label=gettext_lazy("Moderators"),
        required=False,
        widget=forms.Textarea(
            attrs={"rows": 3, "placeholder": "Karin Åberg <karin.aberg@example.se>"}
        ),
        help_text=gettext_lazy(
            "One per line, e.g. Karin Åberg <karin.aberg@example.se>. Each gets an "
            "invitation by e-mail."
        ),
    )
    creator_moderates = forms.BooleanField(
        label=gettext_lazy("I moderate this group too"), required=False, initial=True
    )

    def clean_moderators(self) -> list[Person]:
        text = self.cleaned_data["moderators"]
        if len(text.splitlines()) > MAX_LINES:
            raise ValidationError(_("At most %(count)s lines.") % {"count": MAX_LINES})
        people, errors = parse_people(text)
        if errors:
            raise ValidationError(errors)
        seen = set()
        for person in people:
            if person.email in seen:
                raise ValidationError(
                    _("%(email)s is on the list twice.") % {"email": person.email}
                )
            seen.add(person.email)
        return people

    def clean(self):
        cleaned = super().clean()
        if (
            "moderators" in cleaned
            and not cleaned["moderators"]
            and not cleaned.get("creator_moderates")
        ):
            self.add_error(
                "moderators", _("A group needs a moderator: yourself, or someone you invite.")
            )
        return cleaned


class GroupSettingsForm(GroupFieldsMixin):
    allow_read_ahead = forms.BooleanField(
        label=gettext_lazy(
            "Heads and participants may read each other's post-its before the meeting"
        ),
        required=False,
    )
    status_days_before = forms.IntegerField(
        label=gettext_lazy("Ask for the status of follow-ups and micro-projects (days before)"),
        min_value=1,
        max_value=30,
        required=False,
        help_text=gettext_lazy(
            "Owners of open follow-ups and micro-projects get one e-mail this many days "
            "before each meeting, with a link for each item that works without signing in."
        ),
    )

    @classmethod
    def for_group(cls, group: Group, data=None) -> "GroupSettingsForm":
        initial = {
            "name": group.name,
            "description": group.description,
            "time_zone": group.time_zone,
            "allow_read_ahead": group.allow_read_ahead,
            "status_days_before": group.status_days_before,
        }
        return cls(data, initial=initial, prefix="group")


class WebhookForm(forms.Form):
    """The group's chat channel: a Teams workflow or a Slack incoming webhook."""

    webhook_url = forms.URLField(
        label=gettext_lazy("Chat webhook address"),
        max_length=1000,
        required=False,
        assume_scheme="https",
        help_text=gettext_lazy(
            "In Teams: the channel's … menu › Workflows › “Post to a channel when a webhook "
            "request is received”, then copy its address. In Slack: an incoming webhook. "
            "Empty: nothing is posted."
        ),
    )

    @classmethod
    def for_group(cls, group: Group, data=None) -> "WebhookForm":
        return cls(data, initial={"webhook_url": group.webhook_url}, prefix="chat")


# --- Departments --------------------------------------------------------------------


class DepartmentForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=80)
    short_name = forms.CharField(
        label=gettext_lazy("Short name"),
        max_length=12,
        help_text=gettext_lazy("Shown on every post-it, e.g. HR or IT."),
    )
    colour = forms.ChoiceField(
        label=gettext_lazy("Board colour"),
        choices=BoardColour.choices,
        initial=BoardColour.SKY,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["colour"].widget = forms.RadioSelect(choices=BoardColour.choices)
        self.fields["short_name"].widget.attrs["data-preview-source"] = ""
        self.fields["colour"].error_messages["invalid_choice"] = _(
            "Choose one of the board colours."
        )

    def clean_name(self) -> str:
        value = self.cleaned_data["name"].strip()
        if not value:
            raise ValidationError(_("This field is required."))
        return value

    def clean_short_name(self) -> str:
        value = self.cleaned_data["short_name"].strip()
        if not value:
            raise ValidationError(_("This field is required."))
        return value


# --- Members and invitations ----------------------------------------------------------


def _role_field() -> forms.ChoiceField:
    return forms.ChoiceField(
        label=gettext_lazy("Role"), choices=MemberRole.choices, initial=MemberRole.HEAD
    )


def _language_field() -> forms.ChoiceField:
    return forms.ChoiceField(
        label=gettext_lazy("Language of the e-mail"),
        choices=Language.choices,
        initial=settings.LANGUAGE_CODE,
    )


class InvitationForm(forms.Form):
    """One person. The role is a department head unless the moderator says otherwise."""

    email = forms.EmailField(label=gettext_lazy("E-mail address"), max_length=254)
    full_name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=NAME_MAX,
        required=False,
        help_text=gettext_lazy("Optional; the person can correct it when accepting."),
    )
    role = _role_field()
    department = forms.ModelChoiceField(
        label=gettext_lazy("Department"),
        queryset=Department.objects.none(),
        required=False,
        to_field_name="code",
        help_text=gettext_lazy("Required for a department head."),
    )
    language = _language_field()

    def __init__(self, *args, group: Group, **kwargs):
        kwargs.setdefault("prefix", "invite")
        super().__init__(*args, **kwargs)
        self.group = group
        self.fields["department"].queryset = group.departments.active().order_by("position", "name")
        self.fields["email"].widget.attrs["autocomplete"] = "off"

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        refusal = invitation_refusals(group=self.group, emails=[email]).get(email)
        if refusal:
            raise ValidationError(refusal)
        return email

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("role") == MemberRole.HEAD and not cleaned.get("department"):
            self.add_error("department", _("Choose the department this person heads."))
        if cleaned.get("role") != MemberRole.HEAD:
            cleaned["department"] = None
        return cleaned


class InvitationListForm(forms.Form):
    """Many people at once, one per line; every line is checked before anyone is invited."""

    people = forms.CharField(
        label=gettext_lazy("People, one per line"),
        widget=forms.Textarea(
            attrs={
                "rows": 6,
                "placeholder": "Maria Lindqvist <maria.lindqvist@example.se>, HR\n"
                "Johan Ek <johan.ek@example.se>, EKO",
            }
        ),
        help_text=gettext_lazy(
            "Name <address>, department — e.g. Maria Lindqvist <maria@example.se>, HR. "
            "The department (its name or short name) is needed for department heads. "
            "Columns pasted from a spreadsheet work too."
        ),
    )
    role = _role_field()
    language = _language_field()

    def __init__(self, *args, group: Group, **kwargs):
        kwargs.setdefault("prefix", "list")
        super().__init__(*args, **kwargs)
        self.group = group

    def clean(self):
        cleaned = super().clean()
        text, role = cleaned.get("people", ""), cleaned.get("role")
        if not text or not role:
            return cleaned
        lines = [(n, line.strip()) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
        if len(lines) > MAX_LINES:
            self.add_error("people", _("At most %(count)s lines.") % {"count": MAX_LINES})
            return cleaned
        departments = list(self.group.departments.all())
        known = ", ".join(d.short_name for d in departments if not d.archived) or "–"
        parsed = [(number, line, *parse_person(line)) for number, line in lines]
        refusals = invitation_refusals(
            group=self.group, emails=[email for *_rest, email, _after in parsed if email]
        )
        errors, people, seen = [], [], {}

        def error(number: int, message: str) -> None:
            errors.append(
                _("Line %(number)s: %(message)s") % {"number": number, "message": message}
            )

        for number, line, name, email, after in parsed:
            email = email.lower()
            try:
                validate_email(email)
            except ValidationError:
                error(number, _("“%(line)s” has no valid e-mail address.") % {"line": line[:80]})
                continue
            if len(name) > NAME_MAX:
                error(number, _("The name is longer than %(max)s characters.") % {"max": NAME_MAX})
                continue
            if email in seen:
                error(
                    number,
                    _("%(email)s is on line %(other)s too.")
                    % {"email": email, "other": seen[email]},
                )
                continue
            seen[email] = number
            if email in refusals:
                error(number, refusals[email])
                continue
            department = None
            if after:
                department = next(
                    (
                        d
                        for d in departments
                        if after.lower() in (d.name.lower(), d.short_name.lower())
                    ),
                    None,
                )
                if role != MemberRole.HEAD:
                    error(
                        number,
                        _(
                            "only department heads belong to a department; remove "
                            "“%(department)s” or choose the role department head."
                        )
                        % {"department": after},
                    )
                    continue
                if department is None:
                    error(
                        number,
                        _("there is no department “%(department)s” (the group has: %(known)s).")
                        % {"department": after, "known": known},
                    )
                    continue
                if department.archived:
                    error(
                        number,
                        _("%(department)s is archived.") % {"department": department.name},
                    )
                    continue
            elif role == MemberRole.HEAD:
                error(
                    number,
                    _(
                        "which department does %(email)s head? Add it after a comma, e.g. "
                        "“%(email)s, %(example)s”."
                    )
                    % {"email": email, "example": known.split(", ")[0]},
                )
                continue
            people.append(
                InvitationLine(number=number, email=email, name=name, department=department)
            )
        if errors:
            self.add_error("people", errors)
        elif not people:
            self.add_error("people", _("Write at least one person."))
        cleaned["lines"] = people
        return cleaned


class MemberForm(forms.Form):
    role = forms.ChoiceField(
        label=gettext_lazy("Role"), choices=MemberRole.choices, widget=forms.RadioSelect
    )
    departments = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Heads these departments"),
        queryset=Department.objects.none(),
        required=False,
        to_field_name="code",
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy(
            "A department head heads at least one; a moderator may head some too."
        ),
    )

    def __init__(self, *args, group: Group, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["departments"].queryset = group.departments.active().order_by(
            "position", "name"
        )

    def clean(self):
        cleaned = super().clean()
        role, departments = cleaned.get("role"), cleaned.get("departments")
        if "departments" not in cleaned:
            return cleaned  # the field has its own error
        if role == MemberRole.HEAD and not departments:
            self.add_error("departments", _("Choose the departments this person heads."))
        if role in (MemberRole.PARTICIPANT, MemberRole.IT) and departments:
            self.add_error(
                "departments",
                _("A participant heads no department; choose the role department head."),
            )
        return cleaned


class InvitationAcceptForm(forms.Form):
    full_name = forms.CharField(
        label=gettext_lazy("Your name"),
        max_length=NAME_MAX,
        help_text=gettext_lazy("Shown to the group on your post-its and ideas."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["full_name"].widget.attrs["autocomplete"] = "name"
