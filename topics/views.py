from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from groups.access import Action
from groups.selectors import goals_offered, group_get_for_user
from meetings.selectors import meeting_get_for_user
from meetings.services import meeting_open
from topics.forms import (
    FollowUpChangeForm,
    FollowUpFilterForm,
    IntroductionForm,
    MicroProjectChangeForm,
    MicroProjectCreateForm,
    MicroProjectFilterForm,
    ReopenForm,
    SolutionForm,
    StatusAnswerForm,
    TopicForm,
    TopicGoalsForm,
    normalise_newlines,
)
from topics.selectors import (
    FollowUpFilters,
    MicroProjectFilters,
    department_page,
    follow_up_get_for_user,
    follow_up_history,
    follow_ups_of_group,
    group_people,
    intake_rows,
    it_perspective_page,
    meeting_page,
    micro_project_get_for_user,
    micro_project_history,
    micro_projects_of_group,
    postit_page,
    solution_get_for_user,
    topic_page,
)
from topics.services import (
    TEXT_FIELDS,
    FollowUpConflict,
    MicroProjectConflict,
    StatusLinkError,
    TopicConflict,
    department_nudge,
    follow_up_change,
    it_perspective_introduction_save,
    it_perspective_publish,
    micro_project_change,
    micro_project_create,
    solution_delete,
    solution_save,
    status_answer_save,
    status_choices,
    status_link_read,
    submission_reopen,
    topic_goals_set,
    topic_save,
    topic_take_over,
    topic_withdraw,
)


@login_required
def meeting_detail(request, code: str):
    """The meeting page: its facts, the post-its, follow-ups and who is invited."""
    meeting = meeting_get_for_user(user=request.user, code=code)
    return render(
        request,
        "topics/meeting_detail.html",
        {"page": meeting_page(meeting=meeting, user=request.user)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def intake(request, code: str):
    """The moderator's view of which departments are ready, with nudge and reopen."""
    meeting = meeting_get_for_user(user=request.user, code=code, action=Action.MODERATE)
    reopen_form = ReopenForm(request.POST or None)
    if request.method == "POST":
        action = request.POST.get("action")
        departments = {d.code: d for d in meeting.group.departments.active()}
        department = departments.get(request.POST.get("department", ""))
        try:
            if action == "open":
                if meeting_open(meeting=meeting):
                    messages.success(
                        request, _("The meeting is open and the invitations are on their way.")
                    )
            elif department is None:
                raise Http404
            elif action == "nudge":
                count = department_nudge(meeting=meeting, department=department, now=timezone.now())
                if count:
                    messages.success(
                        request,
                        _("%(department)s has been reminded.") % {"department": department.name},
                    )
                else:
                    messages.info(
                        request,
                        _("Nobody to remind: reminded within the hour, or already submitted."),
                    )
            elif action == "reopen" and reopen_form.is_valid():
                until = timezone.now() + timedelta(hours=reopen_form.cleaned_data["hours"])
                submission_reopen(
                    meeting=meeting, department=department, by=request.user, until=until
                )
                messages.success(
                    request,
                    _("%(department)s may edit its post-it again.")
                    % {"department": department.name},
                )
            elif action == "reopen":
                messages.error(
                    request, " ".join(e for errors in reopen_form.errors.values() for e in errors)
                )
            else:
                raise Http404
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        return redirect("topics:intake", code=meeting.code)
    context = {
        "meeting": meeting,
        "rows": intake_rows(meeting=meeting),
        "reopen_form": ReopenForm(),
        "now": timezone.now(),
    }
    return render(request, "topics/intake.html", context)


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
    tagged = list(page.topic.goals.all()) if page.topic else []
    offered = goals_offered(group_id=meeting.group_id, keep=tagged)
    goals_form = TopicGoalsForm(goals=offered, current=tagged, read_only=read_only)
    conflict = None
    status = 200
    if request.method == "POST":
        form = TopicForm(request.POST, instance=page.topic, read_only=read_only)
        goals_form = TopicGoalsForm(
            request.POST, goals=offered, current=tagged, read_only=read_only
        )
        action = request.POST.get("action", "save")
        try:
            if action == "take_over" and page.draft_in_progress is not None:
                topic = topic_take_over(
                    meeting=meeting,
                    department=page.department,
                    topic_code=page.topic.code,
                    by=request.user,
                    version=_version(request),
                )
                messages.success(
                    request,
                    _("The draft is yours to write now; the post-it records that you entered it."),
                )
                return redirect(_postit_url(meeting, page.department, topic))
            if action == "withdraw" and page.topic is not None:
                topic_withdraw(topic=page.topic, by=request.user)
                messages.success(request, _("Your post-it is withdrawn and back to a draft."))
                return redirect(_postit_url(meeting, page.department, page.topic))
            if form.is_valid() and goals_form.is_valid():
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
                if goals_form.chosen() is not None:
                    topic_goals_set(
                        meeting=meeting,
                        department=page.department,
                        topic=topic,
                        goals=goals_form.chosen(),
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
                    if field == "goals" and "goals" in goals_form.fields:
                        goals_form.add_error("goals", errors)
                    else:
                        form.add_error(field if field in TEXT_FIELDS else None, errors)
            else:
                form.add_error(None, error)
        if status == 200:
            status = 400
    context = {
        "page": page,
        "form": form,
        "goals_form": goals_form,
        "conflict": conflict,
        # Only the fields whose texts really differ (line endings aside) are in conflict.
        "conflict_fields": [
            (form[name].label, getattr(conflict, name))
            for name in TEXT_FIELDS
            if normalise_newlines(getattr(conflict, name))
            != normalise_newlines(form.data.get(name, ""))
        ]
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
    tagged = list(page.topic.goals.all()) if page.topic else []
    goals_form = TopicGoalsForm(
        request.POST,
        goals=goals_offered(group_id=meeting.group_id, keep=tagged),
        current=tagged,
    )
    if not form.is_valid() or not goals_form.is_valid():
        return JsonResponse({"errors": form.errors | goals_form.errors}, status=400)
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
        if goals_form.chosen() is not None:
            topic_goals_set(
                meeting=meeting,
                department=page.department,
                topic=topic,
                goals=goals_form.chosen(),
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
            "message": _("Saved %(time)s")
            % {"time": formats.date_format(saved, "SHORT_DATETIME_FORMAT")},
        }
    )


# --- Follow-ups ---------------------------------------------------------------------


@login_required
def follow_up_list(request, code: str):
    """A group's follow-ups with filters (status, department, owner, overdue), by due date."""
    group = group_get_for_user(user=request.user, code=code)
    departments = group.departments.order_by("archived_at", "position", "name")
    people = group_people(group=group)
    data = request.GET if request.GET else None
    form = FollowUpFilterForm(data, departments=departments, people=people)
    filters = FollowUpFilters()
    status = 200
    if data is not None:
        if form.is_valid():
            filters = FollowUpFilters(
                status=form.cleaned_data["status"],
                department=form.cleaned_data["department"],
                owner=form.cleaned_data["owner"],
                overdue=form.cleaned_data["overdue"],
            )
        else:
            status = 400
    follow_ups = follow_ups_of_group(group=group, filters=filters) if status == 200 else []
    context = {"group": group, "form": form, "follow_ups": follow_ups, "filtered": data is not None}
    return render(request, "topics/follow_up_list.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def follow_up_detail(request, code: str):
    """One follow-up: its facts, its history, and the form that changes it."""
    follow_up = follow_up_get_for_user(user=request.user, code=code)
    group = follow_up.meeting.group
    departments = group.departments.active().order_by("position", "name")
    if follow_up.owner_department and follow_up.owner_department.archived:
        departments = group.departments.filter(
            Q(archived_at__isnull=True) | Q(pk=follow_up.owner_department_id)
        ).order_by("position", "name")
    people = group_people(group=group, also=follow_up.owner)
    initial = {
        "title": follow_up.title,
        "status": follow_up.status,
        "reason": follow_up.reason,
        "outcome": follow_up.outcome,
        "owner": follow_up.owner.code if follow_up.owner else None,
        "owner_department": follow_up.owner_department.code if follow_up.owner_department else None,
        "due_date": follow_up.due_date,
        "version": follow_up.version,
    }
    form = FollowUpChangeForm(
        initial=initial, departments=departments, people=people, current=follow_up.status
    )
    conflict = None
    status = 200
    if request.method == "POST":
        if not follow_up.can_change:
            raise PermissionDenied
        form = FollowUpChangeForm(
            request.POST, departments=departments, people=people, current=follow_up.status
        )
        if form.is_valid():
            try:
                follow_up_change(
                    follow_up=follow_up,
                    by=request.user,
                    role=follow_up.role,
                    version=form.cleaned_data["version"],
                    **form.values(),
                )
            except FollowUpConflict as error:
                conflict = error.current
                status = 409
                data = request.POST.copy()
                data["version"] = str(conflict.version)
                form = FollowUpChangeForm(
                    data, departments=departments, people=people, current=conflict.status
                )
            except ValidationError as error:
                _add_errors(form, error)
                status = 400
            else:
                messages.success(request, _("The follow-up is saved."))
                return redirect(follow_up.get_absolute_url())
        else:
            status = 400
    context = {
        "follow_up": follow_up,
        "group": group,
        "form": form,
        "conflict": conflict,
        "history": follow_up_history(follow_up=follow_up),
    }
    return render(request, "topics/follow_up_detail.html", context, status=status)


def _add_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


# --- The IT perspective --------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def it_perspective(request, code: str):
    """IT's reading of a meeting: solutions per post-it; publishing is the moderator's."""
    meeting = meeting_get_for_user(user=request.user, code=code)
    page = it_perspective_page(meeting=meeting)
    offered = goals_offered(group_id=meeting.group_id) if page.can_write else []
    status = 200
    solution_forms = {}
    intro_form = IntroductionForm(
        initial={"introduction": page.perspective.introduction if page.perspective else ""}
    )
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action in ("publish", "unpublish"):
                it_perspective_publish(
                    meeting=meeting,
                    by=request.user,
                    role=meeting.role,
                    publish=action == "publish",
                )
                messages.success(
                    request,
                    _("The IT perspective is published to the group.")
                    if action == "publish"
                    else _("The IT perspective is hidden from the group again."),
                )
                return redirect("topics:it_perspective", code=meeting.code)
            if not page.can_write:
                raise PermissionDenied
            if action == "introduction":
                intro_form = IntroductionForm(request.POST)
                if intro_form.is_valid():
                    it_perspective_introduction_save(
                        meeting=meeting,
                        role=meeting.role,
                        introduction=intro_form.cleaned_data["introduction"],
                    )
                    messages.success(request, _("The introduction is saved."))
                    return redirect("topics:it_perspective", code=meeting.code)
            elif action == "solution":
                topic = next(
                    (t for t in page.topics if t.code == request.POST.get("topic", "")), None
                )
                if topic is None:
                    raise Http404
                form = SolutionForm(request.POST, prefix=f"s-{topic.code}", goals=offered)
                solution_forms[topic.code] = form
                if form.is_valid():
                    solution_save(
                        topic=topic, by=request.user, role=meeting.role, **form.cleaned_data
                    )
                    messages.success(
                        request,
                        _("The solution is added to “%(title)s”.") % {"title": topic.title},
                    )
                    return redirect(
                        reverse("topics:it_perspective", args=[meeting.code])
                        + f"#topic-{topic.code}"
                    )
            else:
                raise Http404
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("topics:it_perspective", code=meeting.code)
        status = 400
    for topic in page.topics:
        topic.solution_form = solution_forms.get(topic.code) or SolutionForm(
            prefix=f"s-{topic.code}", goals=offered
        )
    context = {"page": page, "meeting": meeting, "intro_form": intro_form}
    return render(request, "topics/it_perspective.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def solution_edit(request, code: str):
    """Change or delete one solution, or turn it into a micro-project."""
    solution = solution_get_for_user(user=request.user, code=code)
    meeting = solution.topic.meeting
    people = group_people(group=meeting.group)
    tagged = list(solution.goals.all())
    offered = goals_offered(group_id=meeting.group_id, keep=tagged)
    form = SolutionForm(instance=solution, goals=offered, tagged=tagged)
    project_form = MicroProjectCreateForm(people=people)
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        back = reverse("topics:it_perspective", args=[meeting.code]) + (
            f"#topic-{solution.topic.code}"
        )
        try:
            if action == "save":
                form = SolutionForm(request.POST, instance=solution, goals=offered, tagged=tagged)
                if form.is_valid():
                    solution_save(
                        topic=solution.topic,
                        solution=solution,
                        by=request.user,
                        role=meeting.role,
                        **form.cleaned_data,
                    )
                    messages.success(request, _("The solution is saved."))
                    return redirect(back)
            elif action == "delete":
                solution_delete(solution=solution, role=meeting.role)
                messages.success(request, _("The solution is deleted."))
                return redirect(back)
            elif action == "micro_project":
                project_form = MicroProjectCreateForm(request.POST, people=people)
                if project_form.is_valid():
                    project = micro_project_create(
                        solution=solution,
                        by=request.user,
                        role=meeting.role,
                        **project_form.cleaned_data,
                    )
                    messages.success(request, _("The micro-project is created."))
                    return redirect(project.get_absolute_url())
            else:
                raise Http404
        except ValidationError as error:
            if action == "save":
                _add_errors(form, error)
            else:
                _add_errors(project_form, error)
        status = 400
    context = {
        "solution": solution,
        "meeting": meeting,
        "form": form,
        "project_form": project_form,
        "confirm_delete": request.GET.get("delete") == "1",
        "goals": tagged,
        "micro_project": getattr(solution, "micro_project", None),
    }
    return render(request, "topics/solution_edit.html", context, status=status)


# --- Micro-projects ------------------------------------------------------------------


@login_required
def micro_project_list(request, code: str):
    """A group's micro-projects with filters (status, department, owner)."""
    group = group_get_for_user(user=request.user, code=code)
    departments = group.departments.order_by("archived_at", "position", "name")
    people = group_people(group=group)
    data = request.GET if request.GET else None
    form = MicroProjectFilterForm(data, departments=departments, people=people)
    filters = MicroProjectFilters()
    status = 200
    if data is not None:
        if form.is_valid():
            filters = MicroProjectFilters(**form.cleaned_data)
        else:
            status = 400
    projects = micro_projects_of_group(group=group, filters=filters) if status == 200 else []
    context = {"group": group, "form": form, "projects": projects, "filtered": data is not None}
    return render(request, "topics/micro_project_list.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def micro_project_detail(request, code: str):
    """One micro-project: where it came from, its history, and the form that changes it."""
    project = micro_project_get_for_user(user=request.user, code=code)
    group = project.topic.meeting.group
    people = group_people(group=group, also=project.owner)
    initial = {
        "title": project.title,
        "status": project.status,
        "reason": project.reason,
        "owner": project.owner.code,
        "target_date": project.target_date,
        "version": project.version,
    }
    tagged = list(project.goals.all())
    goals = goals_offered(group_id=group.pk, keep=tagged) if project.can_change else []
    form = MicroProjectChangeForm(
        initial=initial, people=people, current=project.status, goals=goals, tagged=tagged
    )
    conflict = None
    status = 200
    if request.method == "POST":
        if not project.can_change:
            raise PermissionDenied
        form = MicroProjectChangeForm(
            request.POST, people=people, current=project.status, goals=goals
        )
        if form.is_valid():
            try:
                micro_project_change(
                    micro_project=project,
                    by=request.user,
                    may=project.can_change,
                    version=form.cleaned_data["version"],
                    **form.values(),
                )
            except MicroProjectConflict as error:
                conflict = error.current
                status = 409
                data = request.POST.copy()
                data["version"] = str(conflict.version)
                form = MicroProjectChangeForm(
                    data, people=people, current=conflict.status, goals=goals
                )
            except ValidationError as error:
                _add_errors(form, error)
                status = 400
            else:
                messages.success(request, _("The micro-project is saved."))
                return redirect(project.get_absolute_url())
        else:
            status = 400
    context = {
        "project": project,
        "group": group,
        "form": form,
        "conflict": conflict,
        "goals": tagged,
        "history": micro_project_history(micro_project=project),
    }
    return render(request, "topics/micro_project_detail.html", context, status=status)


# --- The post-it's page and the department's page --------------------------------------


@login_required
def topic_detail(request, code: str):
    """One post-it, with what came of it: ideas, links, follow-ups, micro-projects."""
    page = topic_page(user=request.user, code=code)
    return render(request, "topics/topic_detail.html", {"page": page})


@login_required
def department_detail(request, code: str, department: str):
    """A department over time: its post-its, follow-ups and micro-projects."""
    group = group_get_for_user(user=request.user, code=code)
    page = department_page(group=group, code=department)
    return render(request, "topics/department_detail.html", {"page": page})


# --- Status links: answering without signing in -----------------------------------------

STATUS_LINK_ERRORS = {"tampered": 400, "expired": 410, "foreign": 403}


@require_http_methods(["GET", "POST"])
def status_answer(request, token: str):
    """An owner answers "Vad har hänt sedan sist?" for one item, without signing in.

    The signed link is the key: it works for this item and person until the meeting
    starts; answering again updates the same answer. A tampered, expired or foreign
    link gets a page that says so and changes nothing.
    """
    try:
        link = status_link_read(token)
    except StatusLinkError as error:
        return render(
            request,
            "topics/status_link_error.html",
            {"reason": error.reason},
            status=STATUS_LINK_ERRORS[error.reason],
        )
    answer = link.item.status_answers.filter(meeting=link.meeting).first()
    choices = status_choices(link)
    initial = {"text": answer.text if answer else "", "status": link.item.status}
    form = StatusAnswerForm(initial=initial, choices=choices)
    saved = False
    status = 200
    if request.method == "POST":
        form = StatusAnswerForm(request.POST, choices=choices)
        if form.is_valid():
            try:
                answer = status_answer_save(link=link, **form.cleaned_data)
            except ValidationError as error:
                _add_errors(form, error)
                status = 400
            else:
                saved = True
                link = status_link_read(token)
                form = StatusAnswerForm(
                    initial={"text": answer.text, "status": link.item.status},
                    choices=status_choices(link),
                )
        else:
            status = 400
    context = {"link": link, "form": form, "saved": saved, "answer": answer}
    return render(request, "topics/status_answer.html", context, status=status)
