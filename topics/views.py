from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from meetings.selectors import meeting_get_for_user
from topics.forms import TopicForm
from topics.selectors import postit_page
from topics.services import TEXT_FIELDS, TopicConflict, topic_save, topic_withdraw


def _postit_url(meeting, department, topic=None) -> str:
    query = {"department": department.code}
    if topic is not None:
        query["topic"] = topic.code
    return reverse("topics:postit", args=[meeting.code]) + "?" + urlencode(query)


def _version(request) -> int:
    try:
        return int(request.POST.get("version", "0"))
    except ValueError:
        return -1


@login_required
@require_http_methods(["GET", "POST"])
def postit(request, code: str):
    """The post-it form: a draft saved as the head types, submitted before the deadline."""
    meeting = meeting_get_for_user(user=request.user, code=code)
    data = request.POST if request.method == "POST" else request.GET
    page = postit_page(
        user=request.user,
        meeting=meeting,
        department_code=data.get("department", ""),
        topic_code=data.get("topic", ""),
    )
    read_only = not page.window.open
    form = TopicForm(instance=page.topic, read_only=read_only)
    conflict = None
    status = 200
    if request.method == "POST":
        form = TopicForm(request.POST, instance=page.topic, read_only=read_only)
        action = request.POST.get("action", "save")
        try:
            if action == "withdraw" and page.topic is not None:
                topic_withdraw(topic=page.topic, by=request.user)
                messages.success(request, _("Your post-it is withdrawn and back to a draft."))
                return redirect(_postit_url(meeting, page.department, page.topic))
            if form.is_valid():
                topic = topic_save(
                    meeting=meeting,
                    department=page.department,
                    by=request.user,
                    fields=form.cleaned_text(),
                    topic_code=page.topic.code if page.topic else "",
                    version=_version(request),
                    submit=action == "submit",
                    on_behalf=page.on_behalf,
                )
                if action == "submit":
                    messages.success(
                        request, _("Your post-it is submitted. You can edit it until the deadline.")
                    )
                else:
                    messages.success(request, _("Draft saved."))
                return redirect(_postit_url(meeting, page.department, topic))
        except TopicConflict as error:
            conflict = error.current
            status = 409
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                for field, errors in error.message_dict.items():
                    form.add_error(field if field in TEXT_FIELDS else None, errors)
            else:
                form.add_error(None, error)
        if status == 200:
            status = 400
    context = {
        "page": page,
        "form": form,
        "conflict": conflict,
        "conflict_fields": [(form[name].label, getattr(conflict, name)) for name in TEXT_FIELDS]
        if conflict
        else [],
        "version": conflict.version if conflict else (page.topic.version if page.topic else 0),
        "read_only": read_only,
    }
    return render(request, "topics/postit.html", context, status=status)


@login_required
@require_POST
def postit_autosave(request, code: str):
    """The form's autosave: the same save as the form, answered in JSON."""
    meeting = meeting_get_for_user(user=request.user, code=code)
    page = postit_page(
        user=request.user,
        meeting=meeting,
        department_code=request.POST.get("department", ""),
        topic_code=request.POST.get("topic", "") or "new",
    )
    form = TopicForm(request.POST, instance=page.topic)
    if not form.is_valid():
        return JsonResponse({"errors": form.errors}, status=400)
    try:
        topic = topic_save(
            meeting=meeting,
            department=page.department,
            by=request.user,
            fields=form.cleaned_text(),
            topic_code=page.topic.code if page.topic else "",
            version=_version(request),
            on_behalf=page.on_behalf,
        )
    except TopicConflict as error:
        current = error.current
        return JsonResponse(
            {
                "conflict": {name: getattr(current, name) for name in TEXT_FIELDS},
                "version": current.version,
                "message": _("Someone else in your department saved this post-it meanwhile."),
            },
            status=409,
        )
    except ValidationError as error:
        return JsonResponse({"errors": {"__all__": error.messages}}, status=400)
    saved = timezone.localtime(topic.updated_at)
    return JsonResponse(
        {
            "topic": topic.code,
            "version": topic.version,
            "status": topic.status,
            "saved_at": saved.isoformat(),
            "message": _("Saved %(time)s") % {"time": formats.time_format(saved, "H:i:s")},
        }
    )
