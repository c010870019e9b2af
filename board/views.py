"""The live board: the moderator's board, the projector screen and the participant view."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from accounts.middleware import without_user_language
from board import live, services
from board.forms import (
    FollowUpForm,
    IdeaForm,
    LinkForm,
    NotesForm,
    OnTheSpotForm,
    ParticipantIdeaForm,
    TimerForm,
)
from board.fragments import SHARED_VIEWS, shared_fragment
from board.selectors import (
    board_page,
    board_version,
    idea_department,
    link_candidates,
    meeting_people,
    poll_meeting_id,
)
from groups.access import Action, Role
from meetings.selectors import meeting_get_for_user

TEMPLATES = {
    "board": "board/board.html",
    "screen": "board/screen.html",
    "participant": "board/participant.html",
}


def _shared_fragment(request, meeting, view: str):
    """The projector's and participants' live fragment: the same bytes for every screen."""
    _version, html = shared_fragment(
        meeting=meeting, view=view, language=request.LANGUAGE_CODE, request=request
    )
    return HttpResponse(html)


def _render(request, meeting, view: str, *, errors=(), status=200, early_start=False):
    if view != "board" and request.method == "GET" and request.GET.get("fragment") == "live":
        return _shared_fragment(request, meeting, view)
    page = board_page(meeting=meeting, user=request.user, now=timezone.now(), lane=view == "board")
    context = {
        "page": page,
        "view": view,
        "errors": list(errors),
        "early_start": early_start,
        # Screens follow the stream when there is one; the moderator's board polls.
        "stream_url": (
            f"{settings.LIVE_URL}{meeting.code}/{view}/"
            if view in SHARED_VIEWS and live.streaming()
            else ""
        ),
    }
    template = TEMPLATES[view]
    if request.GET.get("fragment") == "live" or (request.htmx and request.method == "POST"):
        template += "#live"
    return render(request, template, context, status=status)


@login_required
@never_cache
def board(request, code: str):
    meeting = meeting_get_for_user(user=request.user, code=code, action=Action.MODERATE)
    return _render(request, meeting, "board")


@login_required
@never_cache
def screen(request, code: str):
    meeting = meeting_get_for_user(user=request.user, code=code)
    return _render(request, meeting, "screen")


@login_required
@never_cache
def participant(request, code: str):
    meeting = meeting_get_for_user(user=request.user, code=code)
    return _render(request, meeting, "participant")


@without_user_language
@require_GET
@never_cache
def poll(request, token: str):
    """Has the board changed since version `v`? One indexed read; 204 when it has not."""
    meeting_id = poll_meeting_id(token)
    if meeting_id is None:
        return HttpResponse(status=403)
    version = board_version(meeting_id=meeting_id) or 0
    if request.GET.get("v") == str(version):
        return HttpResponse(status=204)
    return JsonResponse({"v": version})


def _done(request, meeting, view: str, errors: list[str], *, early_start: bool = False):
    # The action may have changed the meeting's status (starting it, giving the word).
    meeting.status = (
        type(meeting).objects.filter(pk=meeting.pk).values_list("status", flat=True).get()
    )
    if request.htmx:
        response = _render(request, meeting, view, errors=errors, early_start=early_start)
        if not errors and not early_start:
            trigger_client_event(response, "board:saved")
        return response
    if errors or early_start:
        return _render(request, meeting, view, errors=errors, early_start=early_start, status=400)
    target = {"board": "board:board", "participant": "board:participant"}[view]
    return redirect(target, code=meeting.code)


def _form_errors(form) -> list[str]:
    return [
        f"{form.fields[f].label}: {e}" if f in form.fields else e
        for f, messages in form.errors.items()
        for e in messages
    ]


@login_required
@require_POST
def act(request, code: str):
    """Every control of the moderator's board posts here and is dispatched on `action`."""
    meeting = meeting_get_for_user(user=request.user, code=code, action=Action.MODERATE)
    action = request.POST.get("action", "")
    topic_code = request.POST.get("topic", "")
    # The agenda's buttons share one form: each says "action:post-it code".
    if "card" in request.POST:
        action, _sep, topic_code = request.POST["card"].partition(":")
    departments = meeting.group.departments.active()
    errors: list[str] = []
    early_start = False
    try:
        if action == "start":
            services.board_start(meeting=meeting, early_ok=request.POST.get("confirm") == "early")
        elif action == "give":
            services.board_give_word(meeting=meeting, code=topic_code)
        elif action in ("next", "previous"):
            services.board_step(meeting=meeting, forward=action == "next")
        elif action == "timer":
            services.timer_toggle(meeting=meeting)
        elif action == "timer_add":
            form = TimerForm(request.POST)
            if form.is_valid():
                services.timer_adjust(meeting=meeting, seconds=form.cleaned_data["minutes"] * 60)
            errors = _form_errors(form)
        elif action in ("up", "down"):
            services.topic_move(
                meeting=meeting, code=topic_code, offset=-1 if action == "up" else 1
            )
        elif action == "reorder":
            services.topic_reorder(meeting=meeting, codes=request.POST.get("order", "").split(","))
        elif action in ("discussed", "parked", "submitted"):
            services.topic_set_status(meeting=meeting, code=topic_code, status=action)
        elif action == "add_topic":
            form = OnTheSpotForm(request.POST, departments=departments)
            if form.is_valid():
                services.topic_add_on_the_spot(
                    meeting=meeting, by=request.user, **form.cleaned_data
                )
            errors = _form_errors(form)
        elif action == "notes":
            form = NotesForm(request.POST)
            if form.is_valid():
                services.notes_save(
                    meeting=meeting,
                    code=topic_code,
                    notes=form.cleaned_data["notes"],
                    version=form.cleaned_data["notes_version"],
                )
            errors = _form_errors(form)
        elif action == "follow_up":
            form = FollowUpForm(
                request.POST, departments=departments, people=meeting_people(meeting=meeting)
            )
            if form.is_valid():
                services.follow_up_add(
                    meeting=meeting, code=topic_code, by=request.user, **form.cleaned_data
                )
            errors = _form_errors(form)
        elif action == "lane_bring":
            services.topic_bring_to_agenda(meeting=meeting, code=request.POST.get("topic", ""))
        elif action == "lane_status":
            services.lane_status_set(
                meeting=meeting,
                by=request.user,
                kind=request.POST.get("kind", ""),
                code=request.POST.get("item", ""),
                status=request.POST.get("status", ""),
                version=_int(request.POST.get("version")),
            )
        elif action == "follow_up_remove":
            services.follow_up_remove(meeting=meeting, code=request.POST.get("follow_up", ""))
        elif action == "link":
            form = LinkForm(request.POST)
            if form.is_valid():
                services.link_add(
                    meeting=meeting,
                    code=topic_code,
                    other_code=form.cleaned_data["other"],
                    kind=form.cleaned_data["kind"],
                    by=request.user,
                )
            errors = _form_errors(form)
        elif action == "link_remove":
            services.link_remove(meeting=meeting, link_id=int(request.POST.get("link", "0") or 0))
        else:
            errors = [_("Unknown action.")]
    except services.EarlyStart:
        early_start = True
    except services.NotesConflict as conflict:
        errors = [
            _("Someone else changed the notes meanwhile. Their text: %(notes)s")
            % {"notes": conflict.topic.notes}
        ]
    except ValidationError as error:
        errors = error.messages
    except ValueError:
        errors = [_("Unknown action.")]
    return _done(request, meeting, "board", errors, early_start=early_start)


@login_required
@require_POST
def idea(request, code: str):
    """Ideas and thoughts: everyone at the meeting adds; the author or a moderator edits."""
    meeting = meeting_get_for_user(user=request.user, code=code)
    view = (
        "board"
        if request.POST.get("view") == "board" and meeting.role >= Role.MODERATOR
        else "participant"
    )
    moderating = meeting.role >= Role.MODERATOR
    action = request.POST.get("action", "add")
    errors: list[str] = []
    try:
        if action == "add" and view == "board":
            form = IdeaForm(
                request.POST,
                departments=meeting.group.departments.active(),
                people=meeting_people(meeting=meeting),
            )
            if form.is_valid():
                speaker = form.cleaned_data["speaker"]
                department = form.cleaned_data["department"]
                if speaker is not None and department is None and speaker.dept_code:
                    department = (
                        meeting.group.departments.active().filter(code=speaker.dept_code).first()
                    )
                services.contribution_add(
                    meeting=meeting,
                    code=request.POST.get("topic", ""),
                    # Noted for someone: theirs. For a department only: the moderator's note.
                    author=speaker if speaker is not None else None if department else request.user,
                    department=department,
                    text=form.cleaned_data["text"],
                    kind=form.cleaned_data["kind"],
                )
            errors = _form_errors(form)
        elif action == "add":
            form = ParticipantIdeaForm(request.POST)
            if form.is_valid():
                services.contribution_add(
                    meeting=meeting,
                    code=request.POST.get("topic", ""),
                    author=request.user,
                    department=idea_department(meeting=meeting, user=request.user),
                    text=form.cleaned_data["text"],
                )
            errors = _form_errors(form)
        elif action in ("edit", "remove"):
            contribution_id = int(request.POST.get("contribution", "0") or 0)
            if action == "edit":
                form = ParticipantIdeaForm(request.POST)
                if form.is_valid():
                    services.contribution_edit(
                        meeting=meeting,
                        contribution_id=contribution_id,
                        by=request.user,
                        moderating=moderating,
                        text=form.cleaned_data["text"],
                    )
                errors = _form_errors(form)
            else:
                services.contribution_remove(
                    meeting=meeting,
                    contribution_id=contribution_id,
                    by=request.user,
                    moderating=moderating,
                )
        else:
            errors = [_("Unknown action.")]
    except ValidationError as error:
        errors = error.messages
    except ValueError:
        errors = [_("Unknown action.")]
    return _done(request, meeting, view, errors)


@login_required
@require_GET
def search(request, code: str):
    """Post-its to link the focused one to, found by the words typed (an htmx fragment)."""
    meeting = meeting_get_for_user(user=request.user, code=code, action=Action.MODERATE)
    page = board_page(meeting=meeting, user=request.user, now=timezone.now())
    query = request.GET.get("q", "").strip()[:200]
    results = []
    if page.focus is not None and query:
        results = link_candidates(meeting=meeting, focus=page.focus, query=query)
    return render(
        request,
        "board/board.html#link-results",
        {"page": page, "results": results, "query": query},
    )


@login_required
@require_POST
def attendance(request, code: str):
    """The board's attendance panel: one click marks a person present, another unmarks."""
    meeting = meeting_get_for_user(user=request.user, code=code, action=Action.MODERATE)
    present = request.POST.get("present", "")
    errors: list[str] = []
    if present not in ("0", "1"):
        errors = [_("Unknown action.")]
    else:
        try:
            services.board_attendance_mark(
                meeting=meeting, person_code=request.POST.get("person", ""), present=present == "1"
            )
        except ValidationError as error:
            errors = error.messages
    return _done(request, meeting, "board", errors)


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1
