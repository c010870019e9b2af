"""A group is created and set up in the product's own pages: the group, its departments."""

import pytest
from django.urls import reverse

from groups.models import Department, Group, Invitation
from groups.services import department_archive
from meetings.models import Attendance, MeetingStatus
from meetings.services import meeting_open
from outbox.models import Message
from tests.factories import (
    ContributionFactory,
    DepartmentFactory,
    MeetingFactory,
    TopicFactory,
    UserFactory,
)
from topics.models import Topic

# --- The home page of a new installation -------------------------------------------------


def test_an_administrator_of_a_new_installation_is_asked_to_create_the_first_group(client, db):
    admin = UserFactory(is_superuser=True, is_staff=True)
    client.force_login(admin)
    response = client.get(reverse("meetings:home"))
    content = response.content.decode()
    assert "Ingen tvärgrupp ännu" in content
    assert content.count(f'href="{reverse("groups:group_create")}"') == 1


def test_a_person_in_no_group_is_told_whom_to_ask(client, db):
    UserFactory(full_name="Ada Admin", email="ada@example.se", is_superuser=True)
    person = UserFactory(full_name="Ny Person", email="ny@example.se")
    client.force_login(person)
    content = client.get(reverse("meetings:home")).content.decode()
    assert "Du är inte med i någon grupp än" in content
    assert "ny@example.se" in content
    assert '<a href="mailto:ada@example.se">Ada Admin</a>' in content
    assert reverse("groups:group_create") not in content


def test_an_administrator_with_groups_still_finds_create_a_group(client, world):
    client.force_login(world.admin)
    content = client.get(reverse("meetings:home")).content.decode()
    assert "Skapa en tvärgrupp" in content
    assert "Ingen tvärgrupp ännu" not in content


# --- Creating a group ------------------------------------------------------------------


def _create(client, **data):
    payload = {
        "name": "Tvärgrupp IT",
        "description": "Månadens möte mellan avdelningarna.",
        "time_zone": "Europe/Stockholm",
        "moderators": "Karin Åberg <karin@example.se>\nlars@example.se",
        "creator_moderates": "on",
    }
    payload.update(data)
    return client.post(reverse("groups:group_create"), {k: v for k, v in payload.items() if v})


def test_the_administrator_creates_a_group_moderates_it_and_invites_the_first_moderators(
    client, db
):
    admin = UserFactory(is_superuser=True, email="admin@example.se")
    client.force_login(admin)

    response = _create(client)

    group = Group.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("groups:settings", args=[group.code])
    assert (group.name, group.description, group.time_zone) == (
        "Tvärgrupp IT",
        "Månadens möte mellan avdelningarna.",
        "Europe/Stockholm",
    )
    assert list(group.moderators.all()) == [admin]
    invitations = Invitation.objects.filter(group=group).order_by("email")
    assert [(i.email, i.full_name, i.role, i.invited_by) for i in invitations] == [
        ("karin@example.se", "Karin Åberg", "moderator", admin),
        ("lars@example.se", "", "moderator", admin),
    ]


def test_the_creator_may_leave_the_moderating_to_others(client, db):
    admin = UserFactory(is_superuser=True)
    client.force_login(admin)
    _create(client, creator_moderates="")
    group = Group.objects.get()
    assert not group.moderators.exists()
    assert Invitation.objects.filter(group=group, role="moderator").count() == 2


def test_naming_oneself_among_the_moderators_makes_one_a_moderator_without_an_invitation(
    client, db
):
    admin = UserFactory(is_superuser=True, email="admin@example.se")
    client.force_login(admin)
    _create(client, creator_moderates="", moderators="Admin <ADMIN@example.se>")
    group = Group.objects.get()
    assert list(group.moderators.all()) == [admin]
    assert not Invitation.objects.exists()


@pytest.mark.parametrize(
    ("data", "field", "error"),
    [
        ({"name": ""}, "name", "Detta fält måste fyllas i."),
        ({"name": "   "}, "name", "Detta fält måste fyllas i."),
        (
            {"name": "x" * 121},
            "name",
            "Säkerställ att detta värde har som mest 120 tecken (den har 121).",
        ),
        (
            {"time_zone": "Mars/Olympus"},
            "time_zone",
            "Välj ett giltigt alternativ. Mars/Olympus finns inte bland tillgängliga alternativ.",
        ),
        (
            {"moderators": "", "creator_moderates": ""},
            "moderators",
            "En grupp behöver en moderator: du själv eller någon du bjuder in.",
        ),
        (
            {"moderators": "Karin Åberg karin-at-example.se"},
            "moderators",
            "Rad 1: ”Karin Åberg karin-at-example.se” har ingen giltig e-postadress.",
        ),
        (
            {"moderators": "karin@example.se\nKarin <Karin@Example.se>"},
            "moderators",
            "karin@example.se står två gånger på listan.",
        ),
    ],
)
def test_creating_a_group_with_bad_input_explains_and_creates_nothing(
    client, db, data, field, error
):
    admin = UserFactory(is_superuser=True)
    client.force_login(admin)
    response = _create(client, description="Beskrivning som inte får försvinna 🙂", **data)
    assert response.status_code == 400
    assert response.context["form"].errors[field] == [error]
    assert "Beskrivning som inte får försvinna 🙂" in response.content.decode()
    assert not Group.objects.exists()
    assert not Invitation.objects.exists()


def test_only_administrators_create_groups(client, world):
    for person in (world.moderator, world.head, world.outsider):
        client.force_login(person)
        assert client.get(reverse("groups:group_create")).status_code == 403
        assert _create(client).status_code == 403
    assert Group.objects.count() == 2


# --- The group's settings ------------------------------------------------------------------


def _settings(world):
    return reverse("groups:settings", args=[world.group.code])


def test_moderator_changes_name_description_time_zone_and_read_ahead(client, world):
    client.force_login(world.moderator)
    response = client.post(
        _settings(world),
        {
            "action": "group",
            "group-name": "  Tvärgrupp Norr  ",
            "group-description": "Ny beskrivning ✨",
            "group-time_zone": "Europe/Helsinki",
        },
    )
    assert response.status_code == 302
    world.group.refresh_from_db()
    assert (
        world.group.name,
        world.group.description,
        world.group.time_zone,
        world.group.allow_read_ahead,
    ) == ("Tvärgrupp Norr", "Ny beskrivning ✨", "Europe/Helsinki", False)


@pytest.mark.parametrize(
    ("data", "field", "error"),
    [
        ({"group-name": ""}, "name", "Detta fält måste fyllas i."),
        (
            {"group-time_zone": "Europe/Atlantis"},
            "time_zone",
            "Välj ett giltigt alternativ. Europe/Atlantis finns inte bland tillgängliga "
            "alternativ.",
        ),
        (
            {"group-status_days_before": "0"},
            "status_days_before",
            "Kontrollera att detta värde är större än eller lika med 1.",
        ),
        (
            {"group-status_days_before": "31"},
            "status_days_before",
            "Kontrollera att detta värde är mindre än eller lika med 30.",
        ),
        ({"group-status_days_before": "fem"}, "status_days_before", "Fyll i ett heltal."),
    ],
)
def test_settings_bad_input_changes_nothing(client, world, data, field, error):
    client.force_login(world.moderator)
    payload = {
        "action": "group",
        "group-name": "Nytt namn",
        "group-description": "Behålls i formuläret",
        "group-time_zone": "Europe/Stockholm",
        "group-allow_read_ahead": "on",
        **data,
    }
    response = client.post(_settings(world), payload)
    assert response.status_code == 400
    assert response.context["group_form"].errors[field] == [error]
    assert "Behålls i formuläret" in response.content.decode()
    world.group.refresh_from_db()
    assert world.group.name == "Tvärgrupp IT"


@pytest.mark.parametrize("size", [2, 20])
def test_settings_page_query_count_is_constant(client, world, django_assert_num_queries, size):
    for n in range(size):
        department = DepartmentFactory(group=world.group, name=f"Avdelning {n}")
        department.heads.add(UserFactory())
        Message.objects.create(
            kind="groups.webhook_test",
            channel="webhook",
            key=f"test-post-{n}",
            address="https://hooks.slack.com/services/x",
            about=world.group,
            payload={"group": world.group.pk},
        )
    department_archive(department=DepartmentFactory(group=world.group, name="Gammal"))
    client.force_login(world.moderator)
    with django_assert_num_queries(5):
        response = client.get(_settings(world))
    assert response.status_code == 200
    assert response.content.decode().count('class="department-row"') == size + 2
    assert len(response.context["page"].archived) == 1
    assert len(response.context["page"].chat_posts) == min(size, 5)


# --- Departments ------------------------------------------------------------------------


def _add(client, world, **data):
    payload = {"name": "Ekonomi", "short_name": "EKO", "colour": "blue", **data}
    return client.post(
        _settings(world),
        {"action": "add_department", **{f"new-{k}": v for k, v in payload.items()}},
    )


def test_moderator_adds_a_department_last_in_the_board_order(client, world):
    client.force_login(world.moderator)
    response = _add(client, world, name=" Ekonomi ", short_name=" EKO ")
    assert response.status_code == 302
    department = world.group.departments.get(name="Ekonomi")
    assert (department.short_name, department.colour, department.position) == ("EKO", "blue", 1)
    assert [d.short_name for d in world.group.departments.order_by("position", "name")] == [
        "HR",
        "IT",
        "EKO",
    ]


@pytest.mark.parametrize(
    ("data", "field", "error"),
    [
        ({"name": "hr"}, "name", "Gruppen har redan en avdelning som heter hr."),
        (
            {"short_name": "it"},
            "short_name",
            "En annan avdelning i gruppen har redan kortnamnet it.",
        ),
        ({"colour": "pink"}, "colour", "Välj en av tavlans färger."),
        ({"name": ""}, "name", "Detta fält måste fyllas i."),
        ({"short_name": "   "}, "short_name", "Detta fält måste fyllas i."),
        (
            {"short_name": "ABCDEFGHIJKLM"},
            "short_name",
            "Säkerställ att detta värde har som mest 12 tecken (den har 13).",
        ),
    ],
)
def test_adding_a_department_with_bad_input_explains_and_adds_nothing(
    client, world, data, field, error
):
    client.force_login(world.moderator)
    response = _add(client, world, **data)
    assert response.status_code == 400
    assert response.context["department_form"].errors[field] == [error]
    assert world.group.departments.count() == 2


def test_a_department_name_may_repeat_in_another_group(client, world):
    assert world.other_group.departments.filter(name="Ekonomi", short_name="EKO").exists()
    client.force_login(world.moderator)
    assert _add(client, world).status_code == 302


def test_moderator_renames_and_recolours_a_department(client, world):
    client.force_login(world.moderator)
    url = reverse("groups:department_edit", args=[world.group.code, world.hr.code])
    page = client.get(url).content.decode()
    # The palette as swatches, each with its name and the short name as on the board.
    assert page.count('class="dept-badge dept-') == 8
    assert "Blågrön" in page
    response = client.post(
        url,
        {
            "department-name": "Personal",
            "department-short_name": "PERS",
            "department-colour": "vermilion",
        },
    )
    assert response.status_code == 302
    world.hr.refresh_from_db()
    assert (world.hr.name, world.hr.short_name, world.hr.colour) == (
        "Personal",
        "PERS",
        "vermilion",
    )


def test_renaming_a_department_to_another_ones_name_is_refused(client, world):
    client.force_login(world.moderator)
    url = reverse("groups:department_edit", args=[world.group.code, world.hr.code])
    response = client.post(
        url,
        {"department-name": "It", "department-short_name": "HR", "department-colour": "orange"},
    )
    assert response.status_code == 400
    assert response.context["form"].errors["name"] == [
        "Gruppen har redan en avdelning som heter It."
    ]
    world.hr.refresh_from_db()
    assert world.hr.name == "HR"


def test_departments_are_reordered_by_a_list_of_codes_and_by_steps(client, world):
    eko = DepartmentFactory(group=world.group, name="Ekonomi", short_name="EKO", position=2)
    client.force_login(world.moderator)
    order = ",".join([eko.code, world.hr.code, world.it.code])
    response = client.post(
        _settings(world), {"action": "reorder", "order": order}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert response.content.decode().lstrip().startswith('<section id="departments"')

    def board_order():
        return [d.short_name for d in world.group.departments.order_by("position")]

    assert board_order() == ["EKO", "HR", "IT"]
    client.post(_settings(world), {"action": "down", "department": eko.code})
    assert board_order() == ["HR", "EKO", "IT"]
    client.post(_settings(world), {"action": "up", "department": world.hr.code})
    assert board_order() == ["HR", "EKO", "IT"]  # already first


def test_a_stale_or_foreign_order_is_refused(client, world):
    foreign = DepartmentFactory(group=world.other_group)
    client.force_login(world.moderator)
    response = client.post(
        _settings(world),
        {"action": "reorder", "order": f"{foreign.code},{world.hr.code}"},
        follow=True,
    )
    assert "Listan med avdelningar har ändrats; ladda om sidan." in response.content.decode()
    assert [d.short_name for d in world.group.departments.order_by("position", "name")] == [
        "HR",
        "IT",
    ]


def test_an_archived_department_gets_no_invitations_or_post_it_links_and_keeps_its_history(
    client, world
):
    topic = TopicFactory(meeting=world.meeting, department=world.hr, title="HR:s historia")
    ContributionFactory(topic=topic, department=world.hr)
    client.force_login(world.moderator)
    response = client.post(_settings(world), {"action": "archive", "department": world.hr.code})
    assert response.status_code == 302
    world.hr.refresh_from_db()
    assert world.hr.archived

    planned = MeetingFactory(group=world.group, status=MeetingStatus.PLANNED)
    meeting_open(meeting=planned)
    invited = set(Attendance.objects.filter(meeting=planned).values_list("user__email", flat=True))
    assert "head@example.se" not in invited
    # The head of HR now only reads the group; the post-it form offers no department.
    client.force_login(world.head)
    assert client.get(world.group.get_absolute_url()).status_code == 200
    assert client.get(reverse("topics:postit", args=[planned.code])).status_code == 403
    # History stays.
    assert Topic.objects.get(pk=topic.pk).department == world.hr
    page = client.get(world.meeting.get_absolute_url()).content.decode()
    assert "HR:s historia" in page


def test_archiving_withdraws_unused_invitations_to_head_the_department(world):
    from groups.services import invitation_create

    invitation = invitation_create(
        group=world.group,
        invited_by=world.moderator,
        email="ny@example.se",
        role="head",
        department=world.hr,
    )
    department_archive(department=world.hr)
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    assert not invitation.is_usable


def test_an_archived_department_can_be_restored(client, world):
    department_archive(department=world.hr)
    client.force_login(world.moderator)
    client.post(_settings(world), {"action": "restore", "department": world.hr.code})
    world.hr.refresh_from_db()
    assert not world.hr.archived
    assert [d.short_name for d in world.group.departments.active().order_by("position")] == [
        "IT",
        "HR",
    ]


def test_a_department_without_post_its_is_deleted_after_confirmation(client, world):
    empty = DepartmentFactory(group=world.group, name="Tomma avdelningen", short_name="TOM")
    empty.heads.add(world.head)
    client.force_login(world.moderator)
    url = reverse("groups:department_delete", args=[world.group.code, empty.code])
    page = client.get(url)
    assert "Ja, ta bort den" in page.content.decode()
    assert Department.objects.filter(pk=empty.pk).exists()  # asking changes nothing

    response = client.post(url)
    assert response.status_code == 302
    assert not Department.objects.filter(pk=empty.pk).exists()
    assert world.hr.heads.filter(pk=world.head.pk).exists()


def test_a_department_with_post_its_cannot_be_deleted_only_archived(client, world):
    TopicFactory(meeting=world.meeting, department=world.hr)
    client.force_login(world.moderator)
    url = reverse("groups:department_delete", args=[world.group.code, world.hr.code])
    page = client.get(url).content.decode()
    assert "kan därför inte tas bort" in page
    assert "Ja, ta bort den" not in page

    response = client.post(url, follow=True)
    assert "HR har lappar eller annan historik och kan inte tas bort" in response.content.decode()
    assert Department.objects.filter(pk=world.hr.pk).exists()


def test_a_department_with_only_ideas_attributed_to_it_is_not_deleted_either(client, world):
    quiet = DepartmentFactory(group=world.group, name="Tyst", short_name="TYST")
    topic = TopicFactory(meeting=world.meeting, department=world.hr)
    idea = ContributionFactory(topic=topic, department=quiet)
    client.force_login(world.moderator)
    client.post(reverse("groups:department_delete", args=[world.group.code, quiet.code]))
    assert Department.objects.filter(pk=quiet.pk).exists()
    idea.refresh_from_db()
    assert idea.department == quiet


def test_another_groups_department_is_not_found(client, world):
    foreign = DepartmentFactory(group=world.other_group)
    client.force_login(world.moderator)
    url = reverse("groups:department_edit", args=[world.group.code, foreign.code])
    assert client.get(url).status_code == 404
    response = client.post(_settings(world), {"action": "archive", "department": foreign.code})
    assert response.status_code == 404
    foreign.refresh_from_db()
    assert not foreign.archived


def test_the_days_before_the_status_request_are_set_on_the_settings_page(client, world):
    client.force_login(world.moderator)
    data = {
        "action": "group",
        "group-name": world.group.name,
        "group-time_zone": "Europe/Stockholm",
        "group-status_days_before": "7",
    }
    assert client.post(_settings(world), data).status_code == 302
    world.group.refresh_from_db()
    assert world.group.status_days_before == 7
