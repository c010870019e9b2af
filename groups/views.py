from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from groups.access import Action
from groups.forms import InvitationAcceptForm, InvitationForm
from groups.selectors import group_get_for_user, invitation_get_usable
from groups.services import invitation_accept, invitation_create


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
            return redirect(group)
    return render(
        request, "groups/invitation_form.html", {"group": group, "form": form}, status=400
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
