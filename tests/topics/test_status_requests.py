"""Status before the meeting ("Vad har hänt sedan sist?") through signed links that work
without signing in, and the weekly reminder of overdue items; both through the outbox."""

import re
from datetime import timedelta

import pytest
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from meetings.models import MeetingStatus
from outbox.models import Message
from tests.conftest import send_outbox, text_body
from tests.factories import FollowUpFactory, MeetingFactory, TopicFactory, UserFactory
from topics.messages import STATUS_SALT, status_token
from topics.models import FollowUpChange, MicroProject, Solution, StatusAnswer
from topics.services import (
    overdue_reminders_queue,
    status_requests_queue,
)

HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)> Åsa & Öberg 🎉"


@pytest.fixture
def items(world):
    """Meeting one (held) produced a follow-up and a micro-project; meeting two is coming."""
    now = timezone.now()
    first = MeetingFactory(
        group=world.group, starts_at=now - timedelta(days=30), status=MeetingStatus.SUMMARY_SENT
    )
    world.meeting.starts_at = now + timedelta(days=4, hours=12)
    world.meeting.ends_at = world.meeting.starts_at + timedelta(hours=1)
    world.meeting.submission_deadline = world.meeting.starts_at - timedelta(days=2)
    world.meeting.save()
    topic = TopicFactory(meeting=first, department=world.hr, title="Bemanna akuten")
    world.first = first
    world.follow_up = FollowUpFactory(
        meeting=first, topic=topic, title="Ta fram statistik", owner=world.head
    )
    solution = Solution.objects.create(topic=topic, title="Prognos", effort="M")
    world.project = MicroProject.objects.create(
        solution=solution, topic=topic, title="Pilot: prognos", owner=world.head
    )
    return world


def _link(world, item=None, user=None, meeting=None):
    item = item or world.follow_up
    kwargs = {"follow_up": item} if hasattr(item, "due_date") else {"micro_project": item}
    token = status_token(meeting=meeting or world.meeting, user=user or world.head, **kwargs)
    return reverse("topics:status_answer", args=[token])


# --- Asking -----------------------------------------------------------------------------


def test_owners_are_asked_the_groups_number_of_days_before_and_only_once(items):
    world = items
    now = timezone.now()
    assert status_requests_queue(now=now - timedelta(days=1)) == 0  # 5½ days before
    assert status_requests_queue(now=now) == 1
    assert status_requests_queue(now=now + timedelta(hours=1)) == 0
    message = Message.objects.get(kind="topics.status_request")
    assert (message.recipient, message.about) == (world.head, world.meeting)
    assert message.payload == {
        "meeting": world.meeting.pk,
        "follow_ups": [world.follow_up.pk],
        "micro_projects": [world.project.pk],
    }


def test_the_number_of_days_is_the_groups(items):
    world = items
    world.group.status_days_before = 2
    world.group.save()
    assert status_requests_queue() == 0
    assert status_requests_queue(now=timezone.now() + timedelta(days=3)) == 1


def test_a_follow_up_owned_by_a_department_asks_its_heads(items):
    world = items
    second_head = UserFactory()
    world.it.heads.add(second_head)
    FollowUpFactory(meeting=world.first, owner=None, owner_department=world.it)
    status_requests_queue()
    asked = set(
        Message.objects.filter(kind="topics.status_request").values_list("recipient", flat=True)
    )
    assert asked == {world.head.pk, second_head.pk}


def test_nothing_is_asked_of_closed_items_or_for_a_cancelled_meeting(items):
    world = items
    world.meeting.status = MeetingStatus.CANCELLED
    world.meeting.save()
    assert status_requests_queue() == 0


def test_the_status_email_is_answered_through_its_link_without_signing_in(
    client, items, mailbox, settings
):
    world = items
    settings.SITE_URL = "http://testserver"
    status_requests_queue()
    send_outbox()
    [email] = mailbox.wait_for(1)
    body = text_body(email)
    assert "Ta fram statistik" in body and "Pilot: prognos" in body
    links = re.findall(r"http://testserver(/status/[^\s]+/)", body)
    assert len(links) == 2

    page = client.get(links[0])
    assert page.status_code == 200
    assert "Ta fram statistik" in page.content.decode()
    answer = {"text": "Statistiken är klar " + HOSTILE, "status": "done"}
    response = client.post(links[0], answer)
    assert response.status_code == 200
    content = response.content.decode()
    assert "Statistiken är klar &lt;script&gt;" in content and "<script>alert(1)" not in content
    world.follow_up.refresh_from_db()
    assert world.follow_up.status == "done"
    change = FollowUpChange.objects.get(follow_up=world.follow_up)
    assert change.by == world.head

    # Using it twice updates the same answer (and can reopen).
    client.post(links[0], {"text": "Nej, inte klar ändå", "status": "open"})
    [stored] = StatusAnswer.objects.filter(follow_up=world.follow_up)
    assert (stored.text, stored.status, stored.meeting) == (
        "Nej, inte klar ändå",
        "open",
        world.meeting,
    )
    world.follow_up.refresh_from_db()
    assert world.follow_up.status == "open"


def test_a_tampered_link_changes_nothing(client, items):
    world = items
    url = _link(world)
    tampered = url[:-3] + ("A" if url[-3] != "A" else "B") + url[-2:]
    response = client.post(tampered, {"text": "Hack", "status": "done"})
    assert response.status_code == 400
    assert "ändrats" in response.content.decode()
    forged = signing.dumps(
        {"m": world.meeting.code, "u": world.head.code, "k": "f", "c": "x"},
        salt="wrong-salt",
        compress=True,
    )
    assert client.get(reverse("topics:status_answer", args=[forged])).status_code == 400
    assert not StatusAnswer.objects.exists()
    world.follow_up.refresh_from_db()
    assert world.follow_up.status == "open"


def test_a_link_for_another_groups_item_is_refused(client, items):
    world = items
    foreign = FollowUpFactory(meeting=MeetingFactory(group=world.other_group), owner=world.head)
    url = reverse(
        "topics:status_answer",
        args=[
            signing.dumps(
                {"m": world.meeting.code, "u": world.head.code, "k": "f", "c": foreign.code},
                salt=STATUS_SALT,
                compress=True,
            )
        ],
    )
    assert client.post(url, {"text": "X", "status": "done"}).status_code == 400
    foreign.refresh_from_db()
    assert foreign.status == "open"


def test_an_expired_link_gets_a_clear_page_and_changes_nothing(client, items):
    world = items
    url = _link(world)
    world.meeting.starts_at = timezone.now() - timedelta(minutes=1)
    world.meeting.submission_deadline = world.meeting.starts_at - timedelta(days=2)
    world.meeting.save()
    response = client.post(url, {"text": "Sent svar", "status": "done"})
    assert response.status_code == 410
    assert "har börjat" in response.content.decode()
    assert not StatusAnswer.objects.exists()


def test_a_link_whose_item_has_a_new_owner_is_foreign(client, items):
    world = items
    url = _link(world)
    world.follow_up.owner = world.moderator
    world.follow_up.save()
    response = client.post(url, {"text": "Inte min längre", "status": "done"})
    assert response.status_code == 403
    assert not StatusAnswer.objects.exists()


def test_a_forbidden_transition_through_a_link_changes_nothing(client, items):
    world = items
    url = _link(world, item=world.project)
    page = client.get(url)
    offered = [value for value, _label in page.context["form"].fields["status"].choices]
    assert offered == ["proposed", "approved", "dropped"]
    response = client.post(url, {"text": "Klart!", "status": "done"})
    assert response.status_code == 400
    assert "status" in response.context["form"].errors
    world.project.refresh_from_db()
    assert world.project.status == "proposed"
    assert not StatusAnswer.objects.exists()


def test_an_empty_or_overlong_answer_is_a_field_error(client, items):
    world = items
    url = _link(world)
    for text in ("", "å" * 4001):
        response = client.post(url, {"text": text, "status": "open"})
        assert response.status_code == 400
        assert "text" in response.context["form"].errors
    assert not StatusAnswer.objects.exists()


@pytest.mark.parametrize("size", [2, 20])
def test_status_page_query_count_is_constant(client, items, django_assert_num_queries, size):
    world = items
    for n in range(size):
        FollowUpFactory(meeting=world.first, owner=world.head, title=f"Annan {n}")
    url = _link(world)
    client.post(url, {"text": "Första", "status": "open"})
    with django_assert_num_queries(4):  # meeting, person, item, answer; no session
        response = client.get(url)
    assert response.status_code == 200


# --- Overdue reminders -------------------------------------------------------------------


def test_overdue_items_are_reminded_in_one_email_at_most_once_a_week(items):
    world = items
    today = timezone.localdate()
    world.follow_up.due_date = today - timedelta(days=2)
    world.follow_up.save()
    world.project.target_date = today - timedelta(days=1)
    world.project.save()
    FollowUpFactory(meeting=world.first, owner=world.head, due_date=today + timedelta(days=3))
    now = timezone.now()
    assert overdue_reminders_queue(now=now) == 1
    message = Message.objects.get(kind="topics.overdue_reminder")
    assert message.payload == {
        "follow_ups": [world.follow_up.pk],
        "micro_projects": [world.project.pk],
    }
    assert overdue_reminders_queue(now=now + timedelta(days=6)) == 0
    assert overdue_reminders_queue(now=now + timedelta(days=8)) == 1


def test_the_overdue_reminder_reads_well(items, mailbox):
    world = items
    world.follow_up.due_date = timezone.localdate() - timedelta(days=2)
    world.follow_up.save()
    overdue_reminders_queue()
    send_outbox()
    [email] = mailbox.wait_for(1)
    assert "Ta fram statistik" in text_body(email)
    assert world.follow_up.get_absolute_url() in text_body(email)
    assert "försenad" in str(email["Subject"]).lower()


def test_nobody_without_overdue_items_is_reminded(items):
    assert overdue_reminders_queue() == 0


def test_status_links_are_only_for_the_owner(items):
    world = items
    from topics.services import StatusLinkError, status_link_read

    token = status_token(meeting=world.meeting, user=world.participant, follow_up=world.follow_up)
    with pytest.raises(StatusLinkError) as error:
        status_link_read(token)
    assert error.value.reason == "foreign"
