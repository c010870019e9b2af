"""Each real part of the stack, proven once; later tests reuse these fixtures."""

import re

import pytest
from django.core.mail import send_mail
from django.db import transaction

from groups.models import Invitation, MemberRole
from groups.services import invitation_create
from tests.conftest import header, html_body, text_body, wait_until
from tests.factories import DepartmentFactory, GroupFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.worker
def test_worker_sends_invitation_enqueued_by_service_after_commit(celery_worker, mailbox):
    group = GroupFactory(name="Tvärgrupp Åre")
    department = DepartmentFactory(group=group, name="Ekonomi", short_name="EKO")
    moderator = UserFactory(full_name="Karin Åberg", email="karin@example.se")

    with transaction.atomic():
        invitation = invitation_create(
            group=group,
            invited_by=moderator,
            email="Johan.Ek@Example.se",
            role=MemberRole.HEAD,
            department=department,
            language="sv",
        )
        # Nothing is enqueued before the transaction commits.
        assert Invitation.objects.get(pk=invitation.pk).sent_at is None

    [message] = mailbox.wait_for(1)
    assert header(message, "To") == "johan.ek@example.se"
    assert header(message, "Subject") == "[Tvärgrupp] Du är inbjuden till Tvärgrupp Åre"
    assert header(message, "Reply-To") == "karin@example.se"
    assert f"/invitations/{invitation.key}/" in text_body(message)
    assert f"/invitations/{invitation.key}/" in html_body(message)
    # The outbox tells the invitation once its batch is done.
    wait_until(
        lambda: Invitation.objects.get(pk=invitation.pk).sent_at is not None,
        what="the invitation records that its e-mail went",
    )


def test_smtp_server_receives_message_from_django_smtp_backend(mailbox):
    send_mail(
        subject="Sammanfattning från mötet 🗒️",
        message="Hej Åsa! Här är anteckningarna från mötet på Öland.",
        from_email="tvargrupp@example.se",
        recipient_list=["asa@example.se"],
    )
    [message] = mailbox.wait_for(1)
    assert header(message, "Subject") == "Sammanfattning från mötet 🗒️"
    assert header(message, "To") == "asa@example.se"
    assert text_body(message).strip() == "Hej Åsa! Här är anteckningarna från mötet på Öland."


@pytest.mark.browser
def test_head_signs_in_with_code_from_email_in_chromium(page, live_server, celery_worker, mailbox):
    UserFactory(email="maria@example.se", full_name="Maria Lindqvist")

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_role("link", name="Mejla mig en inloggningskod").click()
    page.get_by_label(re.compile("E-?post")).fill("maria@example.se")
    page.get_by_role("button", name="Begär kod").click()

    [message] = mailbox.wait_for(1)
    code = re.search(r"^\s*([A-Z0-9]{4,}(?:-[A-Z0-9]{4,})?)\s*$", text_body(message), re.M).group(1)
    page.get_by_label("Kod").fill(code)
    page.get_by_role("button", name="Verifiera").click()

    page.wait_for_url(f"{live_server.url}/")
    assert page.get_by_role("heading", level=1).inner_text() == "Välkommen, Maria"
