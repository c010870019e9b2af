from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import User
from groups.access import Action
from groups.selectors import administrators, group_get_for_user
from meetings.calendar import feed_ics
from meetings.forms import MeetingForm, ScheduleForm
from meetings.models import Schedule
from meetings.selectors import (
    group_list_for_user,
    group_page,
    meeting_get_for_user,
    meetings_for_feed,
)
from meetings.services import meeting_cancel, meeting_create, meeting_update, schedule_save
from outbox.selectors import messages_about
from outbox.views import outbox_context, outbox_resend_response, outbox_response


@login_required
def home(request):
    groups = list(group_list_for_user(user=request.user))
    context = {
        "groups": groups,
        "can_create": request.user.is_superuser,
        # Whom to ask, for a person who belongs to no group yet.
        "administrators": [] if groups or request.user.is_superuser else administrators(),
    }
    return render(request, "meetings/home.html", context)


@login_required
def group_detail(request, code: str):
    group = group_get_for_user(user=request.user, code=code)
    return render(request, "meetings/group_detail.html", {"page": group_page(group=group)})


@login_required
@require_http_methods(["GET", "POST"])
def schedule_edit(request, code: str):
    group = group_get_for_user(user=request.user, code=code, action=Action.MODERATE)
    schedule = Schedule.objects.filter(group=group).first()
    initial = {"allow_read_ahead": group.allow_read_ahead}
    form = ScheduleForm(request.POST or None, instance=schedule, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            schedule_save(
                group=group,
                allow_read_ahead=form.cleaned_data["allow_read_ahead"],
                **form.schedule_fields(),
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The schedule is saved and the next meetings are planned."))
            return redirect(group)
    status = 400 if form.errors else 200
    return render(
        request, "meetings/schedule_form.html", {"group": group, "form": form}, status=status
    )


@login_required
@require_http_methods(["GET", "POST"])
def meeting_new(request, code: str):
    group = group_get_for_user(user=request.user, code=code, action=Action.MODERATE)
    with timezone.override(group.time_zone):
        form = MeetingForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            meeting = meeting_create(
                group=group,
                open_now=request.POST.get("open_now") == "on",
                **form.meeting_fields(),
            )
            messages.success(request, _("The meeting is created."))
            return redirect(meeting)
        status = 400 if form.errors else 200
        return render(
            request,
            "meetings/meeting_form.html",
            {"group": group, "form": form, "meeting": None},
            status=status,
        )


@login_required
@require_http_methods(["GET", "POST"])
def meeting_edit(request, code: str):
    meeting = meeting_get_for_user(user=request.user, code=code, action=Action.MODERATE)
    with timezone.override(meeting.group.time_zone):
        form = MeetingForm(request.POST or None, instance=meeting)
        if request.method == "POST" and form.is_valid():
            try:
                meeting_update(meeting=meeting, **form.meeting_fields())
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(
                    request, _("The meeting is changed; invitees get an updated calendar event.")
                )
                return redirect(meeting)
        status = 400 if form.errors else 200
        return render(
            request,
            "meetings/meeting_form.html",
            {"group": meeting.group, "form": form, "meeting": meeting},
            status=status,
        )


@login_required
@require_http_methods(["GET", "POST"])
def meeting_cancel_view(request, code: str):
    """Cancelling asks for confirmation first (GET shows it, POST does it)."""
    meeting = meeting_get_for_user(user=request.user, code=code, action=Action.MODERATE)
    if request.method == "POST":
        try:
            meeting_cancel(meeting=meeting)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("The meeting is cancelled and the invitees are told."))
        return redirect(meeting)
    return render(request, "meetings/meeting_cancel.html", {"meeting": meeting})


def calendar_feed(request, token: str):
    """A person's secret calendar feed (no sign-in: the token is the key)."""
    user = User.objects.filter(calendar_token=token, is_active=True).first()
    if user is None:
        raise Http404
    body = feed_ics(meetings_for_feed(user=user), language=user.language, name="Tvärgrupp")
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="tvargrupp.ics"'
    response["Cache-Control"] = "private, max-age=300"
    return response


@login_required
def meeting_outbox(request, code: str):
    """Every message about the meeting, for its moderators; the list updates itself."""
    meeting = meeting_get_for_user(user=request.user, code=code, action=Action.MODERATE)
    url = reverse("meetings:outbox", args=[meeting.code])
    context = outbox_context(
        request,
        messages=messages_about(meeting),
        url=url,
        resend_url=reverse("meetings:outbox_resend", args=[meeting.code]),
    )
    context["meeting"] = meeting
    return outbox_response(request, "meetings/outbox.html", context)


@login_required
@require_POST
def meeting_outbox_resend(request, code: str):
    meeting = meeting_get_for_user(user=request.user, code=code, action=Action.MODERATE)
    return outbox_resend_response(
        request,
        messages=messages_about(meeting),
        fallback=reverse("meetings:outbox", args=[meeting.code]),
    )
