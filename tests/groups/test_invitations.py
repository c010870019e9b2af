import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from groups.models import Invitation, MemberRole
from groups.services import invitation_accept, invitation_create
from tests.conftest import header, html_body, send_outbox, text_body


def _post(client, world, **data):
    """The members page's form for one person (its fields carry the prefix `invite-`)."""
    payload = {"email": "ny@example.se", "full_name": "", "role": "participant", "language": "sv"}
    payload.update(data)
    payload = {f"invite-{name}": value for name, value in payload.items()}
    return client.post(
        reverse("groups:members", args=[world.group.code]), {"action": "invite", **payload}
    )


def test_moderator_invites_a_department_head(client, world):
    client.force_login(world.moderator)
    response = _post(
        client, world, email="Johan.Ek@Example.se", role="head", department=world.hr.code
    )
    assert response.status_code == 302
    invitation = Invitation.objects.get()
    assert (invitation.email, invitation.role, invitation.department) == (
        "johan.ek@example.se",
        "head",
        world.hr,
    )
    assert invitation.invited_by == world.moderator


@pytest.mark.parametrize(
    ("data", "field", "error"),
    [
        ({"email": ""}, "email", "Detta fält måste fyllas i."),
        ({"email": "inte-en-adress"}, "email", "Fyll i en giltig e-postadress."),
        (
            {"email": "a" * 250 + "@example.se"},
            "email",
            "Säkerställ att detta värde har som mest 254 tecken (den har 261).",
        ),
        (
            {"full_name": "Å" * 151},
            "full_name",
            "Säkerställ att detta värde har som mest 150 tecken (den har 151).",
        ),
        (
            {"role": "king"},
            "role",
            "Välj ett giltigt alternativ. king finns inte bland tillgängliga alternativ.",
        ),
        ({"role": "head"}, "department", "Välj den avdelning som personen är chef för."),
    ],
)
def test_invitation_form_bad_input_shows_field_error_and_keeps_input(
    client, world, data, field, error
):
    client.force_login(world.moderator)
    data = {"full_name": "Åsa Öberg 🎉 <script>alert(1)</script>", **data}
    response = _post(client, world, **data)
    assert response.status_code == 400
    assert response.context["invite_form"].errors[field] == [error]
    content = response.content.decode()
    if field != "full_name":
        assert 'value="Åsa Öberg 🎉 &lt;script&gt;alert(1)&lt;/script&gt;"' in content
    assert "<script>alert(1)</script>" not in content
    assert not Invitation.objects.exists()


def test_department_of_another_group_is_refused(client, world):
    from tests.factories import DepartmentFactory

    foreign = DepartmentFactory(group=world.other_group)
    client.force_login(world.moderator)
    response = _post(client, world, role="head", department=foreign.code)
    assert response.status_code == 400
    assert "department" in response.context["invite_form"].errors
    assert not Invitation.objects.exists()


def test_a_new_invitation_is_listed_on_the_members_page(client, world):
    client.force_login(world.moderator)
    _post(client, world, email="ny@example.se", role="moderator", language="en")
    response = client.get(reverse("groups:members", args=[world.group.code]))
    assert response.status_code == 200
    [invitation] = response.context["page"].invitations
    assert (invitation.email, invitation.role, invitation.language) == (
        "ny@example.se",
        "moderator",
        "en",
    )
    content = response.content.decode()
    assert "En inbjudan är på väg till ny@example.se." in content
    assert 'id="invitation-' in content


def test_invitation_email_in_the_invitees_language(world, mailbox):
    invitation = invitation_create(
        group=world.group,
        invited_by=world.moderator,
        email="new@example.com",
        role=MemberRole.PARTICIPANT,
        full_name="New\nPerson",
        language="en",
    )
    assert send_outbox() == 1
    assert send_outbox() == 0  # never twice
    [message] = mailbox.messages
    invitation.refresh_from_db()
    assert invitation.sent_at is not None
    assert header(message, "Subject") == "[Tvärgrupp] You are invited to Tvärgrupp IT"
    assert "Karin Åberg invites you to Tvärgrupp IT as Participant." in text_body(message)
    assert f"http://127.0.0.1:8000/invitations/{invitation.key}/" in html_body(message)


def test_names_with_line_breaks_never_reach_a_header(world, mailbox):
    world.group.name = "Grupp\r\nBcc: evil@example.com"
    world.group.save()
    invitation_create(
        group=world.group,
        invited_by=world.moderator,
        email="x@example.com",
        role=MemberRole.PARTICIPANT,
    )
    send_outbox()
    [message] = mailbox.messages
    assert (
        header(message, "Subject") == "[Tvärgrupp] Du är inbjuden till Grupp Bcc: evil@example.com"
    )
    assert message["Bcc"] is None


def test_accepting_creates_the_person_signs_them_in_and_gives_the_role(client, world):
    invitation = invitation_create(
        group=world.group,
        invited_by=world.moderator,
        email="johan@example.se",
        role=MemberRole.HEAD,
        department=world.it,
        language="en",
    )
    url = reverse("groups:invitation_accept", args=[invitation.key])
    assert "Johan" not in client.get(url).content.decode()
    response = client.post(url, {"full_name": "  Johan Ek  "})
    assert response.status_code == 302
    assert response.url == world.group.get_absolute_url()
    user = User.objects.get(email="johan@example.se")
    assert (user.full_name, user.language, user.has_usable_password()) == ("Johan Ek", "en", False)
    assert list(world.it.heads.all()) == [user]
    assert client.get(response.url).context["user"] == user


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("", "This field is required."),
        ("Å" * 151, "Ensure this value has at most 150 characters (it has 151)."),
    ],
)
def test_accept_form_bad_input(client, world, name, error):
    invitation = invitation_create(
        group=world.group,
        invited_by=world.moderator,
        email="johan@example.se",
        role=MemberRole.PARTICIPANT,
        language="en",
    )
    client.cookies["tvargrupp_language"] = "en"
    response = client.post(
        reverse("groups:invitation_accept", args=[invitation.key]), {"full_name": name}
    )
    assert response.status_code == 400
    assert response.context["form"].errors["full_name"] == [error]
    assert not User.objects.filter(email="johan@example.se").exists()


def test_accept_keeps_html_and_emoji_as_text(client, world):
    invitation = invitation_create(
        group=world.group,
        invited_by=world.moderator,
        email="johan@example.se",
        role=MemberRole.PARTICIPANT,
    )
    client.post(
        reverse("groups:invitation_accept", args=[invitation.key]), {"full_name": "<b>Jöhan</b> 🚀"}
    )
    assert User.objects.get(email="johan@example.se").full_name == "<b>Jöhan</b> 🚀"
    content = client.get(world.group.get_absolute_url()).content.decode()
    assert "&lt;b&gt;Jöhan&lt;/b&gt; 🚀" in content


def test_existing_person_accepting_keeps_their_account(world):
    invitation = invitation_create(
        group=world.group,
        invited_by=world.moderator,
        email="OUTSIDER@example.se",
        role=MemberRole.MODERATOR,
    )
    user = invitation_accept(key=invitation.key, full_name="")
    assert user == world.outsider
    assert user.full_name == "Utom Stående"
    assert world.group.moderators.filter(pk=user.pk).exists()


def test_expired_invitation_is_refused(client, world):
    invitation = invitation_create(
        group=world.group,
        invited_by=world.moderator,
        email="late@example.se",
        role=MemberRole.PARTICIPANT,
    )
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now())
    with pytest.raises(ValidationError):
        invitation_accept(key=invitation.key, full_name="Sen")
    response = client.get(reverse("groups:invitation_accept", args=[invitation.key]))
    assert response.status_code == 410
    assert "Inbjudan gäller inte längre" in response.content.decode()
