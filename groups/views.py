from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from groups.access import Action
from groups.forms import InvitationAcceptForm, InvitationForm
from groups.selectors import (
    group_get_for_user,
    group_list_for_user,
    group_page,
    invitation_get_usable,
)
from groups.services import invitation_accept, invitation_create


@login_required
def home(request):
    groups = list(group_list_for_user(user=request.user))
    return render(request, "groups/home.html", {"groups": groups})


@login_required
def group_detail(request, code: str):
    group = group_get_for_user(user=request.user, code=code)
    context = {"page": group_page(group=group), "invite_form": InvitationForm(group=group)}
    return render(request, "groups/group_detail.html", context)


@login_required
@require_http_methods(["POST"])
def invitation_create_view(request, code: str):
    group = group_get_for_user(user=request.user, code=code, action=Action.MODERATE)
    form = InvitationForm(request.POST, group=group)
    if form.is_valid():
        try:
            invitation = invitation_create(
                group=group, invited_by=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("An invitation is on its way to %(email)s.") % {"email": invitation.email},
            )
            if not request.htmx:
                return redirect(group)
            form = InvitationForm(group=group)
    context = {"page": group_page(group=group), "invite_form": form}
    template = "groups/group_detail.html"
    if request.htmx:
        template += "#invitations"
    return render(
        request, template, context, status=400 if form.errors and not request.htmx else 200
    )


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
