"""The members page: who is in the group in which role, and changing that."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from groups.forms import parse_person
from groups.models import Invitation, MemberRole
from groups.services import department_archive, invitation_create, member_remove
from meetings.models import Attendance, MeetingStatus, NoticeKind
from meetings.services import notices_queue
from tests.conftest import notices, send_outbox
from tests.factories import (
    AttendanceFactory,
    ContributionFactory,
    DepartmentFactory,
    MeetingFactory,
    TopicFactory,
    UserFactory,
)
from topics.models import Contribution, Topic, TopicStatus


def _members(world):
    return reverse("groups:members", args=[world.group.code])


def _edit(world, user):
    return reverse("groups:member_edit", args=[world.group.code, user.code])


def _remove(world, user):
    return reverse("groups:member_remove", args=[world.group.code, user.code])


# --- The list --------------------------------------------------------------------------


def test_members_page_lists_everyone_with_role_departments_language_and_pending_invitations(
    client, world
):
    world.it.heads.add(world.head)  # heads two departments
    world.head.language = "en"
    world.head.save()
    eko = DepartmentFactory(group=world.group, name="Ekonomi", short_name="EKO")
    old_head = UserFactory(full_name="Olle Gammal", email="olle@example.se")
    eko.heads.add(old_head)
    department_archive(department=eko)
    invitation_create(
        group=world.group,
        invited_by=world.moderator,
        email="ny@example.se",
        role=MemberRole.HEAD,
        department=world.hr,
    )
    expired = invitation_create(
        group=world.group, invited_by=world.moderator, email="sen@example.se", role="participant"
    )
    Invitation.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(days=1))
    client.force_login(world.moderator)

    response = client.get(_members(world))

    page = response.context["page"]
    assert [
        (m.user.email, m.role, [d.short_name for d in m.departments]) for m in page.members
    ] == [
        ("it-roll@example.se", "it", []),
        ("moderator@example.se", "moderator", []),
        ("head@example.se", "head", ["HR", "IT"]),
        ("olle@example.se", "participant", ["EKO"]),
        ("participant@example.se", "participant", []),
    ]
    assert [i.email for i in page.invitations] == ["sen@example.se", "ny@example.se"]
    content = response.content.decode()
    assert "Avdelningschef" in content
    assert "English" in content
    assert "ledde: Ekonomi (arkiverad)" in content
    assert "gick ut" in content
    assert "utom" not in content.lower()  # nobody from another group


@pytest.mark.parametrize("size", [2, 20])
def test_members_page_query_count_is_constant(client, world, django_assert_num_queries, size):
    for n in range(size):
        department = DepartmentFactory(group=world.group, name=f"Avd {n}")
        department.heads.add(UserFactory())
        world.group.participants.add(UserFactory())
        invitation_create(
            group=world.group,
            invited_by=world.moderator,
            email=f"ny{n}@example.se",
            role="head",
            department=department,
        )
    client.force_login(world.moderator)
    with django_assert_num_queries(11):  # one per role's table
        response = client.get(_members(world))
    assert response.status_code == 200
    assert len(response.context["page"].members) == 2 * size + 4  # and world's four
    assert len(response.context["page"].invitations) == size


def test_the_invitation_forms_offer_department_head_first_never_moderator(client, world):
    client.force_login(world.moderator)
    response = client.get(_members(world))
    assert response.context["invite_form"]["role"].value() == MemberRole.HEAD
    assert response.context["list_form"]["role"].value() == MemberRole.HEAD
    content = response.content.decode()
    assert '<option value="head" selected>' in content
    assert '<option value="moderator" selected>' not in content


# --- Roles -------------------------------------------------------------------------


def test_a_participant_becomes_head_of_hr(client, world):
    client.force_login(world.moderator)
    response = client.post(
        _edit(world, world.participant), {"role": "head", "departments": [world.hr.code]}
    )
    assert response.status_code == 302
    assert world.hr.heads.filter(pk=world.participant.pk).exists()
    assert not world.group.participants.filter(pk=world.participant.pk).exists()


def test_a_head_moves_from_hr_to_it(client, world):
    client.force_login(world.moderator)
    client.post(_edit(world, world.head), {"role": "head", "departments": [world.it.code]})
    assert list(world.head.headed_departments.all()) == [world.it]


def test_a_moderator_becomes_head_when_another_moderator_remains(client, world):
    world.group.moderators.add(world.admin)
    client.force_login(world.moderator)
    client.post(_edit(world, world.moderator), {"role": "head", "departments": [world.it.code]})
    assert not world.group.moderators.filter(pk=world.moderator.pk).exists()
    assert world.it.heads.filter(pk=world.moderator.pk).exists()


def test_a_moderator_may_also_head_a_department(client, world):
    client.force_login(world.moderator)
    client.post(
        _edit(world, world.moderator), {"role": "moderator", "departments": [world.it.code]}
    )
    assert world.group.moderators.filter(pk=world.moderator.pk).exists()
    assert world.it.heads.filter(pk=world.moderator.pk).exists()


@pytest.mark.parametrize(
    ("data", "field", "error"),
    [
        ({"role": "head"}, "departments", "Välj de avdelningar som personen är chef för."),
        (
            {"role": "participant", "departments": ["HR"]},
            "departments",
            "En deltagare leder ingen avdelning; välj rollen avdelningschef.",
        ),
        (
            {"role": "king"},
            "role",
            "Välj ett giltigt alternativ. king finns inte bland tillgängliga alternativ.",
        ),
        (
            {"role": "head", "departments": ["nosuchcode"]},
            "departments",
            "Välj ett giltigt alternativ. nosuchcode finns inte bland tillgängliga alternativ.",
        ),
    ],
)
def test_changing_a_role_with_bad_input_changes_nothing(client, world, data, field, error):
    data = {
        **data,
        "departments": [world.hr.code if d == "HR" else d for d in data.get("departments", [])],
    }
    client.force_login(world.moderator)
    response = client.post(_edit(world, world.head), data)
    assert response.status_code == 400
    assert response.context["form"].errors[field] == [error]
    assert list(world.head.headed_departments.all()) == [world.hr]


def test_the_last_moderator_cannot_give_up_the_role(client, world):
    client.force_login(world.moderator)
    response = client.post(_edit(world, world.moderator), {"role": "participant"}, follow=True)
    assert response.status_code == 400
    assert response.context["form"].non_field_errors() == [
        "Karin Åberg är gruppens enda moderator. Gör någon annan till moderator först."
    ]
    assert world.group.moderators.filter(pk=world.moderator.pk).exists()
    assert not world.group.participants.filter(pk=world.moderator.pk).exists()


def test_an_archived_department_is_not_offered_to_heads(client, world):
    department_archive(department=world.it)
    client.force_login(world.moderator)
    response = client.post(
        _edit(world, world.head), {"role": "head", "departments": [world.it.code]}
    )
    assert response.status_code == 400
    assert list(world.head.headed_departments.all()) == [world.hr]


def test_someone_outside_the_group_is_not_found(client, world):
    client.force_login(world.moderator)
    assert client.get(_edit(world, world.outsider)).status_code == 404
    assert client.post(_remove(world, world.outsider)).status_code == 404


# --- Removing ------------------------------------------------------------------------


def test_removing_a_head_keeps_their_post_its_and_ideas_and_takes_them_off_coming_meetings(
    client, world
):
    past = MeetingFactory(
        group=world.group,
        status=MeetingStatus.SUMMARY_SENT,
        starts_at=timezone.now() - timedelta(days=30),
    )
    topic = TopicFactory(meeting=past, department=world.hr, author=world.head, title="Gammal lapp")
    idea = ContributionFactory(topic=topic, author=world.head, department=world.hr)
    AttendanceFactory(meeting=past, user=world.head, present=True)
    AttendanceFactory(meeting=world.meeting, user=world.head, department=world.hr)
    notices_queue(meeting=world.meeting, users=[world.head], kind=NoticeKind.REMINDER_7)
    client.force_login(world.moderator)

    assert "Ja, ta bort" in client.get(_remove(world, world.head)).content.decode()
    response = client.post(_remove(world, world.head), follow=True)

    assert "Maria Lindqvist är inte längre med i gruppen." in response.content.decode()
    assert not world.hr.heads.filter(pk=world.head.pk).exists()
    assert Topic.objects.get(pk=topic.pk).author == world.head
    assert Contribution.objects.get(pk=idea.pk).author == world.head
    assert Attendance.objects.filter(user=world.head, meeting=past, present=True).exists()
    assert not Attendance.objects.filter(user=world.head, meeting=world.meeting).exists()
    assert not notices(world.meeting).filter(recipient=world.head).exists()
    client.force_login(world.head)
    assert client.get(world.group.get_absolute_url()).status_code == 404
    assert client.get(world.meeting.get_absolute_url()).status_code == 404
    assert client.get(past.get_absolute_url()).status_code == 200  # they took part


def test_removing_a_head_whose_post_it_is_a_draft_says_so_and_keeps_the_draft(client, world):
    draft = TopicFactory(
        meeting=world.meeting,
        department=world.hr,
        author=world.head,
        title="Halvfärdig lapp",
        goal="Text som inte får försvinna",
        status=TopicStatus.DRAFT,
        submitted_at=None,
    )
    client.force_login(world.moderator)

    page = client.get(_remove(world, world.head)).content.decode()
    assert "Utkastet till lappen ”Halvfärdig lapp”" in page
    assert "Det stannar hos HR" in page

    response = client.post(_remove(world, world.head), follow=True)
    assert "Utkastet till lappen ”Halvfärdig lapp”" in response.content.decode()
    draft.refresh_from_db()
    assert (draft.status, draft.author, draft.department, draft.goal) == (
        TopicStatus.DRAFT,
        world.head,
        world.hr,
        "Text som inte får försvinna",
    )
    # The department's moderator can still finish it.
    client.force_login(world.moderator)
    form = client.get(
        reverse("topics:postit", args=[world.meeting.code]) + f"?department={world.hr.code}"
    )
    assert "Text som inte får försvinna" in form.content.decode()


def test_the_last_moderator_cannot_be_removed(client, world):
    client.force_login(world.moderator)
    response = client.post(_remove(world, world.moderator), follow=True)
    assert (
        "Karin Åberg är gruppens enda moderator. Gör någon annan till moderator först."
        in response.content.decode()
    )
    assert world.group.moderators.filter(pk=world.moderator.pk).exists()


def test_removing_withdraws_the_persons_unused_invitations(world):
    world.group.moderators.add(world.admin)
    invitation = invitation_create(
        group=world.group,
        invited_by=world.admin,
        email="ny@example.se",
        role="participant",
    )
    person = UserFactory(email="NY@example.se")
    world.group.participants.add(person)
    member_remove(group=world.group, user=person)
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None


# --- Invitations: resend, withdraw ------------------------------------------------------


def test_resending_an_expired_invitation_makes_it_valid_for_two_more_weeks(client, world):
    invitation = invitation_create(
        group=world.group, invited_by=world.moderator, email="ny@example.se", role="participant"
    )
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - timedelta(days=1), sent_at=timezone.now() - timedelta(days=15)
    )
    client.force_login(world.moderator)
    response = client.post(
        _members(world), {"action": "resend", "invitation": invitation.pk}, follow=True
    )
    assert "Inbjudan till ny@example.se är skickad igen." in response.content.decode()
    invitation.refresh_from_db()
    assert invitation.sent_at is None  # set again once the outbox has sent it
    assert invitation.expires_at > timezone.now() + timedelta(days=13)
    assert invitation.is_usable


def test_resend_sends_the_email_again_over_smtp(world, mailbox):
    from groups.services import invitation_resend
    from outbox.models import Message

    invitation = invitation_create(
        group=world.group, invited_by=world.moderator, email="ny@example.se", role="participant"
    )
    assert send_outbox() == 1
    invitation_resend(invitation=invitation)
    assert send_outbox() == 1
    assert send_outbox() == 0
    assert [m["To"] for m in mailbox.messages] == ["ny@example.se", "ny@example.se"]
    # Two messages in the outbox: each send is its own row, with its own state.
    assert list(Message.objects.values_list("kind", "status")) == [
        ("groups.invitation", "sent"),
        ("groups.invitation", "sent"),
    ]


def test_a_withdrawn_invitation_is_not_sent(world, mailbox):
    from groups.services import invitation_revoke
    from outbox.models import Message

    invitation = invitation_create(
        group=world.group, invited_by=world.moderator, email="ny@example.se", role="participant"
    )
    invitation_revoke(invitation=invitation)

    assert send_outbox() == 0

    assert mailbox.messages == []
    assert Message.objects.get().last_error == (
        "Nothing to send any more: the invitation was used or withdrawn"
    )


def test_a_withdrawn_invitation_no_longer_works(client, world):
    invitation = invitation_create(
        group=world.group, invited_by=world.moderator, email="ny@example.se", role="participant"
    )
    client.force_login(world.moderator)
    client.post(_members(world), {"action": "revoke", "invitation": invitation.pk})
    client.logout()
    response = client.get(reverse("groups:invitation_accept", args=[invitation.key]))
    assert response.status_code == 410
    assert "Inbjudan har återkallats." in response.content.decode()
    response = client.post(
        reverse("groups:invitation_accept", args=[invitation.key]), {"full_name": "Ny"}
    )
    assert response.status_code == 410
    assert not world.group.participants.filter(email="ny@example.se").exists()


def test_another_groups_invitation_cannot_be_touched(client, world):
    foreign = invitation_create(
        group=world.other_group, invited_by=world.outsider, email="x@example.se", role="participant"
    )
    client.force_login(world.moderator)
    response = client.post(_members(world), {"action": "revoke", "invitation": foreign.pk})
    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.revoked_at is None


# --- Inviting many at once --------------------------------------------------------------


def _paste(client, world, text, role="head", language="sv"):
    return client.post(
        _members(world),
        {
            "action": "invite_list",
            "list-people": text,
            "list-role": role,
            "list-language": language,
        },
    )


FIVE = """Maria Berg <maria.berg@example.se>, HR
Johan Ek <johan.ek@example.se>, it
Sara Nyström\tsara@example.se\tHR
erik@example.se; IT

Aisha Karimi <AISHA@example.se>, hr
"""


def test_five_pasted_lines_become_five_invitations(client, world):
    client.force_login(world.moderator)
    response = _paste(client, world, FIVE)
    assert response.status_code == 302
    invitations = Invitation.objects.filter(group=world.group).order_by("email")
    assert [(i.email, i.full_name, i.role, i.department.short_name) for i in invitations] == [
        ("aisha@example.se", "Aisha Karimi", "head", "HR"),
        ("erik@example.se", "", "head", "IT"),
        ("johan.ek@example.se", "Johan Ek", "head", "IT"),
        ("maria.berg@example.se", "Maria Berg", "head", "HR"),
        ("sara@example.se", "Sara Nyström", "head", "HR"),
    ]


def test_participants_can_be_pasted_without_departments(client, world):
    client.force_login(world.moderator)
    _paste(client, world, "Per <per@example.se>\nanna@example.se", role="participant")
    assert sorted(Invitation.objects.values_list("email", "role")) == [
        ("anna@example.se", "participant"),
        ("per@example.se", "participant"),
    ]


def test_a_pasted_list_with_bad_lines_names_each_and_invites_nobody(client, world):
    department_archive(department=world.it)
    invitation_create(
        group=world.group, invited_by=world.moderator, email="vantar@example.se", role="participant"
    )
    text = "\n".join(
        [
            "Maria Berg <maria.berg@example.se>, HR",  # 1: fine
            "Johan Ek johan-at-example.se, HR",  # 2: no address
            "Sara <sara@example.se>, Personal",  # 3: unknown department
            "Erik <erik@example.se>",  # 4: a head without department
            "Maria igen <MARIA.BERG@example.se>, HR",  # 5: twice
            "Karin <moderator@example.se>, HR",  # 6: already a member
            "vantar@example.se, HR",  # 7: already invited
            "Ivar <ivar@example.se>, IT",  # 8: archived
        ]
    )
    client.force_login(world.moderator)
    response = _paste(client, world, text)
    assert response.status_code == 400
    assert response.context["list_form"].errors["people"] == [
        "Rad 2: ”Johan Ek johan-at-example.se, HR” har ingen giltig e-postadress.",
        "Rad 3: det finns ingen avdelning ”Personal” (gruppen har: HR).",
        "Rad 4: vilken avdelning är erik@example.se chef för? Skriv den efter ett "
        "kommatecken, t.ex. ”erik@example.se, HR”.",
        "Rad 5: maria.berg@example.se står också på rad 1.",
        "Rad 6: moderator@example.se är redan med i gruppen (Moderator); ändra rollen i "
        "medlemslistan i stället.",
        "Rad 7: vantar@example.se har redan en inbjudan; skicka den igen från listan i stället.",
        "Rad 8: IT är arkiverad.",
    ]
    # What was typed is kept; nobody was invited.
    assert "Ivar &lt;ivar@example.se&gt;, IT" in response.content.decode()
    assert list(Invitation.objects.values_list("email", flat=True)) == ["vantar@example.se"]


def test_a_department_for_a_participant_is_an_error(client, world):
    client.force_login(world.moderator)
    response = _paste(client, world, "Per <per@example.se>, HR", role="participant")
    assert response.context["list_form"].errors["people"] == [
        "Rad 1: bara avdelningschefer hör till en avdelning; ta bort ”HR” eller välj rollen "
        "avdelningschef."
    ]
    assert not Invitation.objects.exists()


def test_an_empty_list_is_an_error(client, world):
    client.force_login(world.moderator)
    response = _paste(client, world, "\n  \n")
    assert response.context["list_form"].errors["people"] == ["Detta fält måste fyllas i."]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Maria Lindqvist <maria@example.se>, HR", ("Maria Lindqvist", "maria@example.se", "HR")),
        ('"Lindqvist, Maria" <maria@example.se>', ("Lindqvist  Maria", "maria@example.se", "")),
        ("maria@example.se, HR", ("", "maria@example.se", "HR")),
        ("Maria Lindqvist\tmaria@example.se\tHR", ("Maria Lindqvist", "maria@example.se", "HR")),
        (
            "Maria Lindqvist; maria@example.se; Ekonomi",
            ("Maria Lindqvist", "maria@example.se", "Ekonomi"),
        ),
        ("bara text", ("", "", "bara text")),
    ],
)
def test_a_pasted_line_is_read_as_name_address_and_department(line, expected):
    assert parse_person(line) == expected
