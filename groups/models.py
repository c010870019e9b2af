import secrets
import zoneinfo
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Language
from outbox.transports import validate_webhook_url
from tvargrupp.models import BoundedTextField, TimestampedModel, new_code

INVITATION_LIFETIME = timedelta(days=14)


def validate_time_zone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            _("%(value)s is not a known time zone."), params={"value": value}
        ) from None


class Group(TimestampedModel):
    """The standing cross-department forum (a Tvärgrupp)."""

    code = models.CharField(_("code"), max_length=16, unique=True, default=new_code, editable=False)
    name = models.CharField(_("name"), max_length=120)
    description = BoundedTextField(_("description"), max_length=2000, blank=True)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Europe/Stockholm", validators=[validate_time_zone]
    )
    moderators = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        related_name="moderated_groups",
        blank=True,
        verbose_name=_("moderators"),
    )
    participants = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        related_name="participating_groups",
        blank=True,
        verbose_name=_("participants"),
        help_text=_("People invited to the meetings besides the department heads."),
    )
    it_members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        related_name="it_groups",
        blank=True,
        verbose_name=_("IT role"),
        help_text=_("People from IT who read and write the group's IT perspective."),
    )
    it_perspective_recipients = BoundedTextField(
        _("more recipients of the IT perspective"),
        max_length=4000,
        blank=True,
        help_text=_(
            "Besides the group's IT role: e-mail addresses, one per line (IT leadership, say)."
        ),
    )
    status_days_before = models.PositiveSmallIntegerField(
        _("days before a meeting that owners are asked for their status"),
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(30)],
        help_text=_(
            "Owners of open follow-ups and micro-projects get one e-mail asking "
            "“Vad har hänt sedan sist?”, with a link for each item."
        ),
    )
    allow_read_ahead = models.BooleanField(
        _("heads may read each other's post-its before the meeting"), default=True
    )
    webhook_url = models.URLField(
        _("chat webhook address"),
        max_length=1000,
        blank=True,
        validators=[validate_webhook_url],
        help_text=_(
            "A Microsoft Teams workflow or a Slack incoming webhook: the summary, the "
            "post-it deadline and overdue follow-ups are posted there too."
        ),
    )

    class Meta:
        verbose_name = _("group")
        verbose_name_plural = _("groups")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        # The group page lists meetings, so the meetings app serves it (a URL name, not
        # an import: see docs/architecture.md).
        return reverse("meetings:group_detail", kwargs={"code": self.code})


class BoardColour(models.TextChoices):
    """Post-it colours: the Okabe–Ito palette, distinguishable with colour-blindness.

    Cards are always labelled with the department's short name too; the colour is
    never the only cue. Each value maps to a CSS class `dept-<value>`.
    """

    ORANGE = "orange", _("Orange")
    SKY = "sky", _("Sky blue")
    GREEN = "green", _("Bluish green")
    YELLOW = "yellow", _("Yellow")
    BLUE = "blue", _("Blue")
    VERMILION = "vermilion", _("Vermilion")
    PURPLE = "purple", _("Reddish purple")
    GREY = "grey", _("Grey")


class DepartmentQuerySet(models.QuerySet):
    def active(self) -> "DepartmentQuerySet":
        """Departments that take part: archived ones keep their history, nothing more."""
        return self.filter(archived_at__isnull=True)


class Department(TimestampedModel):
    group = models.ForeignKey(
        Group, on_delete=models.CASCADE, related_name="departments", verbose_name=_("group")
    )
    code = models.CharField(_("code"), max_length=16, unique=True, default=new_code, editable=False)
    name = models.CharField(_("name"), max_length=80)
    short_name = models.CharField(
        _("short name"), max_length=12, help_text=_("Shown on every post-it, e.g. HR or IT.")
    )
    colour = models.CharField(
        _("board colour"), max_length=16, choices=BoardColour.choices, default=BoardColour.SKY
    )
    heads = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        related_name="headed_departments",
        blank=True,
        verbose_name=_("department heads"),
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    archived_at = models.DateTimeField(
        _("archived"),
        null=True,
        blank=True,
        help_text=_(
            "An archived department gets no invitations or post-it links; its history stays."
        ),
    )

    objects = DepartmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["group", "position", "name"]
        constraints = [
            models.UniqueConstraint("group", Lower("name"), name="department_name_unique_in_group"),
            models.UniqueConstraint(
                "group", Lower("short_name"), name="department_short_name_unique_in_group"
            ),
            models.CheckConstraint(
                condition=models.Q(colour__in=BoardColour.values), name="department_colour_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.short_name})"

    def clean(self) -> None:
        super().clean()
        self.name = self.name.strip()
        self.short_name = self.short_name.strip()
        if not self.group_id:
            return
        others = Department.objects.filter(group_id=self.group_id).exclude(pk=self.pk)
        errors = {}
        if self.name and others.filter(name__iexact=self.name).exists():
            errors["name"] = _("The group already has a department called %(name)s.") % {
                "name": self.name
            }
        if self.short_name and others.filter(short_name__iexact=self.short_name).exists():
            errors["short_name"] = _(
                "Another department of the group already has the short name %(short)s."
            ) % {"short": self.short_name}
        if errors:
            raise ValidationError(errors)

    @property
    def archived(self) -> bool:
        return self.archived_at is not None


class MemberRole(models.TextChoices):
    """The roles a person holds in a group; an invitation offers one of them.

    Each is stored as membership of its own table (`Group.moderators`,
    `Department.heads`, `Group.participants`, `Group.it_members`); a new role adds a value here,
    its table, and its line in `groups.access` and `groups.selectors.group_members`.
    """

    MODERATOR = "moderator", _("Moderator")
    HEAD = "head", _("Department head")
    PARTICIPANT = "participant", _("Participant")
    IT = "it", _("IT role")


def new_invitation_key() -> str:
    return secrets.token_urlsafe(24)


def invitation_expiry():
    return timezone.now() + INVITATION_LIFETIME


class Invitation(TimestampedModel):
    """A moderator's invitation of a person, by e-mail, into a group role."""

    group = models.ForeignKey(
        Group, on_delete=models.CASCADE, related_name="invitations", verbose_name=_("group")
    )
    email = models.EmailField(_("e-mail address"))
    full_name = models.CharField(_("full name"), max_length=150, blank=True)
    role = models.CharField(_("role"), max_length=16, choices=MemberRole.choices)
    department = models.ForeignKey(
        Department,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="invitations",
        verbose_name=_("department"),
    )
    language = models.CharField(
        _("language"), max_length=8, choices=Language.choices, default=Language.SWEDISH
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("invited by"),
    )
    key = models.CharField(max_length=64, unique=True, default=new_invitation_key, editable=False)
    expires_at = models.DateTimeField(_("expires"), default=invitation_expiry)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("accepted by"),
    )
    revoked_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(role=MemberRole.HEAD, department__isnull=False)
                    | (~models.Q(role=MemberRole.HEAD) & models.Q(department__isnull=True))
                ),
                name="invitation_department_iff_head",
            ),
            models.CheckConstraint(
                condition=models.Q(role__in=MemberRole.values), name="invitation_role_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} → {self.group} ({self.get_role_display()})"

    def get_absolute_url(self) -> str:
        return reverse("groups:invitation_accept", kwargs={"key": self.key})

    def clean(self) -> None:
        super().clean()
        self.email = self.email.strip().lower()
        if self.role == MemberRole.HEAD and self.department_id is None:
            raise ValidationError({"department": _("Choose the department this person heads.")})
        if self.role != MemberRole.HEAD:
            self.department = None
        if self.department_id and self.department.group_id != self.group_id:
            raise ValidationError({"department": _("This department belongs to another group.")})
        if self.department_id and self.department.archived and self.accepted_at is None:
            raise ValidationError({"department": _("This department is archived.")})

    @property
    def is_usable(self) -> bool:
        return (
            self.accepted_at is None
            and self.revoked_at is None
            and self.expires_at > timezone.now()
        )

    @property
    def is_expired(self) -> bool:
        return self.accepted_at is None and self.expires_at <= timezone.now()


class StrategyGoalQuerySet(models.QuerySet):
    def active(self) -> "StrategyGoalQuerySet":
        """Goals offered for new tags: archived ones keep their tags, nothing more."""
        return self.filter(archived_at__isnull=True)


class StrategyGoal(TimestampedModel):
    """One of the organisation's strategic goals, as a group lists them.

    Post-its, IT solutions and micro-projects are tagged with the goals they serve
    (`topics.models`); the insights show, per goal, the challenges raised and the
    micro-projects serving it.
    """

    group = models.ForeignKey(
        Group, on_delete=models.CASCADE, related_name="strategy_goals", verbose_name=_("group")
    )
    code = models.CharField(_("code"), max_length=16, unique=True, default=new_code, editable=False)
    title = models.CharField(_("goal"), max_length=200)
    description = BoundedTextField(_("description"), max_length=2000, blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    archived_at = models.DateTimeField(
        _("archived"),
        null=True,
        blank=True,
        help_text=_("An archived goal keeps its tags but is not offered for new ones."),
    )

    objects = StrategyGoalQuerySet.as_manager()

    class Meta:
        verbose_name = _("strategy goal")
        verbose_name_plural = _("strategy goals")
        ordering = ["position", "title"]
        constraints = [
            models.UniqueConstraint(
                Lower("title"),
                "group",
                name="strategygoal_title_unique_in_group",
                violation_error_message=_("The group already has this goal."),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def archived(self) -> bool:
        return self.archived_at is not None
