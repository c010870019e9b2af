"""The group's chat channel (Teams or Slack): set up on the settings page, and posted
to through the outbox when the summary goes out, before the post-it deadline and
when a follow-up is overdue. Posts go to a real HTTP receiver on loopback."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from groups.models import Group
from meetings.models import MeetingStatus
from outbox.models import Message, MessageStatus
from outbox.selectors import messages_about
from outbox.services import outbox_drain
from summaries.messages import render_summary_post
from summaries.services import meeting_close, summary_render, summary_send
from tests.conftest import header, wait_until
from tests.factories import (
    AttendanceFactory,
    FollowUpFactory,
    MeetingFactory,
    TopicFactory,
    UserFactory,
)
from topics.models import FollowUpStatus
from topics.services import follow_ups_overdue_post, reminders_queue

pytestmark = pytest.mark.django_db

TEAMS = "https://prod-12.westeurope.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?sig=hemlig"
SLACK = "https://hooks.slack.com/services/T000/B000/hemlig"


def _settings_url(group) -> str:
    return reverse("groups:settings", args=[group.code])


def _card(body: dict) -> tuple[str, str, str]:
    """(title, text, link) of a Teams Adaptive Card post."""
    assert body["type"] == "message"
    [attachment] = body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    content = attachment["content"]
    title, text = (block["text"] for block in content["body"])
    [action] = content["actions"]
    assert action["type"] == "Action.OpenUrl"
    return title, text, action["url"]


def _closed(world, *, webhook_url: str):
    Group.objects.filter(pk=world.group.pk).update(webhook_url=webhook_url)
    world.group.refresh_from_db()
    world.meeting.status = MeetingStatus.LIVE
    world.meeting.save()
    TopicFactory(meeting=world.meeting, department=world.hr, title="Bemanning av akuten")
    return meeting_close(meeting=world.meeting)


# --- Setting it up ---------------------------------------------------------------------


def test_moderator_sets_the_chat_address_and_sends_a_test_post(client, world, webhook):
    client.force_login(world.moderator)
    url = _settings_url(world.group)

    response = client.post(url, {"action": "webhook", "chat-webhook_url": TEAMS}, follow=True)

    world.group.refresh_from_db()
    assert world.group.webhook_url == TEAMS
    assert "Chattadressen är sparad." in response.content.decode()
    Group.objects.filter(pk=world.group.pk).update(webhook_url=webhook.url)

    response = client.post(url, {"action": "webhook_test"}, follow=True)

    assert "Ett testinlägg är på väg" in response.content.decode()
    [post] = Message.objects.filter(kind="groups.webhook_test")
    assert (post.channel, post.address, post.about) == ("webhook", webhook.url, world.group)
    assert outbox_drain() == 1
    [(path, body)] = webhook.posts
    title, text, link = _card(body)
    assert path == "/workflows/hook"
    assert title == "Tvärgrupp är ansluten"
    assert text.startswith("Tvärgrupp IT skriver här när sammanfattningen går ut")
    assert link == settings.SITE_URL + world.group.get_absolute_url()
    page = client.get(url).content.decode()
    assert "Testinlägg till chatten" in page
    assert "Skickad" in page.split('id="chat"')[1]


def test_clearing_the_address_stops_the_posts(client, world):
    Group.objects.filter(pk=world.group.pk).update(webhook_url=TEAMS)
    client.force_login(world.moderator)

    client.post(_settings_url(world.group), {"action": "webhook", "chat-webhook_url": ""})

    world.group.refresh_from_db()
    assert world.group.webhook_url == ""
    response = client.post(_settings_url(world.group), {"action": "webhook_test"})
    assert response.status_code == 400
    assert "Spara chattadressen först." in response.content.decode()
    assert not Message.objects.exists()


@pytest.mark.parametrize(
    ("address", "error", "allow_http"),
    [
        ("http://prod-1.westeurope.logic.azure.com/x", "Adressen måste börja med https://.", False),
        ("https://intranet.example.se/hook", "Bara adresser till Microsoft Teams och Slack", True),
        ("https://169.254.169.254/latest/meta-data", "Bara adresser till Microsoft Teams", True),
        ("inte en adress alls", "Fyll i en giltig URL.", True),
        (
            "https://hooks.slack.com/" + "x" * 1000,
            "Säkerställ att detta värde har som mest 1000",
            True,
        ),
    ],
)
def test_a_chat_address_that_is_not_teams_or_slack_is_refused(
    client, world, settings, address, error, allow_http
):
    settings.WEBHOOK_ALLOW_HTTP = allow_http
    client.force_login(world.moderator)

    response = client.post(
        _settings_url(world.group), {"action": "webhook", "chat-webhook_url": address}
    )

    assert response.status_code == 400
    content = response.content.decode()
    assert error in content
    assert 'id="id_chat-webhook_url"' in content
    world.group.refresh_from_db()
    assert world.group.webhook_url == ""


def test_only_moderators_set_the_chat_address(client, world):
    client.force_login(world.head)
    response = client.post(
        _settings_url(world.group), {"action": "webhook", "chat-webhook_url": TEAMS}
    )
    assert response.status_code == 403
    world.group.refresh_from_db()
    assert world.group.webhook_url == ""


def test_the_pages_never_show_the_secret_part_of_the_address(client, world, webhook):
    summary = _closed(world, webhook_url=TEAMS)
    summary_send(summary=summary, by=world.moderator)
    client.force_login(world.moderator)

    content = client.get(reverse("meetings:outbox", args=[world.meeting.code])).content.decode()

    assert "prod-12.westeurope.logic.azure.com" in content
    assert "sig=hemlig" not in content


# --- What is posted ------------------------------------------------------------------------


def test_the_summary_goes_to_the_chat_once_its_pdf_exists(world, webhook, mailbox):
    summary = _closed(world, webhook_url=webhook.url)
    summary_send(summary=summary, by=world.moderator)
    post = Message.objects.get(kind="summaries.chat_post")
    assert (post.about, post.payload["recipients"]) == (world.meeting, 2)

    assert outbox_drain() == 0  # the PDF is not made yet: nothing goes, nothing fails
    assert webhook.posts == []
    summary_render(summary_id=summary.pk)
    assert outbox_drain() == 3

    [(_path, body)] = webhook.posts
    title, text, link = _card(body)
    assert title.startswith("Sammanfattning: Tvärgrupp IT ")
    assert text == "Sammanfattningen av 1 lapp har mejlats till 2 personer."
    assert link == settings.SITE_URL + world.meeting.get_absolute_url()
    assert sorted(header(m, "To") for m in mailbox.messages) == [
        "head@example.se",
        "participant@example.se",
    ]


def test_a_slack_address_gets_slacks_format(world):
    summary = _closed(world, webhook_url=SLACK)
    summary_render(summary_id=summary.pk)
    summary_send(summary=summary, by=world.moderator)
    post = Message.objects.get(kind="summaries.chat_post")

    body = render_summary_post(post, {})

    url = settings.SITE_URL + world.meeting.get_absolute_url()
    assert body == {
        "text": f"*{body['text'].split('*')[1]}*\n"
        "Sammanfattningen av 1 lapp har mejlats till 2 personer.\n"
        f"<{url}|Öppna mötet>"
    }
    assert body["text"].startswith("*Sammanfattning: Tvärgrupp IT ")


def test_a_chat_that_fails_for_now_is_retried_and_never_holds_up_the_email(world, webhook, mailbox):
    webhook.answer(503)
    summary = _closed(world, webhook_url=webhook.url)
    summary_render(summary_id=summary.pk)
    summary_send(summary=summary, by=world.moderator)

    assert outbox_drain() == 2  # both e-mails; the post is refused for now

    post = Message.objects.get(kind="summaries.chat_post")
    assert (post.status, post.attempts, post.last_error) == (
        MessageStatus.PENDING,
        1,
        "HTTP 503 nope 503",
    )
    assert len(mailbox.messages) == 2
    Message.objects.filter(pk=post.pk).update(not_before=timezone.now())  # the back-off is over
    assert outbox_drain() == 1
    post.refresh_from_db()
    assert (post.status, post.attempts, post.last_error) == (MessageStatus.SENT, 2, "")
    assert len(webhook.posts) == 2


@pytest.mark.parametrize(("status", "reply"), [(404, "HTTP 404 nope 404"), (302, "HTTP 302")])
def test_a_chat_that_refuses_for_good_fails_at_once_with_its_answer(world, webhook, status, reply):
    webhook.answer(status)
    summary = _closed(world, webhook_url=webhook.url)
    summary_render(summary_id=summary.pk)
    summary_send(summary=summary, by=world.moderator)

    outbox_drain()

    post = Message.objects.get(kind="summaries.chat_post")
    assert (post.status, post.attempts) == (MessageStatus.FAILED, 1)
    assert post.last_error.startswith(reply)
    assert len(webhook.posts) == 1  # and the redirect was not followed


def test_without_a_chat_address_nothing_is_posted(world):
    summary = _closed(world, webhook_url="")
    summary_send(summary=summary, by=world.moderator)

    assert not Message.objects.filter(channel="webhook").exists()


DEADLINE = datetime(2027, 3, 14, 13, 0, tzinfo=UTC)  # Sunday 14 March, 14.00 in Stockholm


def test_two_days_before_the_deadline_the_chat_hears_it_once(world, webhook):
    Group.objects.filter(pk=world.group.pk).update(webhook_url=webhook.url)
    meeting = MeetingFactory(
        group=world.group,
        status=MeetingStatus.OPEN,
        starts_at=DEADLINE + timedelta(days=2),
        submission_deadline=DEADLINE,
    )
    TopicFactory(meeting=meeting, department=world.hr, status="submitted")

    reminders_queue(now=DEADLINE - timedelta(days=6))  # the week's reminder: e-mail only
    assert not messages_about(meeting).filter(channel="webhook").exists()
    reminders_queue(now=DEADLINE - timedelta(days=2) + timedelta(hours=1))
    reminders_queue(now=DEADLINE - timedelta(days=1))

    [post] = messages_about(meeting).filter(channel="webhook")
    assert post.kind == "topics.deadline_post"
    outbox_drain()
    title, text, link = _card(webhook.posts[0][1])
    assert title == "Lappar till Tvärgrupp IT ska vara inne 14 mar 14.00"
    assert text == "1 av 2 avdelningar har lämnat in sin lapp."
    assert link == settings.SITE_URL + meeting.get_absolute_url()


def test_an_overdue_follow_up_is_posted_once(world, webhook):
    Group.objects.filter(pk=world.group.pk).update(webhook_url=webhook.url)
    now = datetime(2027, 5, 20, 8, 0, tzinfo=UTC)
    overdue = FollowUpFactory(
        meeting=world.meeting,
        title="Pilot för prognos",
        owner=world.head,
        owner_department=world.hr,
        due_date=date(2027, 5, 19),
    )
    FollowUpFactory(meeting=world.meeting, due_date=date(2027, 5, 20))  # due today: not yet
    FollowUpFactory(meeting=world.meeting, due_date=date(2027, 5, 1), status=FollowUpStatus.DONE)
    other = FollowUpFactory(meeting=MeetingFactory(), due_date=date(2027, 5, 1))  # no chat

    assert follow_ups_overdue_post(now=now) == 1
    assert follow_ups_overdue_post(now=now + timedelta(hours=5)) == 0

    [post] = Message.objects.filter(channel="webhook")
    assert (post.kind, post.payload["follow_up"], post.about) == (
        "topics.overdue_post",
        overdue.pk,
        world.meeting,
    )
    assert other.pk != post.payload["follow_up"]
    outbox_drain()
    title, text, _link = _card(webhook.posts[0][1])
    assert title == "Försenad uppföljning: Pilot för prognos"
    assert text == "Skulle vara klar 19 maj 2027; ansvarig: Maria Lindqvist, HR."


# --- With the real worker ---------------------------------------------------------------------


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_worker_posts_the_summary_to_the_chat_beside_the_email(celery_worker, webhook, mailbox):
    group = Group.objects.create(name="Tvärgrupp Chatt", webhook_url=webhook.url)
    moderator = UserFactory(email="chatt-moderator@example.se")
    group.moderators.add(moderator)
    meeting = MeetingFactory(group=group, status=MeetingStatus.LIVE)
    AttendanceFactory(meeting=meeting, user=UserFactory(email="chatt-1@example.se"))
    with transaction.atomic():
        summary = meeting_close(meeting=meeting)
        summary_send(summary=summary, by=moderator)

    wait_until(lambda: len(webhook.posts) == 1, timeout=60, what="the chat has the post")
    wait_until(
        lambda: "chatt-1@example.se" in [header(m, "To") for m in mailbox.messages],
        timeout=60,
        what="the e-mail has arrived",
    )
    title, _text, _link = _card(webhook.posts[0][1])
    assert title.startswith("Sammanfattning: Tvärgrupp Chatt ")
