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
from meetings.answers import BadAnswerLink, answer_link_read
from meetings.calendar import feed_ics
from meetings.forms import AnswerForm, MeetingForm, ScheduleForm
from meetings.models import Attendance, AttendanceStatus, Schedule
from meetings.selectors import (
    group_list_for_user,
    group_page,
    meeting_get_for_user,
    meetings_for_feed,
)
from meetings.services import (
    AnsweringClosed,
    AnswerLinkUsed,
    attendance_respond,
    meeting_cancel,
    meeting_create,
    meeting_update,
    schedule_save,
)
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


# --- Answers to the invitation ------------------------------------------------------


@require_http_methods(["GET", "POST"])
def answer(request, token: str):
    """An answer link from the invitation e-mail; the signed link is the key, no sign-in.

    GET shows the answer and a button (mail scanners that open links change
    nothing); POST records it. A forged, used or expired link gets a page that
    says so and changes nothing.
    """
    try:
        link = answer_link_read(token)
        attendance = Attendance.objects.select_related("meeting__group", "user").get(
            pk=link.attendance_id
        )
    except (BadAnswerLink, Attendance.DoesNotExist):
        return _answer_page(request, "forged", status=400)
    meeting, person = attendance.meeting, attendance.user
    context = {"meeting": meeting, "person": person, "attendance": attendance, "link": link}
    with timezone.override(meeting.group.time_zone):
        if not meeting.accepts_answers(timezone.now()):
            cancelled = meeting.status == "cancelled"
            return _answer_page(request, "cancelled" if cancelled else "over", context, status=410)
        if link.version != attendance.response_version:
            return _answer_page(request, "used", context, status=409)
        if request.method == "GET":
            return _answer_page(request, "confirm", context)
        try:
            attendance = attendance_respond(
                meeting=meeting, user=person, status=link.answer, version=link.version
            )
        except AnswerLinkUsed as used:
            context["attendance"] = used.attendance
            return _answer_page(request, "used", context, status=409)
        except AnsweringClosed:
            return _answer_page(request, "over", context, status=410)
        context["attendance"] = attendance
        return _answer_page(request, "done", context)


def _answer_page(request, state: str, context: dict | None = None, *, status: int = 200):
    return render(
        request, "meetings/answer.html", {**(context or {}), "state": state}, status=status
    )


@login_required
@require_POST
def attendance_answer(request, code: str):
    """Answering on the meeting page: coming or not, for the person signed in."""
    meeting = meeting_get_for_user(user=request.user, code=code)
    form = AnswerForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors["answer"]))
        return redirect(meeting)
    try:
        attendance_respond(meeting=meeting, user=request.user, status=form.cleaned_data["answer"])
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(meeting)
    if form.cleaned_data["answer"] == AttendanceStatus.ACCEPTED:
        messages.success(request, _("Your answer is saved: you are coming."))
    else:
        messages.success(request, _("Your answer is saved: you are not coming."))
    return redirect(meeting)
