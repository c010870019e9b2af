"""Strategy goals on post-its, IT solutions and micro-projects (issue 14, point 6): who
tags what where, what a form refuses, and what the micro-project's history records."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from groups.access import Role
from groups.services import goal_archive, member_set_role
from meetings.models import MeetingStatus
from tests.factories import MeetingFactory, StrategyGoalFactory, TopicFactory, UserFactory
from topics.models import MicroProject, Solution, Topic, TopicStatus
from topics.services import micro_project_create, solution_save

pytestmark = pytest.mark.django_db

HOSTILE = "<script>alert(1)</script>' OR 1=1; -- Åsa 🎉"
PROCESSES = "Enhetliga och standardiserade processer och verktyg"
DATA = "Datadrivna beslut"

TEXT = {
    "title": "Bemanning av akuten kvällstid",
    "background": "Akuten har varierande antal besökare.",
    "current_state": "Schemat läggs tre veckor i förväg.",
    "goal": "Veta dagen innan hur många som kommer.",
    "obstacle": "Ingen prognos.",
}


@pytest.fixture
def goals(world):
    processes = StrategyGoalFactory(group=world.group, title=PROCESSES, position=0)
    data = StrategyGoalFactory(group=world.group, title=DATA, position=1)
    theirs = StrategyGoalFactory(group=world.other_group, title="Annan grupps mål")
    return {"processes": processes, "data": data, "theirs": theirs}


def _postit(client, world, name="topics:postit", **data):
    payload = {"department": world.hr.code, "topic": "", "version": "0", **TEXT}
    payload.update(data)
    return client.post(reverse(name, args=[world.meeting.code]), payload)


def _box(page: str, code: str) -> str:
    """The <input> of one goal's checkbox."""
    start = page.index(f'value="{code}"')
    return page[page.rindex("<input", 0, start) : page.index(">", start)]


# --- The post-it form -----------------------------------------------------------------


def test_a_head_picks_goals_on_the_post_it_form(client, world, goals):
    client.force_login(world.head)
    page = client.get(reverse("topics:postit", args=[world.meeting.code])).content.decode()
    assert "Strategiska mål" in page
    assert PROCESSES in page and DATA in page
    assert "Annan grupps mål" not in page
    response = _postit(
        client, world, action="submit", goals_shown="True", goals=[goals["processes"].code]
    )
    assert response.status_code == 302
    topic = Topic.objects.get()
    assert topic.status == TopicStatus.SUBMITTED
    assert list(topic.goals.values_list("title", flat=True)) == [PROCESSES]
    page = client.get(response.url).content.decode()
    assert "checked" in _box(page, goals["processes"].code)
    assert "checked" not in _box(page, goals["data"].code)


def test_autosave_keeps_the_goals_with_the_text(client, world, goals):
    client.force_login(world.head)
    first = _postit(
        client,
        world,
        name="topics:postit_autosave",
        goals_shown="True",
        goals=[goals["processes"].code, goals["data"].code],
    )
    assert first.status_code == 200
    topic = Topic.objects.get(code=first.json()["topic"])
    assert set(topic.goals.values_list("title", flat=True)) == {PROCESSES, DATA}
    # A save from a page without the checkboxes (no goals_shown) leaves them alone ...
    second = _postit(
        client, world, name="topics:postit_autosave", topic=topic.code, version="1", title="Ny"
    )
    assert second.status_code == 200
    assert topic.goals.count() == 2
    # ... and unticking every box clears them.
    third = _postit(
        client,
        world,
        name="topics:postit_autosave",
        topic=topic.code,
        version=str(second.json()["version"]),
        goals_shown="True",
    )
    assert third.status_code == 200
    assert topic.goals.count() == 0


@pytest.mark.parametrize(
    "value", ["theirs", "nope", HOSTILE, "", "1", "' OR 1=1 --"], ids=lambda v: v[:10] or "empty"
)
@pytest.mark.parametrize("name", ["topics:postit", "topics:postit_autosave"])
def test_a_goal_the_form_does_not_offer_is_refused(client, world, goals, value, name):
    code = goals["theirs"].code if value == "theirs" else value
    client.force_login(world.head)
    response = _postit(client, world, name=name, goals_shown="True", goals=[code])
    assert response.status_code == 400
    if name == "topics:postit_autosave":
        assert list(response.json()["errors"]) == ["goals"]
    else:
        html = response.content.decode()
        assert "Välj ett giltigt alternativ." in html
        assert "<script>alert(1)" not in html
    assert not Topic.objects.exists()
    assert not Topic.goals.through.objects.exists()


def test_an_archived_goal_is_kept_where_it_is_but_offered_nowhere_new(client, world, goals):
    tagged = TopicFactory(
        meeting=world.meeting, department=world.hr, author=world.head, status=TopicStatus.DRAFT
    )
    tagged.goals.add(goals["data"])
    goal_archive(goal=goals["data"])
    client.force_login(world.head)
    page = client.get(
        reverse("topics:postit", args=[world.meeting.code]), {"topic": tagged.code}
    ).content.decode()
    assert f"{DATA} (arkiverat)" in page
    # Kept when the form is saved with it ticked.
    kept = _postit(
        client,
        world,
        topic=tagged.code,
        version="1",
        action="save",
        goals_shown="True",
        goals=[goals["data"].code, goals["processes"].code],
    )
    assert kept.status_code == 302
    assert set(tagged.goals.values_list("title", flat=True)) == {PROCESSES, DATA}
    # Another department's post-it is not offered the archived goal.
    it_head = UserFactory()
    world.it.heads.add(it_head)
    client.force_login(it_head)
    page = client.get(reverse("topics:postit", args=[world.meeting.code])).content.decode()
    assert PROCESSES in page and DATA not in page
    refused = client.post(
        reverse("topics:postit_autosave", args=[world.meeting.code]),
        {
            "department": world.it.code,
            "version": "0",
            **TEXT,
            "goals_shown": "True",
            "goals": [goals["data"].code],
        },
    )
    assert refused.status_code == 400
    assert not Topic.objects.filter(department=world.it).exists()


def test_a_group_without_goals_shows_no_goal_field(client, world):
    client.force_login(world.head)
    page = client.get(reverse("topics:postit", args=[world.meeting.code])).content.decode()
    assert "goals_shown" not in page and "Strategiska mål" not in page
    assert _postit(client, world, action="save", goals=["x"]).status_code == 302


def test_after_the_deadline_the_goals_are_read_only_too(client, world, goals):
    topic = TopicFactory(meeting=world.meeting, department=world.hr, author=world.head)
    topic.goals.add(goals["processes"])
    world.meeting.submission_deadline = timezone.now() - timedelta(hours=1)
    world.meeting.save()
    client.force_login(world.head)
    page = client.get(reverse("topics:postit", args=[world.meeting.code])).content.decode()
    assert "disabled" in _box(page, goals["processes"].code)
    response = _postit(
        client, world, topic=topic.code, version="1", goals_shown="True", action="save"
    )
    assert response.status_code == 400
    assert list(topic.goals.all()) == [goals["processes"]]


def test_a_moderator_writing_on_behalf_picks_goals_too(client, world, goals):
    client.force_login(world.moderator)
    response = _postit(client, world, action="save", goals_shown="True", goals=[goals["data"].code])
    assert response.status_code == 302
    assert list(Topic.objects.get().goals.all()) == [goals["data"]]


@pytest.mark.parametrize("size", [2, 12])
def test_the_post_it_form_query_count_does_not_grow_with_goals(
    client, world, goals, django_assert_num_queries, size
):
    topic = TopicFactory(meeting=world.meeting, department=world.hr, author=world.head)
    for n in range(size):
        topic.goals.add(StrategyGoalFactory(group=world.group, title=f"Mål {n}"))
    client.force_login(world.head)
    url = reverse("topics:postit", args=[world.meeting.code])
    client.get(url)  # warm the session
    with django_assert_num_queries(10):
        response = client.get(url)
    assert len(response.context["goals_form"].fields["goals"].choices) == size + 2


# --- Solutions and micro-projects ------------------------------------------------------


@pytest.fixture
def closed(world, goals):
    world.meeting.status = MeetingStatus.SUMMARY_SENT
    world.meeting.save()
    world.topic = TopicFactory(
        meeting=world.meeting, department=world.hr, title="Bemanna akuten på kvällen"
    )
    world.topic.goals.add(goals["processes"])
    world.it_person = UserFactory(email="it@example.se", full_name="Ivar Tekniker")
    member_set_role(group=world.group, user=world.it_person, role="it")
    world.group.refresh_from_db()
    world.goals = goals
    return world


def _solution_data(world, **fields):
    prefix = f"s-{world.topic.code}"
    data = {
        "action": "solution",
        "topic": world.topic.code,
        f"{prefix}-title": "Prognos från webbstatistik",
        f"{prefix}-effort": "M",
    }
    data.update({f"{prefix}-{k}": v for k, v in fields.items()})
    return data


def _solution(world, goals=()):
    from meetings.selectors import meeting_get_for_user

    meeting = meeting_get_for_user(user=world.moderator, code=world.meeting.code)
    world.topic.meeting = meeting
    return solution_save(
        topic=world.topic,
        by=world.moderator,
        role=meeting.role,
        title="Prognos från webbstatistik",
        effort="M",
        goals=list(goals),
    )


def test_it_tags_a_solution_when_writing_it_and_when_changing_it(client, closed):
    world = closed
    client.force_login(world.it_person)
    url = reverse("topics:it_perspective", args=[world.meeting.code])
    assert DATA in client.get(url).content.decode()
    response = client.post(url, _solution_data(world, goals=[world.goals["data"].code]))
    assert response.status_code == 302
    solution = Solution.objects.get()
    assert list(solution.goals.all()) == [world.goals["data"]]
    page = client.get(url).content.decode()
    assert f'<li class="goal-tag">{DATA}</li>' in page
    edit = reverse("topics:solution_edit", args=[solution.code])
    changed = client.post(
        edit,
        {
            "action": "save",
            "title": solution.title,
            "effort": "M",
            "goals": [world.goals["processes"].code, world.goals["data"].code],
        },
    )
    assert changed.status_code == 302
    assert set(solution.goals.values_list("title", flat=True)) == {PROCESSES, DATA}


@pytest.mark.parametrize("value", ["theirs", "nope", HOSTILE])
def test_a_solution_refuses_a_goal_it_is_not_offered(client, closed, value):
    world = closed
    code = world.goals["theirs"].code if value == "theirs" else value
    client.force_login(world.it_person)
    url = reverse("topics:it_perspective", args=[world.meeting.code])
    response = client.post(url, _solution_data(world, goals=[code]))
    assert response.status_code == 400
    assert "Välj ett giltigt alternativ." in response.content.decode()
    assert not Solution.objects.exists()
    solution = _solution(world, goals=[world.goals["data"]])
    edit = reverse("topics:solution_edit", args=[solution.code])
    response = client.post(
        edit, {"action": "save", "title": "Ändrad", "effort": "M", "goals": [code]}
    )
    assert response.status_code == 400
    solution.refresh_from_db()
    assert solution.title == "Prognos från webbstatistik"
    assert list(solution.goals.all()) == [world.goals["data"]]


def test_a_micro_project_inherits_its_solutions_goals(client, closed):
    world = closed
    solution = _solution(world, goals=[world.goals["data"]])
    client.force_login(world.it_person)
    response = client.post(
        reverse("topics:solution_edit", args=[solution.code]),
        {"action": "micro_project", "owner": world.it_person.code},
    )
    assert response.status_code == 302
    project = MicroProject.objects.get()
    assert list(project.goals.all()) == [world.goals["data"]]
    page = client.get(project.get_absolute_url()).content.decode()
    assert f'<li class="goal-tag">{DATA}</li>' in page


def test_it_changes_a_micro_projects_goals_and_the_history_says_so(client, closed):
    world = closed
    project = micro_project_create(
        solution=_solution(world), by=world.moderator, role=Role.MODERATOR, owner=world.head
    )
    client.force_login(world.it_person)
    page = client.get(project.get_absolute_url()).content.decode()
    assert "Inga egna: det tjänar målen för sin lapp." in page
    response = client.post(
        project.get_absolute_url(),
        {
            "title": project.title,
            "status": "proposed",
            "owner": world.head.code,
            "version": "1",
            "goals": [world.goals["data"].code, world.goals["processes"].code],
        },
    )
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.version == 2
    assert set(project.goals.values_list("title", flat=True)) == {PROCESSES, DATA}
    change = project.changes.order_by("-at", "-pk").first()
    assert change.changes == [{"field": "goals", "old": "", "new": f"{PROCESSES}, {DATA}"}]
    history = client.get(project.get_absolute_url()).context["history"]
    assert history[0].rows == [("strategiska mål", "–", f"{PROCESSES}, {DATA}")]
    # Saving the same goals again changes nothing and records nothing.
    client.post(
        project.get_absolute_url(),
        {
            "title": project.title,
            "status": "proposed",
            "owner": world.head.code,
            "version": "2",
            "goals": [world.goals["data"].code, world.goals["processes"].code],
        },
    )
    assert project.changes.count() == 2


@pytest.mark.parametrize("value", ["theirs", "nope", HOSTILE])
def test_a_micro_project_refuses_a_goal_it_is_not_offered(client, closed, value):
    world = closed
    project = micro_project_create(
        solution=_solution(world), by=world.moderator, role=Role.MODERATOR, owner=world.head
    )
    code = world.goals["theirs"].code if value == "theirs" else value
    client.force_login(world.it_person)
    response = client.post(
        project.get_absolute_url(),
        {
            "title": "Ändrat",
            "status": "proposed",
            "owner": world.head.code,
            "version": "1",
            "goals": [code],
        },
    )
    assert response.status_code == 400
    assert "Välj ett giltigt alternativ." in response.content.decode()
    project.refresh_from_db()
    assert (project.title, project.version, project.goals.count()) == (
        "Prognos från webbstatistik",
        1,
        0,
    )


@pytest.mark.parametrize("who", ["head", "participant", "outsider"])
def test_only_those_who_work_on_it_tag_solutions_and_micro_projects(client, closed, who):
    world = closed
    solution = _solution(world)
    project = micro_project_create(
        solution=solution, by=world.moderator, role=Role.MODERATOR, owner=world.it_person
    )
    client.force_login(getattr(world, who))
    edit = client.post(
        reverse("topics:solution_edit", args=[solution.code]),
        {"action": "save", "title": "X", "effort": "M", "goals": [world.goals["data"].code]},
    )
    assert edit.status_code == 404
    change = client.post(
        project.get_absolute_url(),
        {
            "title": "X",
            "status": "proposed",
            "owner": world.it_person.code,
            "version": "1",
            "goals": [world.goals["data"].code],
        },
    )
    assert change.status_code in (403, 404)
    assert not solution.goals.exists() and not project.goals.exists()


def test_a_micro_projects_owner_may_change_its_goals(client, closed):
    world = closed
    owner = UserFactory()
    world.group.participants.add(owner)
    project = micro_project_create(
        solution=_solution(world), by=world.moderator, role=Role.MODERATOR, owner=owner
    )
    from topics.models import ITPerspective

    ITPerspective.objects.filter(meeting=world.meeting).update(published_at=timezone.now())
    client.force_login(owner)
    response = client.post(
        project.get_absolute_url(),
        {
            "title": project.title,
            "status": "proposed",
            "owner": owner.code,
            "version": "1",
            "goals": [world.goals["data"].code],
        },
    )
    assert response.status_code == 302
    assert list(project.goals.all()) == [world.goals["data"]]


@pytest.mark.parametrize("size", [2, 12])
def test_goal_tagging_keeps_it_pages_query_counts_constant(
    client, closed, django_assert_num_queries, size
):
    world = closed
    other = MeetingFactory(group=world.group, status=MeetingStatus.OPEN)
    for n in range(size):
        goal = StrategyGoalFactory(group=world.group, title=f"Mål {n}")
        topic = TopicFactory(meeting=world.meeting, department=world.it, title=f"Lapp {n}")
        world.topic = topic
        solution = _solution(world, goals=[goal])
        if n % 2:
            micro_project_create(
                solution=solution, by=world.moderator, role=Role.MODERATOR, owner=world.it_person
            )
    assert other
    project = MicroProject.objects.first()
    project.goals.add(*world.group.strategy_goals.all())
    client.force_login(world.it_person)
    url = reverse("topics:it_perspective", args=[world.meeting.code])
    with django_assert_num_queries(9):
        client.get(url)
    with django_assert_num_queries(8):
        client.get(project.get_absolute_url())
    solution_url = reverse("topics:solution_edit", args=[project.solution.code])
    with django_assert_num_queries(9):
        client.get(solution_url)
