from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from groups.access import Action, may_work_on_it_perspective
from groups.selectors import goal_get, goals_page, group_get_for_user
from groups.services import goal_archive, goal_create, goal_move, goal_restore, goal_update
from insights.export import csv_response, meeting_csv, meeting_json
from insights.forms import DecideForm, GoalForm, PeriodForm, RadarForm, SearchForm, SuggestForm
from insights.selectors import (
    SEARCH_SIZE,
    RadarHit,
    board_radar,
    goal_tagging,
    group_insights,
    group_search,
    postit_radar,
    radar_hit_for_suggestion,
    search_choices,
)
from insights.services import suggestion_decide, suggestion_propose
from meetings.selectors import meeting_get_for_user
from topics.selectors import meeting_page
from topics.services import meeting_goal_tags_set


@login_required
@require_POST
def postit_radar_results(request, code: str):
    """The radar beside the post-it form: similar post-its for the text typed so far.

    A POST because the text can be long; it reads and changes nothing.
    """
    meeting = meeting_get_for_user(user=request.user, code=code)
    form = RadarForm(request.POST)
    page = postit_radar(
        user=request.user,
        meeting=meeting,
        department_code=form.code("department"),
        topic_code=form.code("topic"),
        query=form.query(),
    )
    return render(request, "insights/_radar.html#radar-results", {"radar": page})


@login_required
@require_POST
def postit_suggest(request, code: str):
    """ "Similar challenge": propose a radar hit as a link the moderator confirms on the board."""
    meeting = meeting_get_for_user(user=request.user, code=code)
    form = SuggestForm(request.POST)
    if not form.is_valid():
        raise Http404
    topic, entry = radar_hit_for_suggestion(
        user=request.user,
        meeting=meeting,
        topic_code=form.cleaned_data["topic"],
        similar_code=form.cleaned_data["similar"],
    )
    if entry is None:
        raise Http404
    hit = RadarHit(topic=entry.topic, score=0, has_follow_up=entry.has_follow_up)
    if topic is None or topic.pk == entry.topic_id:
        message = _("Write something in your post-it first, so that it is saved.")
    else:
        hit.suggestion = suggestion_propose(topic=topic, similar=entry.topic, by=request.user)
        message = _("Proposed to the moderator, who confirms it on the board.")
    if request.htmx:
        context = {"hit": hit, "meeting": meeting, "message": message, "index": "s"}
        return render(request, "insights/_radar.html#radar-hit", context)
    messages.info(request, message)
    url = reverse("topics:postit", args=[meeting.code])
    if topic is not None:
        url += "?" + urlencode({"department": topic.department.code, "topic": topic.code})
    return redirect(url)


@login_required
def search(request, code: str):
    """One search box for the group: every meeting's post-its, ideas, notes and follow-ups."""
    group = group_get_for_user(user=request.user, code=code)
    departments, meetings = search_choices(group=group)
    form = SearchForm(request.GET or None, departments=departments, meetings=meetings)
    query = form.query()
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    results = group_search(
        group=group,
        query=query,
        department=filters.get("department", ""),
        meeting=filters.get("meeting", ""),
        kind=filters.get("kind", ""),
    )
    context = {
        "group": group,
        "form": form,
        "query": query,
        "searched": bool(filters.get("q")),
        "results": results,
        "meetings": meetings,
        "full": len(results) >= SEARCH_SIZE,
    }
    return render(request, "insights/search.html", context)


@login_required
def board_radar_panel(request, code: str):
    """The board's radar for the post-it that has the word (a fragment the board loads)."""
    meeting = meeting_get_for_user(user=request.user, code=code, action=Action.MODERATE)
    radar = board_radar(meeting=meeting, topic_code=request.GET.get("topic", ""))
    return render(request, "insights/_board_radar.html#board-radar", {"radar": radar})


@login_required
@require_POST
def board_radar_decide(request, code: str):
    """Link a similar post-it in one click, or dismiss it; the radar remembers either."""
    meeting = meeting_get_for_user(user=request.user, code=code, action=Action.MODERATE)
    form = DecideForm(request.POST)
    error = ""
    topic_code = request.POST.get("topic", "")
    if form.is_valid():
        topic_code = form.cleaned_data["topic"]
        radar = board_radar(meeting=meeting, topic_code=topic_code)
        offered = {s.similar.code: s.similar for s in radar.proposals}
        offered |= {hit.topic.code: hit.topic for hit in radar.hits}
        similar = offered.get(form.cleaned_data["similar"])
        if radar.topic is None or similar is None:
            error = _("That post-it is no longer offered here. The list has been refreshed.")
        else:
            try:
                suggestion_decide(
                    meeting=meeting,
                    topic=radar.topic,
                    similar=similar,
                    confirm=form.cleaned_data["decision"] == "confirm",
                    by=request.user,
                )
            except ValidationError as refusal:
                error = " ".join(refusal.messages)
    else:
        error = _("Choose to link or to dismiss.")
    if not request.htmx:
        if error:
            messages.error(request, error)
        return redirect("board:board", code=meeting.code)
    radar = board_radar(meeting=meeting, topic_code=topic_code)
    context = {"radar": radar, "error": error}
    return render(request, "insights/_board_radar.html#board-radar", context)


@login_required
def meeting_export(request, code: str, fmt: str):
    """A meeting's post-its, ideas and follow-ups as CSV or JSON: what its page shows."""
    meeting = meeting_get_for_user(user=request.user, code=code)
    page = meeting_page(meeting=meeting, user=request.user)
    return meeting_csv(page) if fmt == "csv" else meeting_json(page)


@login_required
def insights(request, code: str):
    """Insights for moderators and the IT role: post-its, follow-ups, micro-projects, who
    helped whom, strategy goals.

    `?csv=<table>` downloads one of the page's tables.
    """
    group = group_get_for_user(user=request.user, code=code)
    if not may_work_on_it_perspective(group.role, group):
        raise PermissionDenied
    period_form = PeriodForm(request.GET if "period" in request.GET else None)
    page = group_insights(group=group, period=period_form.chosen())
    wanted = request.GET.get("csv")
    if wanted:
        table = page.table(wanted)
        if table is None:
            raise Http404
        day = timezone.localdate().isoformat()
        return csv_response(
            filename=f"tvargrupp-{table.name}-{day}.csv", header=table.header, rows=table.rows
        )
    context = {"page": page, "group": group, "period_form": period_form}
    status = 400 if period_form.errors else 200
    return render(request, "insights/insights.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def goals(request, code: str):
    """The group's strategy goals: add, rename and describe, reorder, archive, restore.

    `?archive=<code>` asks before archiving (the page shows a confirmation)."""
    group = group_get_for_user(user=request.user, code=code, action=Action.MODERATE)
    new_form = GoalForm(prefix="new", group=group)
    forms_by_code = {}
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action == "add":
            new_form = GoalForm(request.POST, prefix="new", group=group)
            if new_form.is_valid():
                try:
                    goal_create(group=group, **new_form.cleaned_data)
                except ValidationError as error:
                    new_form.add_error(None, error)
                else:
                    messages.success(request, _("The goal is added."))
                    return redirect(reverse("insights:goals", args=[group.code]) + "#goals")
        else:
            goal = goal_get(group=group, code=request.POST.get("goal", ""))
            back = reverse("insights:goals", args=[group.code]) + f"#goal-{goal.code}"
            if action == "edit":
                form = GoalForm(request.POST, prefix=goal.code, instance=goal, group=group)
                if form.is_valid():
                    try:
                        goal_update(goal=goal, **form.cleaned_data)
                    except ValidationError as error:
                        form.add_error(None, error)
                    else:
                        messages.success(request, _("The goal is changed."))
                        return redirect(back)
                forms_by_code[goal.code] = form
            elif action in ("up", "down"):
                try:
                    goal_move(goal=goal, offset=-1 if action == "up" else 1)
                except ValidationError as error:
                    messages.error(request, " ".join(error.messages))
                return redirect(back)
            elif action == "archive":
                goal_archive(goal=goal)
                messages.success(
                    request,
                    _(
                        "“%(goal)s” is archived: it is no longer offered for new tags; "
                        "what it tags keeps it."
                    )
                    % {"goal": goal.title},
                )
                return redirect(reverse("insights:goals", args=[group.code]) + "#archived")
            elif action == "restore":
                goal_restore(goal=goal)
                messages.success(request, _("“%(goal)s” is back.") % {"goal": goal.title})
                return redirect(back)
            else:
                raise Http404
    page = goals_page(group=group)
    confirm = next((g for g in page.goals if g.code == request.GET.get("archive")), None)
    rows = [
        (
            goal,
            forms_by_code.get(goal.code) or GoalForm(prefix=goal.code, instance=goal, group=group),
        )
        for goal in page.goals
    ]
    context = {
        "group": group,
        "page": page,
        "rows": rows,
        "new_form": new_form,
        "confirm_archive": confirm,
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "insights/goals.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def meeting_goals(request, code: str):
    """Tag the meeting's post-its with the strategy goals they serve (the moderator)."""
    meeting = meeting_get_for_user(user=request.user, code=code, action=Action.MODERATE)
    page = goal_tagging(meeting=meeting)
    if request.method == "POST":
        topics = {t.code: t.pk for t in page.topics}
        goals_ = {g.code: g.pk for g in page.goals}
        tags = set()
        for value in request.POST.getlist("tag"):
            topic_code, _sep, goal_code = value.partition(":")
            if topic_code in topics and goal_code in goals_:
                tags.add((topics[topic_code], goals_[goal_code]))
        meeting_goal_tags_set(
            meeting=meeting,
            topic_ids=list(topics.values()),
            goal_ids=list(goals_.values()),
            tags=tags,
        )
        messages.success(request, _("The post-its' strategy goals are saved."))
        return redirect("insights:meeting_goals", code=meeting.code)
    return render(request, "insights/meeting_goals.html", {"page": page, "meeting": meeting})
