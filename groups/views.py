from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from groups.access import Action
from groups.forms import (
    DepartmentForm,
    GroupCreateForm,
    GroupSettingsForm,
    InvitationAcceptForm,
    InvitationForm,
    InvitationListForm,
    MemberForm,
    WebhookForm,
)
from groups.models import MemberRole
from groups.selectors import (
    department_get,
    group_get_for_user,
    invitation_get_usable,
    member_get,
    members_page,
    settings_page,
)
from groups.services import (
    department_archive,
    department_create,
    department_deletable,
    department_delete,
    department_move,
    department_reorder,
    department_restore,
    department_update,
    group_create,
    group_update,
    group_webhook_set,
    group_webhook_test,
    invitation_accept,
    invitation_create,
    invitation_resend,
    invitation_revoke,
    invitations_create_bulk,
    member_remove,
    member_set_role,
)
from groups.signals import removal_notes


def _add_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


# --- Creating a group and its settings ------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def group_create_view(request):
    """Only the installation's administrators create groups."""
    if not request.user.is_superuser:
        raise PermissionDenied
    form = GroupCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            group = group_create(
                by=request.user,
                name=data["name"],
                description=data["description"],
                time_zone=data["time_zone"],
                moderators=data["moderators"],
                creator_moderates=data["creator_moderates"],
                language=request.LANGUAGE_CODE,
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(
                request,
                _("%(group)s is created. Add its departments next.") % {"group": group.name},
            )
            return redirect("groups:settings", code=group.code)
    return render(
        request, "groups/group_create.html", {"form": form}, status=400 if form.errors else 200
    )


def _settings_context(group, group_form=None, department_form=None, webhook_form=None) -> dict:
    return {
        "page": settings_page(group=group),
        "group_form": group_form or GroupSettingsForm.for_group(group),
        "department_form": department_form or DepartmentForm(prefix="new"),
        "webhook_form": webhook_form or WebhookForm.for_group(group),
    }


def _webhook(request, group, action: str):
    """Save the chat address, or post a test message to it."""
    data = request.POST if action == "webhook" else {"chat-webhook_url": group.webhook_url}
    form = WebhookForm.for_group(group, data)
    try:
        if action == "webhook_test":
            if form.is_valid():
                group_webhook_test(group=group)
                messages.success(request, _("A test post is on its way; its state shows below."))
                return redirect(reverse("groups:settings", args=[group.code]) + "#chat")
        elif form.is_valid():
            group_webhook_set(group=group, webhook_url=form.cleaned_data["webhook_url"])
            messages.success(request, _("The chat address is saved."))
            return redirect(reverse("groups:settings", args=[group.code]) + "#chat")
    except ValidationError as error:
        _add_errors(form, error)
    return render(
        request, "groups/settings.html", _settings_context(group, webhook_form=form), status=400
    )


@login_required
@require_http_methods(["GET", "POST"])
def group_settings(request, code: str):
    """The group's name, description, time zone and read-ahead; its departments."""
    group = group_get_for_user(user=request.user, code=code, action=Action.MODERATE)
    if request.method == "GET":
        return render(request, "groups/settings.html", _settings_context(group))
    action = request.POST.get("action", "")
    if action == "group":
        form = GroupSettingsForm.for_group(group, request.POST)
        if form.is_valid():
            try:
                group_update(group=group, **form.cleaned_data)
            except ValidationError as error:
                _add_errors(form, error)
            else:
                messages.success(request, _("The group's settings are saved."))
                return redirect("groups:settings", code=group.code)
        return render(
            request, "groups/settings.html", _settings_context(group, group_form=form), status=400
        )
    if action in ("webhook", "webhook_test"):
        return _webhook(request, group, action)
    if action == "add_department":
        form = DepartmentForm(request.POST, prefix="new")
        if form.is_valid():
            try:
                department = department_create(group=group, **form.cleaned_data)
            except ValidationError as error:
                _add_errors(form, error)
            else:
                messages.success(request, _("%(name)s is added.") % {"name": department.name})
                return redirect(reverse("groups:settings", args=[group.code]) + "#departments")
        return render(
            request,
            "groups/settings.html",
            _settings_context(group, department_form=form),
            status=400,
        )
    # Actions on one department: move, reorder (drag and drop), archive, restore.
    try:
        if action == "reorder":
            department_reorder(group=group, codes=request.POST.get("order", "").split(","))
        else:
            department = department_get(group=group, code=request.POST.get("department", ""))
            if action in ("up", "down"):
                department_move(department=department, offset=-1 if action == "up" else 1)
            elif action == "archive":
                department_archive(department=department)
                messages.success(
                    request,
                    _(
                        "%(name)s is archived: no more invitations or post-it links. "
                        "Its post-its stay."
                    )
                    % {"name": department.name},
                )
            elif action == "restore":
                department_restore(department=department)
                messages.success(request, _("%(name)s is back.") % {"name": department.name})
            else:
                raise Http404
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    if request.htmx:
        return render(request, "groups/settings.html#departments", _settings_context(group))
    return redirect(reverse("groups:settings", args=[group.code]) + "#departments")


@login_required
@require_http_methods(["GET", "POST"])
def department_edit(request, code: str, department: str):
    group = group_get_for_user(user=request.user, code=code, action=Action.MODERATE)
    department = department_get(group=group, code=department)
    initial = {
        "name": department.name,
        "short_name": department.short_name,
        "colour": department.colour,
    }
    form = DepartmentForm(request.POST or None, initial=initial, prefix="department")
    if request.method == "POST" and form.is_valid():
        try:
            department_update(department=department, **form.cleaned_data)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("%(name)s is saved.") % {"name": department.name})
            return redirect(reverse("groups:settings", args=[group.code]) + "#departments")
    return render(
        request,
        "groups/department_form.html",
        {"group": group, "department": department, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def department_delete_view(request, code: str, department: str):
    """Asks first; a department with post-its or other history can only be archived."""
    group = group_get_for_user(user=request.user, code=code, action=Action.MODERATE)
    department = department_get(group=group, code=department)
    if request.method == "POST":
        try:
            department_delete(department=department)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("%(name)s is deleted.") % {"name": department.name})
        return redirect(reverse("groups:settings", args=[group.code]) + "#departments")
    return render(
        request,
        "groups/department_delete.html",
        {
            "group": group,
            "department": department,
            "deletable": department_deletable(department=department),
        },
    )


# --- Members and invitations ------------------------------------------------------------


def _members_context(group, invite_form=None, list_form=None) -> dict:
    return {
        "page": members_page(group=group),
        "invite_form": invite_form or InvitationForm(group=group),
        "list_form": list_form or InvitationListForm(group=group),
    }


@login_required
@require_http_methods(["GET", "POST"])
def members(request, code: str):
    """Everyone in the group and their pending invitations; inviting, resending, revoking."""
    group = group_get_for_user(user=request.user, code=code, action=Action.MODERATE)
    if request.method == "GET":
        return render(request, "groups/members.html", _members_context(group))
    action = request.POST.get("action", "")
    if action == "invite":
        form = InvitationForm(request.POST, group=group)
        if form.is_valid():
            try:
                invitation = invitation_create(
                    group=group, invited_by=request.user, **form.cleaned_data
                )
            except ValidationError as error:
                _add_errors(form, error)
            else:
                messages.success(
                    request,
                    _("An invitation is on its way to %(email)s.") % {"email": invitation.email},
                )
                return redirect("groups:members", code=group.code)
        return render(
            request, "groups/members.html", _members_context(group, invite_form=form), status=400
        )
    if action == "invite_list":
        form = InvitationListForm(request.POST, group=group)
        if form.is_valid():
            try:
                invitations = invitations_create_bulk(
                    group=group,
                    invited_by=request.user,
                    role=form.cleaned_data["role"],
                    people=form.cleaned_data["lines"],
                    language=form.cleaned_data["language"],
                )
            except ValidationError as error:
                form.add_error("people", error)
            else:
                messages.success(
                    request,
                    _("%(count)s invitations are on their way.") % {"count": len(invitations)},
                )
                return redirect("groups:members", code=group.code)
        return render(
            request, "groups/members.html", _members_context(group, list_form=form), status=400
        )
    invitation = group.invitations.filter(pk=_int(request.POST.get("invitation"))).first()
    if invitation is None or action not in ("resend", "revoke"):
        raise Http404
    try:
        if action == "resend":
            invitation_resend(invitation=invitation)
            messages.success(
                request,
                _("The invitation to %(email)s is sent again.") % {"email": invitation.email},
            )
        else:
            invitation_revoke(invitation=invitation)
            messages.success(
                request,
                _("The invitation to %(email)s is withdrawn; its link no longer works.")
                % {"email": invitation.email},
            )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect(reverse("groups:members", args=[group.code]) + "#invitations")


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


@login_required
@require_http_methods(["GET", "POST"])
def member_edit(request, code: str, member: str):
    """One member's role, and the departments a head heads."""
    group = group_get_for_user(user=request.user, code=code, action=Action.MODERATE)
    member = member_get(group=group, code=member)
    initial = {"role": member.role, "departments": member.active_departments}
    form = MemberForm(request.POST or None, initial=initial, group=group)
    if request.method == "POST" and form.is_valid():
        try:
            member_set_role(
                group=group,
                user=member.user,
                role=form.cleaned_data["role"],
                departments=form.cleaned_data["departments"],
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(
                request,
                _("%(name)s is now %(role)s.")
                % {
                    "name": member.user.display_name,
                    "role": MemberRole(form.cleaned_data["role"]).label.lower(),
                },
            )
            return redirect("groups:members", code=group.code)
    return render(
        request,
        "groups/member_form.html",
        {"group": group, "member": member, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def member_remove_view(request, code: str, member: str):
    """Asks first, saying what stays behind; then takes the person out of the group."""
    group = group_get_for_user(user=request.user, code=code, action=Action.MODERATE)
    member = member_get(group=group, code=member)
    notes = removal_notes(group=group, user=member.user)
    if request.method == "POST":
        try:
            member_remove(group=group, user=member.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("groups:members", code=group.code)
        removed = _("%(name)s is no longer in the group.") % {"name": member.user.display_name}
        messages.success(request, " ".join([removed, *notes]))
        return redirect("groups:members", code=group.code)
    return render(
        request,
        "groups/member_remove.html",
        {"group": group, "member": member, "notes": notes},
    )


# --- Accepting an invitation -------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def invitation_accept_view(request, key: str):
    invitation = invitation_get_usable(key=key)
    if not invitation.is_usable:
        return render(
            request, "groups/invitation_used.html", {"invitation": invitation}, status=410
        )
    form = InvitationAcceptForm(request.POST or None, initial={"full_name": invitation.full_name})
    if request.method == "POST" and form.is_valid():
        try:
            user = invitation_accept(key=key, full_name=form.cleaned_data["full_name"])
        except ValidationError as error:
            form.add_error(None, error)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, _("Welcome to %(group)s.") % {"group": invitation.group.name})
            return redirect(invitation.group)
    status = 400 if form.errors else 200
    return render(
        request,
        "groups/invitation_accept.html",
        {"invitation": invitation, "form": form},
        status=status,
    )
