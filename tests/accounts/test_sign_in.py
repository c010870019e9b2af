from django.urls import reverse

from outbox.models import Message, MessageStatus, Priority
from tests.conftest import send_outbox, text_body
from tests.factories import UserFactory


def test_sign_in_with_email_and_password(client, db):
    UserFactory(email="karin@example.se", full_name="Karin Åberg", password="rätt-lösen-123")
    response = client.post(
        reverse("account_login"), {"login": "KARIN@example.se", "password": "rätt-lösen-123"}
    )
    assert response.status_code == 302
    assert response.url == reverse("meetings:home")
    assert "Välkommen, Karin" in client.get(response.url).content.decode()


def test_wrong_password_is_refused_with_a_message_and_keeps_the_address(client, db):
    UserFactory(email="karin@example.se", password="rätt-lösen-123")
    response = client.post(
        reverse("account_login"), {"login": "karin@example.se", "password": "fel"}
    )
    assert response.status_code == 200
    content = response.content.decode()
    assert 'value="karin@example.se"' in content
    assert "Epost-adressen och/eller lösenordet är felaktigt." in content
    assert "_auth_user_id" not in client.session


def test_sign_in_code_is_mailed_and_signs_in(client, db, mailbox):
    UserFactory(email="maria@example.se", full_name="Maria Lindqvist")
    response = client.post(reverse("account_request_login_code"), {"email": "maria@example.se"})
    assert response.status_code == 302
    # The code waits in the outbox, ahead of everything else, until a worker sends it.
    queued = Message.objects.get()
    assert (queued.kind, queued.address, queued.priority) == (
        "accounts.login_code",
        "maria@example.se",
        Priority.URGENT,
    )
    assert send_outbox() == 1
    [message] = mailbox.messages
    queued.refresh_from_db()
    assert (queued.status, queued.payload) == (MessageStatus.SENT, {})  # the code is gone
    code = next(
        line.strip()
        for line in text_body(message).splitlines()
        if "-" in line.strip() and len(line.strip()) == 9
    )
    response = client.post(reverse("account_confirm_login_code"), {"code": code})
    assert response.status_code == 302
    assert "Välkommen, Maria" in client.get(reverse("meetings:home")).content.decode()


def test_sign_up_is_closed_people_join_by_invitation(client, db):
    response = client.post(
        reverse("account_signup"),
        {"email": "ny@example.se", "password1": "x-Lösen-12345", "password2": "x-Lösen-12345"},
    )
    assert "Anmälan stängd" in response.content.decode()
    from accounts.models import User

    assert not User.objects.filter(email="ny@example.se").exists()


def test_password_reset_mails_a_link(client, db, mailbox):
    UserFactory(email="karin@example.se")
    response = client.post(reverse("account_reset_password"), {"email": "karin@example.se"})
    assert response.status_code == 302
    assert send_outbox() == 1
    [message] = mailbox.messages
    assert Message.objects.get().kind == "accounts.account_email"
    assert "/accounts/password/reset/key/" in text_body(message)


def test_sign_out_needs_post_and_ends_the_session(client, db):
    client.force_login(UserFactory())
    response = client.post(reverse("account_logout"))
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session
