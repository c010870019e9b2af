"""Issue 11's journey, end to end on the real parts (worker, SMTP, browser).

Meeting one produces a follow-up and a micro-project; before meeting two the status
e-mail is read off the SMTP server and answered through its link without signing
in; meeting two's board shows the answer in its lane; the follow-up is marked done
there; meeting two's summary PDF lists it as done.
"""

import io
import re
from datetime import timedelta
from urllib.parse import urlparse

import pytest
from django.db import transaction
from django.utils import timezone
from pypdf import PdfReader

from board.services import board_give_word, board_start, follow_up_add
from groups.models import BoardColour
from meetings.models import MeetingStatus
from summaries.services import meeting_close, summary_render
from tests.conftest import signed_in_context, text_body, wait_until
from tests.factories import (
    AttendanceFactory,
    DepartmentFactory,
    GroupFactory,
    MeetingFactory,
    TopicFactory,
    UserFactory,
)
from topics.models import FollowUp, MicroProject, StatusAnswer
from topics.services import status_requests_queue

pytestmark = [pytest.mark.browser, pytest.mark.worker]


def test_a_follow_up_comes_back_answered_and_is_closed_at_the_next_meeting(
    celery_worker, live_server, browser, mailbox, settings
):
    settings.SITE_URL = live_server.url
    group = GroupFactory(name="Tvärgrupp IT")
    hr = DepartmentFactory(group=group, name="HR", short_name="HR", colour=BoardColour.ORANGE)
    head = UserFactory(email="maria@example.se", full_name="Maria Lindqvist")
    hr.heads.add(head)
    moderator = UserFactory(email="karin@example.se", full_name="Karin Åberg")
    group.moderators.add(moderator)
    it_person = UserFactory(email="ivar@example.se", full_name="Ivar Holm")
    group.it_members.add(it_person)
    now = timezone.now()
    one = MeetingFactory(group=group, starts_at=now - timedelta(days=30), status=MeetingStatus.OPEN)
    two = MeetingFactory(group=group, starts_at=now + timedelta(days=4), status=MeetingStatus.OPEN)
    AttendanceFactory(meeting=two, user=head)
    topic = TopicFactory(meeting=one, department=hr, author=head, title="Bemanna akuten")

    # Meeting one: the follow-up is written on the board; the meeting is closed.
    with transaction.atomic():
        board_start(meeting=one, now=one.starts_at)
        board_give_word(meeting=one, code=topic.code)
        follow_up_add(
            meeting=one,
            code=topic.code,
            title="Ta fram besöksstatistiken",
            owner=head,
            owner_department=hr,
            due_date=timezone.localdate() + timedelta(days=10),
            by=moderator,
        )
        meeting_close(meeting=one)

    # The moderator writes the IT perspective in the browser and makes a micro-project.
    context = signed_in_context(browser, live_server, moderator)
    page = context.new_page()
    page.goto(live_server.url + f"/m/{one.code}/it/")
    page.get_by_text("Lägg till en lösning").click()
    page.get_by_label("Lösning").fill("Prognos från webbtrafiken")
    page.get_by_label("M – veckor").check()
    page.get_by_role("button", name="Lägg till lösningen").click()
    page.get_by_role("link", name=re.compile("Ändra, ta bort eller gör till mikroprojekt")).click()
    page.get_by_label("Ansvarig").select_option(label="Ivar Holm")
    page.get_by_role("button", name="Gör till mikroprojekt").click()
    page.wait_for_url(re.compile(r"/p/"))
    project = MicroProject.objects.get()
    assert (project.owner, project.status) == (it_person, "proposed")
    page.goto(live_server.url + f"/m/{one.code}/it/")
    page.get_by_role("button", name=re.compile("Publicera")).click()
    page.get_by_text(re.compile("Publicerat")).first.wait_for()

    # Four days before meeting two: the status e-mails, sent by the worker over SMTP.
    with transaction.atomic():
        assert status_requests_queue() == 2
    messages = {m["To"]: m for m in mailbox.wait_for(2)}
    body = text_body(messages["maria@example.se"])
    assert "Ta fram besöksstatistiken" in body
    link = re.search(r"https?://\S+/status/\S+/", body).group(0)
    mailbox.clear()

    # The head answers through the link, without signing in.
    anonymous = browser.new_context(locale="sv-SE", timezone_id="Europe/Stockholm")
    anonymous.set_default_timeout(10_000)
    answer_page = anonymous.new_page()
    answer_page.goto(live_server.url + urlparse(link).path)
    answer_page.get_by_label("Vad har hänt sedan sist?").fill(
        "Statistiken för tre år är framtagen; avvikelsen är under 5 %. 📈"
    )
    answer_page.get_by_role("button", name="Skicka mitt svar").click()
    answer_page.get_by_text("Tack, ditt svar är sparat.").wait_for()
    assert StatusAnswer.objects.get().by == head
    anonymous.close()

    # Meeting two's board opens with the answer in its lane; the follow-up is marked done.
    page.goto(live_server.url + f"/m/{two.code}/board/")
    lane = page.locator("#lane")
    lane.get_by_text("avvikelsen är under 5 %").wait_for()
    lane.get_by_role("button", name=re.compile("Markera som klar")).click()
    wait_until(lambda: FollowUp.objects.get().status == "done", what="the follow-up is marked done")
    page.screenshot(path="var/journey-lane.png", full_page=True)
    context.close()

    # Meeting two closes; its summary PDF (the summary's own renderer) lists it as done.
    with transaction.atomic():
        summary = meeting_close(meeting=two)
    assert summary_render(summary_id=summary.pk)
    summary.refresh_from_db()
    with summary.pdf.open("rb") as stored:
        reader = PdfReader(io.BytesIO(stored.read()))
    text = " ".join(" ".join(p.extract_text() for p in reader.pages).split())
    assert "Ta fram besöksstatistiken" in text
    assert "Klar" in text[text.index("Ta fram besöksstatistiken") :]
