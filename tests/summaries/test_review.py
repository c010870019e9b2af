"""The summary review shows what it summarises, keeps the PDF once made, and stays
useful after sending: the text read-only, the PDF, resending and sending the waiting."""

import pytest
from django.urls import reverse
from django.utils import timezone

from meetings.models import MeetingStatus
from outbox.models import MessageStatus
from summaries.models import Summary, SummaryStatus
from summaries.selectors import summary_messages, summary_recipients
from summaries.services import meeting_close, summary_render, summary_send
from tests.factories import (
    ContributionFactory,
    DepartmentFactory,
    FollowUpFactory,
    TopicFactory,
    UserFactory,
)


@pytest.fixture
def closed(world):
    world.meeting.status = MeetingStatus.LIVE
    world.meeting.save()
    topic = TopicFactory(
        meeting=world.meeting,
        department=world.hr,
        author=world.head,
        title="Bemanning av akuten kvällstid",
        goal="Veta dagen innan åäö",
        notes="Webbteamet har siffrorna.",
    )
    ContributionFactory(topic=topic, department=world.it, text="Besök på webben kvällen innan")
    FollowUpFactory(meeting=world.meeting, topic=topic, owner=world.head, title="Pilot i mars")
    return meeting_close(meeting=world.meeting)


def _review(meeting):
    return reverse("summaries:review", args=[meeting.code])


def _post(client, meeting, action="save", **data):
    topic = meeting.topics.get(title="Bemanning av akuten kvällstid")
    payload = {
        "intro": "Tack för i dag!",
        "extra_recipients": "",
        f"topic_{topic.code}": "HR och webbteamet testar en prognos.",
        "action": action,
        **data,
    }
    return client.post(_review(meeting), payload)


def test_each_summary_box_has_the_boards_content_beside_it_collapsed(client, world, closed):
    client.force_login(world.moderator)
    content = client.get(_review(world.meeting)).content.decode()
    box = content.index('name="topic_')
    details = content.index('<details class="board-content">', box)
    assert details > box and "open" not in content[details : details + 40]
    shown = content[details : content.index("</details>", details)]
    for text in (
        "Veta dagen innan åäö",
        "Besök på webben kvällen innan",
        "Webbteamet har siffrorna.",
        "Pilot i mars",
        "Maria Lindqvist",
    ):
        assert text in shown


def test_a_name_written_with_the_address_is_kept(client, world, closed):
    client.force_login(world.moderator)
    _post(
        client, world.meeting, extra_recipients="Anna Berg <Anna.Berg@example.se>\nutan@example.se"
    )
    closed.refresh_from_db()
    extras = [r for r in summary_recipients(summary=closed) if r.source == "extra"]
    assert [(r.name, r.email) for r in extras] == [
        ("Anna Berg", "anna.berg@example.se"),
        ("", "utan@example.se"),
    ]
    summary_render(summary_id=closed.pk)
    summary_send(summary=Summary.objects.get(pk=closed.pk), by=world.moderator)
    message = summary_messages(summary=closed).get(address="anna.berg@example.se")
    assert message.name == "Anna Berg"


def test_saving_and_sending_after_the_preview_does_not_make_the_pdf_again(client, world, closed):
    client.force_login(world.moderator)
    _post(client, world.meeting, action="preview")
    closed.refresh_from_db()
    version = closed.content_version
    assert closed.pdf_requested_version == version
    summary_render(summary_id=closed.pk)
    closed.refresh_from_db()
    made = closed.pdf.name
    # "Save and send…" with nothing changed since the preview keeps the PDF.
    response = _post(client, world.meeting, action="send")
    assert response.url == reverse("summaries:send", args=[world.meeting.code])
    # Recipients are not in the PDF either.
    _post(client, world.meeting, extra_recipients="ny@example.se")
    closed.refresh_from_db()
    assert (closed.content_version, closed.pdf_version, closed.pdf.name) == (version, version, made)
    client.post(reverse("summaries:send", args=[world.meeting.code]))
    assert summary_render(summary_id=closed.pk) is False  # nothing to make
    held = summary_messages(summary=closed).filter(not_before__gt=timezone.now())
    assert not held.exists()  # the PDF was ready: nothing waits for it
    # A changed text is a new version, and a new PDF.
    Summary.objects.filter(pk=closed.pk).update(status=SummaryStatus.DRAFT)
    _post(client, world.meeting, intro="Ny inledning")
    closed.refresh_from_db()
    assert closed.content_version == version + 1


def test_after_sending_the_review_shows_the_text_read_only_and_the_pdf(client, world, closed):
    client.force_login(world.moderator)
    _post(client, world.meeting)
    summary_render(summary_id=closed.pk)
    summary_send(summary=Summary.objects.get(pk=closed.pk), by=world.moderator)
    content = client.get(_review(world.meeting)).content.decode()
    assert "Det här skickades" in content
    assert "Tack för i dag!" in content
    assert "HR och webbteamet testar en prognos." in content
    assert "<textarea" not in content  # read-only
    assert reverse("summaries:pdf", args=[world.meeting.code]) in content
    assert '<details class="board-content">' in content


def test_after_sending_the_waiting_deliveries_can_be_sent_now(client, world, closed):
    client.force_login(world.moderator)
    summary_render(summary_id=closed.pk)
    summary_send(summary=Summary.objects.get(pk=closed.pk), by=world.moderator)
    messages = summary_messages(summary=closed)
    later = timezone.now() + timezone.timedelta(minutes=20)
    messages.filter(address="head@example.se").update(attempts=2, not_before=later)
    messages.filter(address="participant@example.se").update(
        status=MessageStatus.FAILED, attempts=6
    )
    content = client.get(_review(world.meeting)).content.decode()
    assert "Skicka det väntande nu" in content
    assert "Skicka om det misslyckade" in content
    response = client.post(
        reverse("meetings:outbox_resend", args=[world.meeting.code]),
        {"which": "waiting", "kind": "summaries.summary", "next": _review(world.meeting)},
    )
    assert response.url == _review(world.meeting)
    waiting = messages.get(address="head@example.se")
    assert waiting.status == MessageStatus.PENDING and waiting.not_before <= timezone.now()
    assert messages.get(address="participant@example.se").status == MessageStatus.FAILED


def test_a_missing_pdf_is_made_on_request_never_a_404(client, world, closed):
    Summary.objects.filter(pk=closed.pk).update(status=SummaryStatus.SENT)
    client.force_login(world.head)
    url = reverse("summaries:pdf", args=[world.meeting.code])
    waiting = client.get(url)
    assert waiting.status_code == 202
    assert "PDF:en skapas" in waiting.content.decode()
    closed.refresh_from_db()
    assert closed.pdf_requested_version == closed.content_version
    # The waiting page asks again (htmx): nothing yet, then the link.
    assert client.get(url, headers={"HX-Request": "true"}).status_code == 204
    summary_render(summary_id=closed.pk)
    ready = client.get(url, headers={"HX-Request": "true"})
    assert "PDF:en är klar" in ready.content.decode()
    download = client.get(url)
    assert download["Content-Type"] == "application/pdf"
    assert b"".join(download.streaming_content).startswith(b"%PDF")


@pytest.mark.parametrize("size", [2, 20])
def test_the_sent_review_query_count_is_constant(
    client, world, closed, django_assert_num_queries, size
):
    for n in range(size):
        department = DepartmentFactory(group=world.group)
        department.heads.add(UserFactory())
        topic = TopicFactory(meeting=world.meeting, department=department, title=f"Lapp {n}")
        ContributionFactory(topic=topic)
        FollowUpFactory(meeting=world.meeting, topic=topic)
    summary_render(summary_id=closed.pk)
    summary_send(summary=Summary.objects.get(pk=closed.pk), by=world.moderator)
    client.force_login(world.moderator)
    with django_assert_num_queries(20):
        client.get(_review(world.meeting))
