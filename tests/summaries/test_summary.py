"""Closing a meeting, reviewing its summary, the PDF, the e-mails, who may download."""

import io
from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.core.mail import get_connection
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone, translation
from pypdf import PdfReader

from meetings.models import AttendanceStatus, MeetingStatus
from outbox.models import MessageStatus
from outbox.services import messages_resend
from summaries.messages import _prepared, render_summary, summary_bodies
from summaries.models import Summary, SummaryStatus
from summaries.pdf import static_path
from summaries.selectors import summary_messages
from summaries.services import meeting_close, summary_render, summary_send
from tests.conftest import header, mime_shape, send_outbox, text_body
from tests.factories import (
    AttendanceFactory,
    ContributionFactory,
    DepartmentFactory,
    FollowUpFactory,
    TopicFactory,
    UserFactory,
)

HOSTILE = (
    '<link rel="attachment" href="file:///etc/passwd"> <img src="file:///etc/hostname"> '
    "<style>body{background:url(file:///etc/passwd)}</style> url(file:///etc/passwd) "
    "<script>alert(1)</script> 🎉 " + "ö" * 200
)


@pytest.fixture
def closed(world):
    world.meeting.status = MeetingStatus.LIVE
    world.meeting.save()
    TopicFactory(
        meeting=world.meeting,
        department=world.hr,
        author=world.head,
        title="Bemanning av akuten kvällstid",
        goal="Veta dagen innan åäö",
    )
    TopicFactory(meeting=world.meeting, department=world.it, title="Webbstatistik som ingen läser")
    return meeting_close(meeting=world.meeting)


def _pdf_text(summary) -> str:
    summary.refresh_from_db()
    summary.pdf.open("rb")
    reader = PdfReader(io.BytesIO(summary.pdf.read()))
    summary.pdf.close()
    return "\n".join(page.extract_text() for page in reader.pages)


def test_closing_the_meeting_assembles_a_draft_summary(client, world):
    world.meeting.status = MeetingStatus.LIVE
    world.meeting.save()
    client.force_login(world.moderator)
    url = reverse("summaries:close", args=[world.meeting.code])
    assert "Avsluta mötet?" in client.get(url).content.decode()
    response = client.post(url)
    assert response.url == reverse("summaries:review", args=[world.meeting.code])
    world.meeting.refresh_from_db()
    assert world.meeting.status == MeetingStatus.CLOSED
    assert Summary.objects.get(meeting=world.meeting).status == SummaryStatus.DRAFT


def test_a_planned_meeting_cannot_be_closed(world):
    world.meeting.status = MeetingStatus.PLANNED
    world.meeting.save()
    with pytest.raises(ValidationError):
        meeting_close(meeting=world.meeting)


def test_recipients_are_attendees_all_heads_and_extras_each_once(client, world, closed):
    declined = UserFactory(email="declined@example.se")
    AttendanceFactory(meeting=world.meeting, user=declined, status=AttendanceStatus.DECLINED)
    it_head = UserFactory(email="it-head@example.se")
    world.it.heads.add(it_head)
    client.force_login(world.moderator)
    url = reverse("summaries:review", args=[world.meeting.code])
    client.post(
        url,
        {
            "intro": "Tack!",
            "extra_recipients": "Chef@Example.se\nparticipant@example.se",
            "action": "save",
        },
    )
    emails = [r.email for r in client.get(url).context["recipients"]]
    assert emails == [
        "participant@example.se",
        "head@example.se",
        "it-head@example.se",
        "chef@example.se",
    ]


def test_leaving_out_a_recipient_keeps_what_was_typed(client, world, closed):
    client.force_login(world.moderator)
    url = reverse("summaries:review", args=[world.meeting.code])
    client.post(url + "?email=head@example.se", {"intro": "Skrivet nyss", "action": "exclude"})
    closed.refresh_from_db()
    assert closed.intro == "Skrivet nyss"
    assert closed.excluded == ["head@example.se"]
    page = client.get(url)
    assert page.context["recipient_count"] == 1
    client.post(url + "?email=head@example.se", {"intro": "Skrivet nyss", "action": "include"})
    closed.refresh_from_db()
    assert closed.excluded == []


@pytest.mark.parametrize(
    ("data", "field", "error"),
    [
        (
            {"extra_recipients": "inte-en-adress\nok@example.se"},
            "extra_recipients",
            "Inte en e-postadress: inte-en-adress",
        ),
        (
            {"intro": "x" * 8001},
            "intro",
            "Säkerställ att detta värde har som mest 8000 tecken (den har 8001).",
        ),
    ],
)
def test_review_bad_input_shows_field_errors_and_keeps_the_text(
    client, world, closed, data, field, error
):
    client.force_login(world.moderator)
    payload = {
        "intro": "Min inledning <b>åäö</b>",
        "extra_recipients": "",
        "action": "save",
        **data,
    }
    response = client.post(reverse("summaries:review", args=[world.meeting.code]), payload)
    assert response.status_code == 400
    assert response.context["form"].errors[field] == [error]
    if field != "intro":
        assert "Min inledning &lt;b&gt;åäö&lt;/b&gt;" in response.content.decode()
    closed.refresh_from_db()
    assert closed.intro == ""


def test_the_pdf_has_a_cover_page_numbers_every_title_and_swedish_text(world, closed):
    topic = world.meeting.topics.get(title="Bemanning av akuten kvällstid")
    ContributionFactory(topic=topic, department=world.it, text="Webbtrafiken förutsäger besöken")
    FollowUpFactory(
        meeting=world.meeting, topic=topic, title="Pilot för prognos", owner_department=world.it
    )
    closed.intro = "Tack för ett givande möte."
    closed.save()
    assert summary_render(summary_id=closed.pk) is True
    assert summary_render(summary_id=closed.pk) is False  # once per content version
    text = _pdf_text(closed)
    assert "Tvärgrupp IT" in text
    assert "Bemanning av akuten kvällstid" in text
    assert "Webbstatistik som ingen läser" in text
    assert "Pilot för prognos" in text
    assert "Sida 1 av 2" in text and "Sida 2 av 2" in text


def test_hostile_text_is_shown_as_text_and_nothing_is_fetched_or_embedded(world, closed):
    topic = world.meeting.topics.first()
    topic.background = HOSTILE
    topic.notes = HOSTILE
    topic.save()
    ContributionFactory(topic=topic, text=HOSTILE)
    closed.intro = HOSTILE
    closed.save()
    summary_render(summary_id=closed.pk)
    closed.refresh_from_db()
    closed.pdf.open("rb")
    data = closed.pdf.read()
    closed.pdf.close()
    reader = PdfReader(io.BytesIO(data))
    assert reader.attachments == {}
    passwd = Path("/etc/passwd").read_bytes()[:20]
    assert passwd not in data
    text = "\n".join(page.extract_text() for page in reader.pages).replace(" ", "")
    assert 'href="file:///etc/passwd"' in text
    assert "<script>alert(1)</script>" in text


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "https://example.com/static/css/print.css",
        "https://tvargrupp.invalid/static/../../etc/passwd",
        "https://tvargrupp.invalid/static/%2e%2e/%2e%2e/etc/passwd",
        "https://tvargrupp.invalid/media/summaries/x.pdf",
        "data:text/css,body{}",
    ],
)
def test_the_pdf_fetcher_refuses_everything_but_static_files(url):
    assert static_path(url) is None


def test_the_pdf_fetcher_serves_the_print_stylesheet():
    path = static_path("https://tvargrupp.invalid/static/css/print.css")
    assert path is not None and path.name == "print.css"


def test_each_email_is_in_the_recipients_language_with_the_pdf(world, closed):
    english = UserFactory(email="en@example.se", full_name="Eve\nBcc: x@example.com", language="en")
    AttendanceFactory(meeting=world.meeting, user=english)
    summary_render(summary_id=closed.pk)
    summary_send(summary=closed, by=world.moderator)
    delivery = summary_messages(summary=closed).get(address="en@example.se")
    message = message_from_bytes(
        render_summary(delivery, {}).message().as_bytes(), policy=policy.default
    )
    assert header(message, "Subject").startswith("[Tvärgrupp] Summary: Tvärgrupp IT ")
    assert header(message, "Reply-To") == "moderator@example.se"
    assert "Bcc" not in message
    parts = {part.get_content_type() for part in message.walk()}
    assert {"text/plain", "text/html", "application/pdf"} <= parts
    swedish = render_summary(summary_messages(summary=closed).get(address="head@example.se"), {})
    assert swedish.subject.startswith("[Tvärgrupp] Sammanfattning: Tvärgrupp IT ")
    assert "Bemanning av akuten kvällstid" in swedish.body


def test_every_recipient_gets_the_same_pdf_bytes_and_it_parses_as_the_pdf(world, closed, mailbox):
    summary_render(summary_id=closed.pk)
    summary_send(summary=closed, by=world.moderator)
    send_outbox()
    received = mailbox.wait_for(2)
    assert sorted(header(m, "To") for m in received) == [
        "head@example.se",
        "participant@example.se",
    ]
    attachments = [
        next(part for part in m.walk() if part.get_content_type() == "application/pdf")
        for m in received
    ]
    # What went on the wire, base64 and all, and what it decodes to: one PDF for everyone.
    assert attachments[0].as_bytes() == attachments[1].as_bytes()
    pdf = attachments[0].get_content()
    closed.refresh_from_db()
    with closed.pdf.open("rb") as stored:
        assert pdf == stored.read()
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) >= 2
    assert "Bemanning av akuten kvällstid" in "\n".join(p.extract_text() for p in reader.pages)
    zone = ZoneInfo(world.meeting.group.time_zone)
    date = timezone.localtime(world.meeting.starts_at, zone).date().isoformat()
    assert {a.get_filename() for a in attachments} == {f"sammanfattning-{date}.pdf"}
    # Encoded once: each copy carries the part made for this version, in any batch.
    messages = summary_messages(summary=closed)
    parts = [render_summary(m, {}).attachments[-1] for m in messages]
    assert parts[0] is parts[1]
    # A new version of the summary is a new PDF, not the part made for the last one.
    first = render_summary(messages.first(), {}).message()
    closed.intro = "Ny inledning"
    closed.content_version += 1
    closed.save()
    summary_render(summary_id=closed.pk)
    second = render_summary(messages.first(), {}).message()
    pdfs = [
        next(p for p in m.walk() if p.get_content_type() == "application/pdf").get_payload(
            decode=True
        )
        for m in (first, second)
    ]
    assert pdfs[0] == pdf
    assert pdfs[1] != pdf
    assert "Ny inledning" in "\n".join(
        p.extract_text() for p in PdfReader(io.BytesIO(pdfs[1])).pages
    )


def test_each_summary_on_the_wire_is_the_email_django_makes_in_its_language(world, closed, mailbox):
    english = UserFactory(email="en@example.se", full_name="Eve Ek", language="en")
    AttendanceFactory(meeting=world.meeting, user=english)
    summary_render(summary_id=closed.pk)
    summary_send(summary=closed, by=world.moderator)
    send_outbox()

    received = {header(m, "To"): m for m in mailbox.wait_for(3)}
    assert sorted(received) == ["en@example.se", "head@example.se", "participant@example.se"]
    # The same rows made and sent by Django's own SMTP backend arrive the same.
    rows = list(summary_messages(summary=closed))
    get_connection().send_messages([render_summary(row, {}) for row in rows])
    djangos = {header(m, "To"): m for m in mailbox.wait_for(6)[3:]}
    for row in rows:
        assert mime_shape(received[row.address]) == mime_shape(djangos[row.address])
    assert header(received["en@example.se"], "Subject").startswith("[Tvärgrupp] Summary: ")
    assert "Hello Eve Ek," in text_body(received["en@example.se"])
    assert header(received["head@example.se"], "Subject").startswith("[Tvärgrupp] Sammanfattning: ")
    assert "Hej Maria Lindqvist," in text_body(received["head@example.se"])


@pytest.mark.parametrize("language", ["sv", "en"])
def test_the_body_made_once_per_language_reads_as_if_made_for_each_person(world, closed, language):
    names = ["Åsa <Öberg> & 'Eva' \"Q\"", "", "Eva \ue000name\ue000 Ek", "Omar Haddad"]
    for number, name in enumerate(names):
        person = UserFactory(email=f"p{number}@example.se", full_name=name, language=language)
        AttendanceFactory(meeting=world.meeting, user=person)
    summary_render(summary_id=closed.pk)
    summary_send(summary=closed, by=world.moderator)
    rows = summary_messages(summary=closed).filter(language=language, address__startswith="p")
    cache = {}  # one batch: the templates are rendered once for all four

    for row in rows:
        email = render_summary(row, cache)
        summary, _pdf, topics = _prepared(row, cache)
        with translation.override(language), timezone.override(world.meeting.group.time_zone):
            alone = summary_bodies(summary=summary, topics=topics, name=row.name, email=row.address)
        assert (email.body, email.alternatives[0].content) == alone
    greetings = {row.name: render_summary(row, cache).body.splitlines()[0] for row in rows}
    hello = {"sv": "Hej", "en": "Hello"}[language]
    assert greetings["Åsa <Öberg> & 'Eva' \"Q\""] == f"{hello} Åsa <Öberg> & 'Eva' \"Q\","
    assert greetings[""] == f"{hello}!"


def test_send_asks_first_then_writes_one_delivery_per_recipient(client, world, closed):
    client.force_login(world.moderator)
    url = reverse("summaries:send", args=[world.meeting.code])
    assert "2 mottagare" in client.get(url).content.decode()
    assert not summary_messages(summary=closed).exists()
    client.post(url)
    closed.refresh_from_db()
    assert closed.status == SummaryStatus.SENDING
    assert sorted(summary_messages(summary=closed).values_list("address", flat=True)) == [
        "head@example.se",
        "participant@example.se",
    ]
    refused = client.post(
        reverse("summaries:review", args=[world.meeting.code]),
        {"intro": "För sent", "action": "save"},
    )
    closed.refresh_from_db()
    assert closed.intro == ""
    assert refused.status_code == 200


def test_resending_puts_failed_deliveries_back_in_the_queue(world, closed):
    summary_send(summary=closed, by=world.moderator)
    messages = summary_messages(summary=closed)
    messages.filter(address="head@example.se").update(
        status=MessageStatus.FAILED, attempts=6, last_error="550 5.1.1 no such user"
    )
    assert messages_resend(messages=messages) == 1
    failed = messages.get(address="head@example.se")
    assert (failed.status, failed.attempts, failed.last_error) == (MessageStatus.PENDING, 0, "")


@override_settings(MAIL_RATE_PER_MINUTE=30)
def test_the_sending_rate_gives_an_estimated_finish(client, world, closed):
    for n in range(10):
        AttendanceFactory(meeting=world.meeting, user=UserFactory(email=f"r{n}@example.se"))
    summary_render(summary_id=closed.pk)
    summary_send(summary=closed, by=world.moderator)
    client.force_login(world.moderator)
    response = client.get(reverse("summaries:review", args=[world.meeting.code]))
    finish = response.context["outbox"].finish
    # Twelve e-mails, one every two seconds: the last goes 11 slots after the first.
    expected = timezone.now() + timedelta(minutes=11 / 30)
    assert abs((finish - expected).total_seconds()) < 5
    assert "alla skickade omkring" in response.content.decode()


@pytest.mark.parametrize(
    ("role", "status", "expected"),
    [
        ("moderator", SummaryStatus.DRAFT, 200),
        ("participant", SummaryStatus.DRAFT, 403),
        ("participant", SummaryStatus.SENT, 200),
        ("head", SummaryStatus.SENT, 200),
        ("outsider", SummaryStatus.SENT, 404),
    ],
)
def test_only_the_meetings_participants_download_the_pdf(
    client, world, closed, role, status, expected
):
    summary_render(summary_id=closed.pk)
    Summary.objects.filter(pk=closed.pk).update(status=status)
    client.force_login(getattr(world, role))
    response = client.get(reverse("summaries:pdf", args=[world.meeting.code]))
    assert response.status_code == expected
    if expected == 200:
        assert response["Content-Type"] == "application/pdf"
        # Never kept by a browser's or a proxy's cache.
        assert {"private", "no-store"} <= set(response["Cache-Control"].split(", "))
        assert b"".join(response.streaming_content).startswith(b"%PDF")


def test_a_group_participant_not_invited_to_the_meeting_cannot_download(client, world, closed):
    guest = UserFactory()
    world.group.participants.add(guest)
    summary_render(summary_id=closed.pk)
    Summary.objects.filter(pk=closed.pk).update(status=SummaryStatus.SENT)
    client.force_login(guest)
    assert client.get(reverse("summaries:pdf", args=[world.meeting.code])).status_code == 403


@pytest.mark.parametrize("size", [2, 20])
def test_review_and_deliveries_query_counts_are_constant(
    client, world, closed, django_assert_num_queries, size
):
    for n in range(size):
        department = DepartmentFactory(group=world.group)
        head = UserFactory()
        department.heads.add(head)
        topic = TopicFactory(meeting=world.meeting, department=department, title=f"Lapp {n}")
        ContributionFactory(topic=topic)
    client.force_login(world.moderator)
    with django_assert_num_queries(18):
        client.get(reverse("summaries:review", args=[world.meeting.code]))
    summary_send(summary=closed, by=world.moderator)
    with django_assert_num_queries(7):
        response = client.get(reverse("summaries:deliveries", args=[world.meeting.code]))
    assert response.content.decode().count('class="outbox__row ') == size + 2


@pytest.mark.parametrize("role", ["participant", "head"])
def test_only_moderators_review_close_or_send(client, world, closed, role):
    client.force_login(getattr(world, role))
    for name in ["summaries:review", "summaries:close", "summaries:send", "summaries:deliveries"]:
        assert client.get(reverse(name, args=[world.meeting.code])).status_code == 403
    assert client.post(reverse("summaries:send", args=[world.meeting.code])).status_code == 403
    assert not summary_messages(summary=closed).exists()
    client.force_login(world.outsider)
    assert client.get(reverse("summaries:review", args=[world.meeting.code])).status_code == 404


@pytest.mark.parametrize("size", [3, 30])
def test_the_send_request_makes_the_same_queries_for_any_number_of_recipients(
    client, world, closed, django_assert_num_queries, size
):
    """Rows in bulk and one wake-up per batch: 300 recipients cost what 3 do."""
    from django.contrib.contenttypes.models import ContentType

    for n in range(size):
        AttendanceFactory(meeting=world.meeting, user=UserFactory(email=f"mottagare{n}@example.se"))
    summary_render(summary_id=closed.pk)
    client.force_login(world.moderator)
    ContentType.objects.clear_cache()  # the same start whichever test runs first
    with django_assert_num_queries(17):
        response = client.post(reverse("summaries:send", args=[world.meeting.code]))
    assert response.status_code == 302
    # one message to each attendee and department head, each once
    assert summary_messages(summary=closed).count() == size + 2
