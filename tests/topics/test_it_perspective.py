"""The IT perspective (solutions per post-it, published when the moderator chooses),
the per-group IT role, and micro-projects with their strict lifecycle and history."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from groups.access import Role
from groups.services import member_set_role
from meetings.models import MeetingStatus
from tests.factories import DepartmentFactory, TopicFactory, UserFactory
from topics.models import ITPerspective, MicroProject, MicroProjectChange, Solution
from topics.services import (
    MicroProjectConflict,
    it_perspective_publish,
    micro_project_change,
    micro_project_create,
    solution_save,
)

HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)> Åsa & Öberg 🎉"


@pytest.fixture
def closed(world):
    world.meeting.status = MeetingStatus.SUMMARY_SENT
    world.meeting.save()
    world.topic = TopicFactory(
        meeting=world.meeting, department=world.hr, title="Bemanna akuten på kvällen"
    )
    world.it_person = UserFactory(email="it@example.se", full_name="Ivar Tekniker")
    member_set_role(group=world.group, user=world.it_person, role="it")
    world.group.refresh_from_db()
    return world


def _meeting(world, user):
    from meetings.selectors import meeting_get_for_user

    return meeting_get_for_user(user=user, code=world.meeting.code)


def _solution(world, **fields):
    meeting = _meeting(world, world.moderator)
    world.topic.meeting = meeting
    return solution_save(
        topic=world.topic,
        by=world.moderator,
        role=meeting.role,
        **{"title": "Prognos från webbstatistik", "effort": "M", **fields},
    )


def _url(world):
    return reverse("topics:it_perspective", args=[world.meeting.code])


def _add_solution_data(world, **fields):
    prefix = f"s-{world.topic.code}"
    data = {
        "action": "solution",
        "topic": world.topic.code,
        f"{prefix}-title": "Prognos från webbstatistik",
        f"{prefix}-description": "Besök kvällen innan förutsäger besök nästa dag.",
        f"{prefix}-systems": "Webbanalys, bemanningssystemet",
        f"{prefix}-effort": "M",
        f"{prefix}-risks": "Datakvalitet",
        f"{prefix}-recommendation": "Gör en pilot i tre månader.",
    }
    data.update({f"{prefix}-{k}": v for k, v in fields.items()})
    return data


# --- The IT role ----------------------------------------------------------------------


def test_the_members_page_gives_the_it_role(client, closed):
    world = closed
    person = world.participant
    client.force_login(world.moderator)
    url = reverse("groups:member_edit", args=[world.group.code, person.code])
    assert 'value="it"' in client.get(url).content.decode()
    response = client.post(url, {"role": "it"})
    assert response.status_code == 302
    assert world.group.it_members.filter(pk=person.pk).exists()
    assert not world.group.participants.filter(pk=person.pk).exists()
    members = client.get(reverse("groups:members", args=[world.group.code])).content.decode()
    assert "IT-roll" in members


def test_the_it_role_heads_no_department(client, closed):
    world = closed
    client.force_login(world.moderator)
    url = reverse("groups:member_edit", args=[world.group.code, world.it_person.code])
    response = client.post(url, {"role": "it", "departments": [world.hr.code]})
    assert response.status_code == 400
    assert not world.hr.heads.filter(pk=world.it_person.pk).exists()


# --- Writing and publishing ------------------------------------------------------------


def test_the_it_role_writes_a_solution_that_heads_cannot_see_until_published(client, closed):
    world = closed
    client.force_login(world.it_person)
    response = client.post(_url(world), _add_solution_data(world, title="Lösning " + HOSTILE))
    assert response.status_code == 302
    solution = Solution.objects.get()
    assert (solution.topic, solution.created_by, solution.effort) == (
        world.topic,
        world.it_person,
        "M",
    )
    page = client.get(_url(world)).content.decode()
    assert "Lösning &lt;script&gt;" in page and "<script>alert(1)" not in page

    client.force_login(world.head)
    assert client.get(_url(world)).status_code == 404
    meeting_page = client.get(world.meeting.get_absolute_url()).content.decode()
    assert "Lösning" not in meeting_page
    assert _url(world) not in meeting_page

    # The IT role may not publish; the moderator does.
    client.force_login(world.it_person)
    assert client.post(_url(world), {"action": "publish"}).status_code == 403
    client.force_login(world.moderator)
    assert client.post(_url(world), {"action": "publish"}).status_code == 302
    assert ITPerspective.objects.get(meeting=world.meeting).published_by == world.moderator

    client.force_login(world.head)
    assert client.get(_url(world)).status_code == 200
    meeting_page = client.get(world.meeting.get_absolute_url()).content.decode()
    assert "Lösning &lt;script&gt;" in meeting_page
    # Heads read; they do not write.
    response = client.post(_url(world), _add_solution_data(world, title="Smygande"))
    assert response.status_code == 403
    assert Solution.objects.count() == 1


def test_publishing_nothing_is_refused_with_a_message(client, closed):
    world = closed
    client.force_login(world.moderator)
    response = client.post(_url(world), {"action": "publish"}, follow=True)
    assert "Skriv minst en lösning" in response.content.decode()
    assert not ITPerspective.objects.filter(published_at__isnull=False).exists()


def test_nothing_is_written_before_the_meeting_is_closed(world):
    topic = TopicFactory(meeting=world.meeting, department=world.hr)
    with pytest.raises(ValidationError):
        solution_save(topic=topic, by=world.moderator, role=Role.MODERATOR, title="X", effort="S")
    assert not Solution.objects.exists()


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"title": ""}, "title"),
        ({"effort": "XL"}, "effort"),
        ({"title": "x" * 121}, "title"),
        ({"risks": "å" * 2001}, "risks"),
    ],
)
def test_a_bad_solution_gets_field_errors_and_nothing_is_saved(client, closed, fields, error):
    world = closed
    client.force_login(world.moderator)
    response = client.post(_url(world), _add_solution_data(world, **fields))
    assert response.status_code == 400
    form = next(t.solution_form for t in response.context["page"].topics)
    assert error in form.errors
    assert "Bemanna akuten" in response.content.decode()
    assert not Solution.objects.exists()


def test_a_solution_is_changed_and_deleted_after_confirmation(client, closed):
    world = closed
    solution = _solution(world)
    client.force_login(world.it_person)
    url = reverse("topics:solution_edit", args=[solution.code])
    data = {"action": "save", "title": "Ny titel", "effort": "S", "systems": "Intranät"}
    assert client.post(url, data).status_code == 302
    solution.refresh_from_db()
    assert (solution.title, solution.effort) == ("Ny titel", "S")
    confirm = client.get(url, {"delete": "1"}).content.decode()
    assert 'value="delete"' in confirm
    assert client.post(url, {"action": "delete"}).status_code == 302
    assert not Solution.objects.exists()


# --- Micro-projects ----------------------------------------------------------------------


def test_one_action_turns_a_solution_into_a_micro_project(client, closed):
    world = closed
    solution = _solution(world)
    client.force_login(world.moderator)
    url = reverse("topics:solution_edit", args=[solution.code])
    target = (timezone.localdate() + timedelta(days=60)).isoformat()
    data = {"action": "micro_project", "owner": world.it_person.code, "target_date": target}
    response = client.post(url, data)
    project = MicroProject.objects.get()
    assert response.url == project.get_absolute_url()
    assert (project.solution, project.topic, project.owner, project.status, project.title) == (
        solution,
        world.topic,
        world.it_person,
        "proposed",
        "Prognos från webbstatistik",
    )
    # Once per solution.
    assert client.post(url, data).status_code == 400
    assert MicroProject.objects.count() == 1


def test_a_micro_project_owner_must_be_a_member(client, closed):
    world = closed
    solution = _solution(world)
    client.force_login(world.moderator)
    url = reverse("topics:solution_edit", args=[solution.code])
    response = client.post(url, {"action": "micro_project", "owner": world.outsider.code})
    assert response.status_code == 400
    assert "owner" in response.context["project_form"].errors
    assert not MicroProject.objects.exists()


def _project(world):
    solution = _solution(world)
    return micro_project_create(
        solution=solution, by=world.moderator, role=Role.MODERATOR, owner=world.it_person
    )


def test_the_lifecycle_runs_forward_one_step_at_a_time(closed):
    world = closed
    project = _project(world)
    for version, status in enumerate(["approved", "in_progress", "done"], start=1):
        project = micro_project_change(
            micro_project=project, by=world.it_person, may=True, version=version, status=status
        )
    assert project.status == "done" and project.closed_at is not None
    history = [c.changes for c in MicroProjectChange.objects.order_by("at", "pk")]
    assert history == [
        [{"field": "created"}],
        [{"field": "status", "old": "proposed", "new": "approved"}],
        [{"field": "status", "old": "approved", "new": "in_progress"}],
        [{"field": "status", "old": "in_progress", "new": "done"}],
    ]


@pytest.mark.parametrize(
    ("path", "forbidden"),
    [
        ([], "in_progress"),
        ([], "done"),
        (["approved"], "done"),
        (["approved"], "proposed"),
        (["approved", "in_progress", "done"], "dropped"),
        (["dropped"], "approved"),
    ],
)
def test_the_lifecycle_forbids_every_other_transition(closed, path, forbidden):
    world = closed
    project = _project(world)
    for version, status in enumerate(path, start=1):
        project = micro_project_change(
            micro_project=project,
            by=world.moderator,
            may=True,
            version=version,
            status=status,
            reason="Inte längre aktuellt" if status == "dropped" else "",
        )
    with pytest.raises(ValidationError) as error:
        micro_project_change(
            micro_project=project,
            by=world.moderator,
            may=True,
            version=project.version,
            status=forbidden,
            reason="Av",
        )
    assert "status" in error.value.message_dict
    project.refresh_from_db()
    assert project.status == (path[-1] if path else "proposed")


def test_dropping_a_micro_project_needs_a_reason(client, closed):
    world = closed
    project = _project(world)
    client.force_login(world.it_person)
    url = project.get_absolute_url()
    data = {
        "title": project.title,
        "status": "dropped",
        "reason": "",
        "owner": world.it_person.code,
        "version": "1",
    }
    response = client.post(url, data)
    assert response.status_code == 400
    assert "reason" in response.context["form"].errors
    data["reason"] = "Leverantören löser det " + HOSTILE
    assert client.post(url, data).status_code == 302
    page = client.get(url).content.decode()
    assert "Leverantören löser det &lt;script&gt;" in page
    assert "Ivar Tekniker" in page


def test_a_stale_micro_project_change_is_refused(closed):
    world = closed
    project = _project(world)
    micro_project_change(
        micro_project=project, by=world.it_person, may=True, version=1, status="approved"
    )
    with pytest.raises(MicroProjectConflict):
        micro_project_change(
            micro_project=project, by=world.moderator, may=True, version=1, title="Annat"
        )


def test_a_head_may_read_a_published_micro_project_but_not_change_it(client, closed):
    world = closed
    project = _project(world)
    client.force_login(world.head)
    assert client.get(project.get_absolute_url()).status_code == 404  # not published yet
    it_perspective_publish(
        meeting=_meeting(world, world.moderator), by=world.moderator, role=Role.MODERATOR
    )
    assert client.get(project.get_absolute_url()).status_code == 200
    data = {"title": "X", "status": "approved", "owner": world.head.code, "version": "1"}
    assert client.post(project.get_absolute_url(), data).status_code == 403
    project.refresh_from_db()
    assert project.status == "proposed"
    with pytest.raises(PermissionDenied):
        micro_project_change(micro_project=project, by=world.head, may=False, version=1)


def test_the_list_filters_micro_projects(client, closed):
    world = closed
    project = _project(world)
    other_topic = TopicFactory(meeting=world.meeting, department=world.it, title="IT-lappen")
    other_topic.meeting = _meeting(world, world.moderator)
    other = micro_project_create(
        solution=solution_save(
            topic=other_topic, by=world.moderator, role=Role.MODERATOR, title="Annan", effort="S"
        ),
        by=world.moderator,
        role=Role.MODERATOR,
        owner=world.moderator,
    )
    micro_project_change(
        micro_project=other, by=world.moderator, may=True, version=1, status="approved"
    )
    url = reverse("topics:micro_project_list", args=[world.group.code])
    client.force_login(world.it_person)

    def titles(**query):
        response = client.get(url, query)
        assert response.status_code == 200
        return sorted(p.title for p in response.context["projects"])

    assert titles() == ["Annan", project.title]
    assert titles(status="approved") == ["Annan"]
    assert titles(status="open") == ["Annan", project.title]
    assert titles(department=world.hr.code) == [project.title]
    assert titles(owner=world.it_person.code) == [project.title]
    assert client.get(url, {"status": "bogus"}).status_code == 400
    # Heads see none until the IT perspective is published.
    client.force_login(world.head)
    assert client.get(url).context["projects"] == []


def test_the_post_it_page_and_the_department_page_show_the_micro_project(client, closed):
    world = closed
    project = _project(world)
    it_perspective_publish(
        meeting=_meeting(world, world.moderator), by=world.moderator, role=Role.MODERATOR
    )
    client.force_login(world.head)
    topic_page = client.get(reverse("topics:topic_detail", args=[world.topic.code]))
    assert project.get_absolute_url() in topic_page.content.decode()
    department = client.get(
        reverse("topics:department_detail", args=[world.group.code, world.hr.code])
    ).content.decode()
    assert project.get_absolute_url() in department
    assert reverse("topics:topic_detail", args=[world.topic.code]) in department


# --- Queries ------------------------------------------------------------------------


def _many(world, size):
    meeting = _meeting(world, world.moderator)
    for n in range(size):
        department = DepartmentFactory(group=world.group)
        topic = TopicFactory(meeting=world.meeting, department=department, title=f"Lapp {n}")
        topic.meeting = meeting
        solution = solution_save(
            topic=topic, by=world.moderator, role=Role.MODERATOR, title=f"L {n}", effort="S"
        )
        micro_project_create(
            solution=solution, by=world.moderator, role=Role.MODERATOR, owner=world.it_person
        )
    it_perspective_publish(meeting=meeting, by=world.moderator, role=Role.MODERATOR)


@pytest.mark.parametrize("size", [2, 12])
def test_it_perspective_page_query_count_is_constant(
    client, closed, django_assert_num_queries, size
):
    _many(closed, size)
    client.force_login(closed.it_person)
    # ... with the goals offered and each solution's goals (one query each)
    with django_assert_num_queries(9):
        response = client.get(_url(closed))
    assert len(response.context["page"].topics) == size + 1


@pytest.mark.parametrize("size", [2, 12])
def test_micro_project_list_query_count_is_constant(
    client, closed, django_assert_num_queries, size
):
    _many(closed, size)
    client.force_login(closed.head)
    url = reverse("topics:micro_project_list", args=[closed.group.code])
    with django_assert_num_queries(6):
        response = client.get(url, {"status": "open"})
    assert len(response.context["projects"]) == size


@pytest.mark.parametrize("size", [2, 12])
def test_micro_project_page_query_count_is_constant(
    client, closed, django_assert_num_queries, size
):
    project = _project(closed)
    for n in range(size):
        micro_project_change(
            micro_project=project, by=closed.moderator, may=True, version=n + 1, title=f"T {n}"
        )
    client.force_login(closed.it_person)
    # ... with its goals and the goals offered
    with django_assert_num_queries(8):
        response = client.get(project.get_absolute_url())
    assert len(response.context["history"]) == size + 1


@pytest.mark.parametrize("size", [2, 12])
def test_post_it_and_department_pages_query_count_is_constant(
    client, closed, django_assert_num_queries, size
):
    _many(closed, size)
    solution = _solution(closed)
    micro_project_create(
        solution=solution, by=closed.moderator, role=Role.MODERATOR, owner=closed.head
    )
    client.force_login(closed.head)
    with django_assert_num_queries(11):
        client.get(reverse("topics:topic_detail", args=[closed.topic.code]))
    with django_assert_num_queries(7):
        response = client.get(
            reverse("topics:department_detail", args=[closed.group.code, closed.hr.code])
        )
    assert len(response.context["page"].micro_projects) == 1


def test_the_form_offers_only_the_statuses_the_lifecycle_allows(client, closed):
    world = closed
    project = _project(world)
    client.force_login(world.it_person)
    form = client.get(project.get_absolute_url()).context["form"]
    assert [value for value, _label in form["status"].field.widget.choices] == [
        "proposed",
        "approved",
        "dropped",
    ]


@pytest.mark.parametrize("size", [2, 12])
def test_solution_page_query_count_is_constant(client, closed, django_assert_num_queries, size):
    solution = _solution(closed)
    for _ in range(size):
        closed.group.participants.add(UserFactory())  # people to choose an owner from
    client.force_login(closed.it_person)
    # ... with its goals and the goals offered
    with django_assert_num_queries(9):
        response = client.get(reverse("topics:solution_edit", args=[solution.code]))
    assert (
        len(response.context["project_form"].fields["owner"].queryset) == size + 5
    )  # and world's five
