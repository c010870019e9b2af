"""The follow-up lane ("Uppföljning") on the next meeting's board and in its summary,
parked post-its brought onto the agenda, the IT perspective's PDF by e-mail, and a
post-it raised again."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from board.services import board_start, link_add
from groups.access import Role
from meetings.models import MeetingStatus
from outbox.models import Message
from summaries.services import it_perspective_send, summary_pdf_html
from tests.conftest import send_outbox, text_body
from tests.factories import (
    ContributionFactory,
    FollowUpFactory,
    MeetingFactory,
    SummaryFactory,
    TopicFactory,
    UserFactory,
)
from topics.models import (
    FollowUpChange,
    ITPerspective,
    MicroProject,
    Solution,
    StatusAnswer,
    Topic,
    TopicLink,
)
from topics.selectors import follow_up_lane


@pytest.fixture
def two(world):
    """Meeting one (held, IT perspective published) and meeting two (world.meeting)."""
    first = MeetingFactory(
        group=world.group,
        starts_at=world.meeting.starts_at - timedelta(days=30),
        status=MeetingStatus.SUMMARY_SENT,
    )
    topic = TopicFactory(meeting=first, department=world.hr, title="Bemanna akuten")
    world.first = first
    world.late = FollowUpFactory(
        meeting=first,
        topic=topic,
        title="Sen uppföljning",
        owner=world.head,
        due_date=timezone.localdate() - timedelta(days=3),
    )
    world.fine = FollowUpFactory(
        meeting=first,
        topic=topic,
        title="I tid",
        owner=world.head,
        due_date=timezone.localdate() + timedelta(days=3),
    )
    solution = Solution.objects.create(topic=topic, title="Prognos", effort="M")
    world.project = MicroProject.objects.create(
        solution=solution, topic=topic, title="Pilot", owner=world.moderator
    )
    world.perspective = ITPerspective.objects.create(meeting=first)
    world.parked = TopicFactory(
        meeting=first, department=world.it, title="Parkerad lapp", status="parked"
    )
    ContributionFactory(topic=world.parked, text="En idé som följer med")
    StatusAnswer.objects.create(
        meeting=world.meeting,
        follow_up=world.fine,
        by=world.head,
        text="Nästan klart",
        status="open",
    )
    return world


def test_the_lane_lists_overdue_first_with_answers_and_the_parked_post_its(two):
    world = two
    lane = follow_up_lane(meeting=world.meeting)
    assert [entry.item.title for entry in lane.items] == ["Sen uppföljning", "I tid"]
    assert lane.items[1].answer.text == "Nästan klart"
    assert lane.previous == world.first
    assert lane.parked == [world.parked]
    # The micro-project appears once its IT perspective is published.
    world.perspective.published_at = timezone.now()
    world.perspective.save()
    titles = [entry.item.title for entry in follow_up_lane(meeting=world.meeting).items]
    assert titles == ["Sen uppföljning", "I tid", "Pilot"]


def test_the_board_opens_with_the_lane(client, two):
    world = two
    client.force_login(world.moderator)
    page = client.get(reverse("board:board", args=[world.meeting.code])).content.decode()
    assert 'id="lane"' in page
    assert page.index("Sen uppföljning") < page.index("I tid")
    assert "Nästan klart" in page and "Parkerad lapp" in page
    assert "badge--overdue" in page


def test_a_parked_post_it_moves_onto_the_agenda_with_its_history(client, two):
    world = two
    board_start(meeting=world.meeting, now=world.meeting.starts_at)
    client.force_login(world.moderator)
    response = client.post(
        reverse("board:act", args=[world.meeting.code]),
        {"action": "lane_bring", "topic": world.parked.code},
    )
    assert response.status_code == 302
    moved = Topic.objects.get(pk=world.parked.pk)
    assert (moved.meeting, moved.status) == (world.meeting, "submitted")
    assert moved.contributions.get().text == "En idé som följer med"
    assert Topic.objects.filter(title="Parkerad lapp").count() == 1
    assert follow_up_lane(meeting=world.meeting).parked == []
    # Bringing it again (or one that is not parked) is refused with a message.
    response = client.post(
        reverse("board:act", args=[world.meeting.code]),
        {"action": "lane_bring", "topic": world.parked.code},
        follow=True,
    )
    assert "inte parkerad" in response.content.decode()


def test_a_follow_up_is_marked_done_from_the_lane(client, two):
    world = two
    board_start(meeting=world.meeting, now=world.meeting.starts_at)
    client.force_login(world.moderator)
    act = reverse("board:act", args=[world.meeting.code])
    data = {
        "action": "lane_status",
        "kind": "follow_up",
        "item": world.late.code,
        "status": "done",
        "version": "1",
    }
    assert client.post(act, data).status_code == 302
    world.late.refresh_from_db()
    assert world.late.status == "done"
    assert FollowUpChange.objects.get(follow_up=world.late).by == world.moderator
    # Still in the lane (closed since the last meeting), and a stale click changes nothing.
    assert world.late in [entry.item for entry in follow_up_lane(meeting=world.meeting).items]
    response = client.post(act, {**data, "status": "open"}, follow=True)
    assert "ändrat" in response.content.decode()
    world.late.refresh_from_db()
    assert world.late.status == "done"


def test_the_summary_of_meeting_two_lists_the_lane(two):
    world = two
    world.late.status = "done"
    world.late.closed_at = timezone.now()
    world.late.outcome = "Statistiken levererad"
    world.late.save()
    summary = SummaryFactory(meeting=world.meeting)
    html = summary_pdf_html(summary=summary)
    lane = html[html.index('class="lane"') :]
    assert "Sen uppföljning" in lane and "Klar" in lane and "Statistiken levererad" in lane
    assert "Nästan klart" in lane


# --- The IT perspective's PDF by e-mail ---------------------------------------------------


def test_the_it_perspective_goes_to_the_it_role_and_the_groups_list_with_its_pdf(two, mailbox):
    world = two
    english = UserFactory(email="it@example.se", full_name="Ian Tech", language="en")
    world.group.it_members.add(english)
    sent = it_perspective_send(
        meeting=world.first,
        by=world.moderator,
        role=Role.MODERATOR,
        extra_recipients="it-chef@example.se\nIT-CHEF@example.se",
    )
    assert sorted(m.address for m in sent) == [
        "it-chef@example.se",
        "it-roll@example.se",  # world's IT role
        "it@example.se",
    ]
    world.group.refresh_from_db()
    assert world.group.it_perspective_recipients == "it-chef@example.se"
    send_outbox()
    mails = {m["To"]: m for m in mailbox.wait_for(3)}
    english_mail = mails["it@example.se"]
    assert f"IT perspective: {world.group.name}" in str(english_mail["Subject"])
    [attachment] = list(english_mail.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    day = timezone.localtime(world.first.starts_at).date()
    assert attachment.get_filename() == f"it-perspektiv-{day}.pdf"
    assert attachment.get_content().startswith(b"%PDF")
    assert "IT-perspektiv" in str(mails["it-chef@example.se"]["Subject"])
    assert "Ian Tech" in text_body(english_mail)


@pytest.mark.parametrize("extra", ["inte en adress", "a@b"])
def test_a_bad_address_is_refused_and_nothing_is_sent(client, two, extra):
    world = two
    client.force_login(world.moderator)
    response = client.post(
        reverse("summaries:it_send", args=[world.first.code]), {"extra_recipients": extra}
    )
    assert response.status_code == 400
    assert "extra_recipients" in response.context["form"].errors
    assert not Message.objects.filter(kind="summaries.it_perspective").exists()


def test_nothing_to_send_without_solutions(two):
    world = two
    MicroProject.objects.all().delete()
    Solution.objects.all().delete()
    with pytest.raises(ValidationError):
        it_perspective_send(
            meeting=world.first, by=world.moderator, role=Role.MODERATOR, extra_recipients=""
        )
    assert not Message.objects.filter(kind="summaries.it_perspective").exists()


@pytest.mark.parametrize("size", [1, 10])
def test_it_send_page_query_count_is_constant(client, two, django_assert_num_queries, size):
    world = two
    for _ in range(size):
        world.group.it_members.add(UserFactory())
    it_perspective_send(
        meeting=world.first, by=world.moderator, role=Role.MODERATOR, extra_recipients=""
    )
    client.force_login(world.moderator)
    with django_assert_num_queries(6):
        response = client.get(reverse("summaries:it_send", args=[world.first.code]))
    assert len(response.context["sent"]) == size + 1  # and world's IT role


# --- A post-it raised again -----------------------------------------------------------------


def test_a_post_it_raised_again_links_to_its_departments_earlier_one(client, two):
    world = two
    board_start(meeting=world.meeting, now=world.meeting.starts_at)
    again = TopicFactory(meeting=world.meeting, department=world.hr, title="Akuten igen")
    earlier = world.late.topic
    link_add(
        meeting=world.meeting,
        code=again.code,
        other_code=earlier.code,
        kind="raised_again",
        by=world.moderator,
    )
    assert TopicLink.objects.get().kind == "raised_again"
    other = TopicFactory(meeting=world.meeting, department=world.it, title="IT nu")
    with pytest.raises(ValidationError):
        link_add(
            meeting=world.meeting,
            code=other.code,
            other_code=earlier.code,
            kind="raised_again",
            by=world.moderator,
        )
    client.force_login(world.head)
    page = client.get(reverse("topics:topic_detail", args=[again.code])).content.decode()
    assert "Tas upp igen" in page and "Bemanna akuten" in page
