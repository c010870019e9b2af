"""The outbox pages: a meeting's for its moderators, the installation's for administrators."""

from datetime import timedelta

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from outbox.models import Message, MessageStatus
from tests.factories import MeetingFactory

pytestmark = pytest.mark.django_db

FAILED_REPLY = "550 5.1.1 <borta@example.se>: Recipient address rejected"


def _message(about, address, status=MessageStatus.SENT, kind="meetings.invitation", **fields):
    defaults = {"sent_at": timezone.now()} if status == MessageStatus.SENT else {}
    if status == MessageStatus.SENDING:
        defaults = {"lease_until": timezone.now() + timedelta(minutes=1), "claimed_by": "w/1/a"}
    return Message.objects.create(
        kind=kind,
        key=f"{kind}:{about.pk if about else 0}:{address}",
        about=about,
        address=address,
        name=address.split("@")[0].title(),
        status=status,
        **{**defaults, **fields},
    )


def _outbox(meeting) -> str:
    return reverse("meetings:outbox", args=[meeting.code])


@pytest.fixture
def mixed(world):
    """Messages about the world's meeting in every state, and one about another meeting."""
    meeting = world.meeting
    _message(meeting, "skickad@example.se")
    _message(meeting, "borta@example.se", MessageStatus.FAILED, attempts=1, last_error=FAILED_REPLY)
    _message(meeting, "vantar@example.se", MessageStatus.PENDING, kind="summaries.summary")
    _message(
        meeting,
        "fast@example.se",
        MessageStatus.PENDING,
        kind="meetings.reminder_2",
        not_before=timezone.now() - timedelta(minutes=5),
    )
    _message(meeting, "skickas@example.se", MessageStatus.SENDING, kind="meetings.nudge")
    _message(MeetingFactory(group=world.group), "annat-mote@example.se", MessageStatus.FAILED)
    return meeting


def test_the_meeting_outbox_lists_its_messages_with_states_replies_and_counts(client, world, mixed):
    client.force_login(world.moderator)

    response = client.get(_outbox(mixed))

    content = response.content.decode()
    assert response.status_code == 200
    assert "annat-mote@example.se" not in content
    rows = [m.address for m in response.context["outbox"].messages]
    assert sorted(rows) == [
        "borta@example.se",
        "fast@example.se",
        "skickad@example.se",
        "skickas@example.se",
        "vantar@example.se",
    ]
    assert "Skickade 1 · väntar 2 · skickas 1 · misslyckade 1" in " ".join(content.split())
    assert FAILED_REPLY.replace("<", "&lt;").replace(">", "&gt;") in content
    for label in ["Mötesinbjudan", "Sammanfattning", "Påminnelse två dagar före sista dagen"]:
        assert label in content
    assert 'data-hx-trigger="every 2s"' in content  # something is on its way: it polls
    assert "Skicka om det misslyckade" in content
    assert "Skjut på det fastnade" in content


def test_the_fragment_stops_polling_once_nothing_is_on_its_way(client, world):
    _message(world.meeting, "skickad@example.se")
    client.force_login(world.moderator)

    response = client.get(_outbox(world.meeting), headers={"HX-Request": "true"})

    assert response.status_code == 286
    content = response.content.decode()
    assert content.lstrip().startswith('<section id="outbox"')
    assert "data-hx-trigger" not in content
    assert "<html" not in content


def test_the_fragment_keeps_polling_while_a_message_waits(client, world):
    _message(world.meeting, "vantar@example.se", MessageStatus.PENDING)
    client.force_login(world.moderator)

    response = client.get(_outbox(world.meeting), headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert 'data-hx-trigger="every 2s"' in response.content.decode()


def test_filtering_shows_one_state_and_an_empty_state_says_so(client, world, mixed):
    client.force_login(world.moderator)

    failed = client.get(_outbox(mixed), {"status": "failed"})
    sent_only = client.get(_outbox(MeetingFactory(group=world.group)), {"status": "sent"})

    assert [m.address for m in failed.context["outbox"].messages] == ["borta@example.se"]
    assert "Inga meddelanden i det här läget." in sent_only.content.decode()


def test_an_empty_outbox_says_nothing_has_been_sent(client, world):
    client.force_login(world.moderator)

    content = client.get(_outbox(world.meeting)).content.decode()

    assert "Inget har skickats än." in content
    assert "data-hx-trigger" not in content


def test_moderator_resends_one_failed_message(client, world, mixed):
    failed = Message.objects.get(address="borta@example.se")
    client.force_login(world.moderator)

    response = client.post(
        reverse("meetings:outbox_resend", args=[mixed.code]),
        {"which": "one", "message": failed.code, "next": _outbox(mixed)},
        follow=True,
    )

    failed.refresh_from_db()
    assert (failed.status, failed.attempts, failed.last_error) == (MessageStatus.PENDING, 0, "")
    assert response.redirect_chain == [(_outbox(mixed), 302)]
    assert "1 meddelande ligger i kön igen." in response.content.decode()


def test_resend_all_failed_and_push_all_stuck_touch_only_this_meeting(client, world, mixed):
    client.force_login(world.moderator)
    url = reverse("meetings:outbox_resend", args=[mixed.code])

    client.post(url, {"which": "failed"})
    pushed = client.post(url, {"which": "stuck"}, follow=True)

    statuses = dict(Message.objects.values_list("address", "status"))
    assert statuses["borta@example.se"] == MessageStatus.PENDING
    assert statuses["annat-mote@example.se"] == MessageStatus.FAILED
    assert Message.objects.get(address="fast@example.se").not_before > timezone.now() - timedelta(
        seconds=5
    )
    assert "1 fastnat meddelande är på väg igen." in pushed.content.decode()


def test_a_message_of_another_meeting_cannot_be_resent_from_this_one(client, world, mixed):
    other = Message.objects.get(address="annat-mote@example.se")
    client.force_login(world.moderator)

    client.post(
        reverse("meetings:outbox_resend", args=[mixed.code]),
        {"which": "one", "message": other.code},
    )

    other.refresh_from_db()
    assert other.status == MessageStatus.FAILED


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (
            {"which": "everything"},
            "Välj ett giltigt alternativ. everything finns inte bland tillgängliga alternativ.",
        ),
        ({"which": "one"}, "Välj meddelandet som ska skickas om."),
        (
            {"which": "one", "message": "x" * 17},
            "Säkerställ att detta värde har som mest 16 tecken (den har 17).",
        ),
    ],
)
def test_resend_with_bad_input_says_why_and_changes_nothing(client, world, mixed, data, error):
    client.force_login(world.moderator)

    response = client.post(reverse("meetings:outbox_resend", args=[mixed.code]), data, follow=True)

    assert error in response.content.decode()
    assert Message.objects.filter(status=MessageStatus.FAILED).count() == 2


def test_resend_refuses_to_send_you_elsewhere(client, world, mixed):
    client.force_login(world.moderator)

    response = client.post(
        reverse("meetings:outbox_resend", args=[mixed.code]),
        {"which": "failed", "next": "https://evil.example.com/"},
    )

    assert response.url == _outbox(mixed)


@override_settings(MAIL_RATE_PER_MINUTE=30)
def test_with_a_sending_rate_the_page_says_when_everything_will_have_gone(client, world):
    for n in range(10):
        _message(world.meeting, f"r{n}@example.se", MessageStatus.PENDING)
    client.force_login(world.moderator)

    response = client.get(_outbox(world.meeting))

    finish = response.context["outbox"].finish
    expected = timezone.now() + timedelta(seconds=9 * 2)
    assert abs((finish - expected).total_seconds()) < 5
    assert f"alla skickade omkring {timezone.localtime(finish):%H:%M}" in response.content.decode()


def test_the_meeting_page_links_its_moderators_to_the_outbox(client, world):
    client.force_login(world.moderator)
    assert _outbox(world.meeting) in client.get(world.meeting.get_absolute_url()).content.decode()
    client.force_login(world.head)
    assert (
        _outbox(world.meeting) not in client.get(world.meeting.get_absolute_url()).content.decode()
    )


def test_the_installation_outbox_shows_every_message_and_the_backlog(client, world, mixed):
    _message(None, "kod@example.se", MessageStatus.FAILED, kind="accounts.login_code")
    client.force_login(world.admin)

    response = client.get(reverse("outbox:installation"))

    content = response.content.decode()
    assert response.context["outbox"].total == 7
    assert "annat-mote@example.se" in content
    assert "Inloggningskod" in content
    assert response.context["backlog"].stuck == 1
    assert "Ingen gräns" in content
    # A sign-in code's text is gone once it failed: it cannot be resent, only asked for again.
    code_row = content.split("kod@example.se")[1].split("</tr>")[0]
    assert "Skicka om" not in code_row


def test_only_administrators_see_the_outbox_link_in_the_menu(client, world):
    client.force_login(world.admin)
    assert reverse("outbox:installation") in client.get(reverse("meetings:home")).content.decode()
    client.force_login(world.moderator)
    assert (
        reverse("outbox:installation") not in client.get(reverse("meetings:home")).content.decode()
    )


def _fill(world, size: int) -> None:
    for n in range(size):
        _message(world.meeting, f"s{n}@example.se")
        _message(world.meeting, f"f{n}@example.se", MessageStatus.FAILED, last_error="550 nej")
        _message(world.meeting, f"p{n}@example.se", MessageStatus.PENDING, recipient=world.head)


@pytest.mark.parametrize("size", [2, 30])
def test_the_meeting_outbox_query_count_is_constant(client, world, django_assert_num_queries, size):
    _fill(world, size)
    client.force_login(world.moderator)
    with django_assert_num_queries(6):
        response = client.get(_outbox(world.meeting))
    assert response.content.decode().count('class="outbox__row ') == 3 * size
    with django_assert_num_queries(6):
        fragment = client.get(_outbox(world.meeting), headers={"HX-Request": "true"})
    assert fragment.content.decode().count('class="outbox__row ') == 3 * size


@pytest.mark.parametrize("size", [2, 30])
def test_the_installation_outbox_query_count_is_constant(
    client, world, django_assert_num_queries, size
):
    _fill(world, size)
    client.force_login(world.admin)
    with django_assert_num_queries(6):
        response = client.get(reverse("outbox:installation"))
    assert response.content.decode().count('class="outbox__row ') == 3 * size
