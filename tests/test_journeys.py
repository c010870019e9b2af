"""Journeys from BRIEF.md, end to end: real worker, SMTP, browser."""

import io
import re
import time
from datetime import timedelta
from urllib.parse import urlparse

import pytest
from django.db import transaction
from django.utils import timezone

from groups.models import BoardColour
from meetings.models import MeetingStatus
from meetings.services import meeting_open
from tests.conftest import text_body
from tests.factories import DepartmentFactory, GroupFactory, MeetingFactory, UserFactory
from topics.models import Topic, TopicStatus

pytestmark = [pytest.mark.browser, pytest.mark.worker]

GOAL_START = "Vi vill veta kvällen innan hur många som kommer till akuten, så att vi kan beman"


def _sign_in_with_code(page, mailbox, email):
    page.get_by_role("link", name="Mejla mig en inloggningskod").click()
    page.get_by_label(re.compile("E-?post")).fill(email)
    page.get_by_role("button", name="Begär kod").click()
    message = mailbox.wait_for(1)[-1]
    code = re.search(r"^\s*([A-Z0-9]{4}-[A-Z0-9]{4})\s*$", text_body(message), re.M).group(1)
    page.get_by_label("Kod").fill(code)
    page.get_by_role("button", name="Verifiera").click()


def test_head_writes_a_post_it_from_the_invitation_and_loses_nothing(
    celery_worker, live_server, browser, mailbox
):
    group = GroupFactory(name="Tvärgrupp IT")
    hr = DepartmentFactory(group=group, name="HR", short_name="HR", colour=BoardColour.ORANGE)
    head = UserFactory(email="maria@example.se", full_name="Maria Lindqvist")
    hr.heads.add(head)
    moderator = UserFactory(
        email="karin@example.se", full_name="Karin Åberg", password="moderatorns-lösen-1"
    )
    group.moderators.add(moderator)
    meeting = MeetingFactory(
        group=group, status=MeetingStatus.PLANNED, starts_at=timezone.now() + timedelta(days=7)
    )

    # 1. The meeting opens; the worker sends the invitations over SMTP.
    with transaction.atomic():
        meeting_open(meeting=meeting)
    messages = mailbox.wait_for(2)
    invitation = next(m for m in messages if m["To"] == "maria@example.se")
    attachments = {part.get_filename(): part for part in invitation.iter_attachments()}
    assert set(attachments) == {"mote.ics", "deadline.ics"}
    link = re.search(r"https?://\S+/postit/", text_body(invitation)).group(0)
    mailbox.clear()

    # 2. The head follows the link and signs in with the code from the e-mail.
    context = browser.new_context(locale="sv-SE", timezone_id="Europe/Stockholm")
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(live_server.url + urlparse(link).path)
    _sign_in_with_code(page, mailbox, "maria@example.se")
    page.wait_for_url(re.compile(r"/postit/"))

    # 3. Types the post-it and closes the page mid-sentence.
    page.get_by_label("Rubrik").fill("Bemanning av akuten kvällstid")
    page.get_by_label("Bakgrund").fill("Antalet besökare varierar från kväll till kväll. 🚑")
    page.get_by_label("Mål").press_sequentially(GOAL_START, delay=5)
    page.close()

    # 4. Opens it again: every word is there.
    page = context.new_page()
    page.goto(live_server.url + urlparse(link).path)
    assert page.get_by_label("Rubrik").input_value() == "Bemanning av akuten kvällstid"
    assert page.get_by_label("Bakgrund").input_value() == (
        "Antalet besökare varierar från kväll till kväll. 🚑"
    )
    assert page.get_by_label("Mål").input_value() == GOAL_START
    page.get_by_text(re.compile("^Sparat")).wait_for()

    # 5. Finishes the sentence and submits.
    page.get_by_label("Mål").press("Control+End")
    page.get_by_label("Mål").press_sequentially("na rätt.", delay=5)
    page.get_by_role("button", name="Lämna in lappen").click()
    page.get_by_text("Lappen är inlämnad", exact=False).wait_for()
    topic = Topic.objects.get()
    assert topic.status == TopicStatus.SUBMITTED
    assert topic.goal == GOAL_START + "na rätt."
    context.close()

    # 6. The moderator's intake view shows the department as submitted.
    context = browser.new_context(locale="sv-SE")
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label(re.compile("E-?post")).fill("karin@example.se")
    page.get_by_label("Lösenord").fill("moderatorns-lösen-1")
    page.locator("form[action='/accounts/login/'] button[type=submit]").click()
    page.goto(f"{live_server.url}/m/{meeting.code}/intake/")
    row = page.locator(f"#intake-{hr.code}")
    assert "Inlämnad" in row.inner_text()
    assert "Bemanning av akuten kvällstid" in row.inner_text()
    context.close()


def _password_context(browser, live_server, email, password):
    context = browser.new_context(locale="sv-SE", timezone_id="Europe/Stockholm")
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label(re.compile("E-?post")).fill(email)
    page.get_by_label("Lösenord").fill(password)
    page.locator("form[action='/accounts/login/'] button[type=submit]").click()
    page.wait_for_url(f"{live_server.url}/")
    return context, page


@pytest.mark.browser
def test_moderator_and_participant_see_each_others_changes_live(
    transactional_db, live_server, browser
):
    from board.services import board_start

    group = GroupFactory(name="Tvärgrupp IT")
    hr = DepartmentFactory(group=group, name="HR", short_name="HR", colour=BoardColour.ORANGE)
    kom = DepartmentFactory(group=group, name="Kommunikation", short_name="KOM")
    head = UserFactory(
        email="aisha@example.se", full_name="Aisha Karimi", password="aishas-lösen-1"
    )
    kom.heads.add(head)
    moderator = UserFactory(
        email="karin@example.se", full_name="Karin Åberg", password="moderatorns-lösen-1"
    )
    group.moderators.add(moderator)
    meeting = MeetingFactory(group=group, starts_at=timezone.now() - timedelta(minutes=5))
    from tests.factories import TopicFactory

    TopicFactory(
        meeting=meeting,
        department=hr,
        title="Bemanning av akuten kvällstid",
        goal="Veta dagen innan",
    )
    board_start(meeting=meeting)

    mod_context, board = _password_context(
        browser, live_server, "karin@example.se", "moderatorns-lösen-1"
    )
    board.goto(f"{live_server.url}/m/{meeting.code}/board/")
    part_context, phone = _password_context(
        browser, live_server, "aisha@example.se", "aishas-lösen-1"
    )
    phone.goto(f"{live_server.url}/m/{meeting.code}/live/")
    spotlight = phone.locator("#spotlight-title")
    assert spotlight.inner_text() == "Ingen har ordet än"

    # The moderator gives the word from the keyboard: focus the card, press Enter.
    board.locator("[data-give]").first.focus()
    board.keyboard.press("Enter")
    board.locator("#spotlight-title", has_text="Bemanning av akuten kvällstid").wait_for()
    # The participant's screen follows without a reload.
    phone.locator("#spotlight-title", has_text="Bemanning av akuten kvällstid").wait_for(
        timeout=3000
    )
    assert "Veta dagen innan" in phone.locator("#spotlight").inner_text()

    # The participant adds an idea; it appears on the moderator's board.
    phone.get_by_role("textbox", name="Idé eller tanke").fill(
        "Webbtrafiken kvällen innan förutsäger besöken 🚑"
    )
    phone.get_by_role("button", name="Lägg till").click()
    board.locator(".idea", has_text="Webbtrafiken kvällen innan").wait_for(timeout=3000)
    assert "KOM" in board.locator(".idea").first.inner_text()
    assert "Aisha Karimi" in board.locator(".idea").first.inner_text()

    # Typing on the board is not wiped by live changes.
    board.locator("#notes-text").fill("Anteckning som skrivs just nu")
    phone.get_by_role("textbox", name="Idé eller tanke").fill("En idé till")
    phone.get_by_role("button", name="Lägg till").click()
    board.locator(".idea", has_text="En idé till").wait_for(timeout=3000)
    assert board.locator("#notes-text").input_value() == "Anteckning som skrivs just nu"
    mod_context.close()
    part_context.close()


@pytest.mark.browser
def test_moderator_reorders_the_agenda_from_the_keyboard_and_by_dragging(
    transactional_db, live_server, browser
):
    from playwright.sync_api import expect

    from board.services import board_start
    from tests.factories import TopicFactory

    group = GroupFactory()
    department = DepartmentFactory(group=group)
    moderator = UserFactory(email="karin@example.se", password="moderatorns-lösen-1")
    group.moderators.add(moderator)
    meeting = MeetingFactory(group=group)
    for n, title in enumerate(["Första", "Andra", "Tredje"]):
        TopicFactory(meeting=meeting, department=department, title=title, position=n)
    board_start(meeting=meeting)

    context, page = _password_context(
        browser, live_server, "karin@example.se", "moderatorns-lösen-1"
    )
    page.goto(f"{live_server.url}/m/{meeting.code}/board/")
    titles = page.locator("#agenda .agenda-item__title")
    page.locator("[data-give]").first.focus()
    page.keyboard.press("Alt+ArrowDown")
    expect(titles).to_have_text(["Andra", "Första", "Tredje"])

    page.locator("[data-code]").nth(2).drag_to(page.locator("[data-code]").first)
    expect(titles).to_have_text(["Tredje", "Andra", "Första"])
    deadline = time.monotonic() + 5  # the drop posts the new order in the background
    while time.monotonic() < deadline:
        ordered = list(meeting.topics.order_by("position").values_list("title", flat=True))
        if ordered == ["Tredje", "Andra", "Första"]:
            break
        time.sleep(0.1)
    assert ordered == ["Tredje", "Andra", "Första"]
    context.close()


def _link_in(message, pattern: str) -> str:
    return urlparse(re.search(pattern, text_body(message), re.M).group(1)).path


def test_a_new_organisation_sets_up_its_forum_and_the_summary_knows_who_came(
    celery_worker, live_server, browser, mailbox
):
    """Journey 1 on a fresh installation (no demo data), through the product's own pages,
    with every e-mail read off the SMTP server."""
    from django.core.management import call_command
    from playwright.sync_api import expect

    from meetings.models import Meeting

    call_command("create_admin", "karin@example.se", "--name", "Karin Åberg", stdout=io.StringIO())
    admin = browser.new_context(locale="sv-SE", timezone_id="Europe/Stockholm")
    admin.set_default_timeout(15_000)
    page = admin.new_page()

    # 1. The administrator signs in with an e-mailed code and creates the group.
    page.goto(live_server.url + "/")
    _sign_in_with_code(page, mailbox, "karin@example.se")
    mailbox.clear()
    page.get_by_role("link", name="Skapa en tvärgrupp").first.click()
    page.get_by_label("Namn").fill("Tvärgrupp IT")
    page.get_by_role("button", name="Skapa gruppen").click()
    expect(page.get_by_role("heading", name="Inställningar och avdelningar")).to_be_visible()

    # 2. Three departments.
    for name, short, colour in [
        ("HR", "HR", "Orange"),
        ("Ekonomi", "EKO", "Blågrön"),
        ("Marknad", "MAR", "Rödlila"),
    ]:
        form = page.locator("[data-department-form]")
        form.get_by_label(re.compile(r"^Namn")).fill(name)
        form.get_by_label("Kortnamn").fill(short)
        form.locator(".swatch", has_text=colour).click()
        page.get_by_role("button", name="Lägg till avdelningen").click()
        expect(page.locator("#departments")).to_contain_text(name)

    # 3. Five invitations pasted at once; the worker sends them over SMTP.
    page.goto(page.url.split("/settings")[0] + "/members/")
    page.get_by_label("Personer").fill(
        "Maria Lindqvist <maria@example.se>, HR\n"
        "Erik Berg <erik@example.se>, EKO\n"
        "Sara Nilsson <sara@example.se>, MAR\n"
        "Omar Haddad <omar@example.se>, HR\n"
        "Lena Ek <lena@example.se>, EKO\n"
    )
    page.get_by_role("button", name="Skicka inbjudningarna").click()
    invitations = mailbox.wait_for(5)
    assert sorted(m["To"] for m in invitations) == [
        "erik@example.se",
        "lena@example.se",
        "maria@example.se",
        "omar@example.se",
        "sara@example.se",
    ]
    to_maria = next(m for m in invitations if m["To"] == "maria@example.se")
    mailbox.clear()

    # 4. Maria accepts from her e-mail, in her own browser.
    head = browser.new_context(locale="sv-SE", timezone_id="Europe/Stockholm")
    head.set_default_timeout(15_000)
    maria = head.new_page()
    maria.goto(live_server.url + _link_in(to_maria, r"(https?://\S+/invitations/\S+)"))
    maria.get_by_role("button", name="Gå med i gruppen").click()
    expect(maria.get_by_text("Tvärgrupp IT").first).to_be_visible()

    # 5. The administrator plans a meeting that starts in a few minutes and opens it now.
    group_url = page.url.split("/members")[0] + "/"
    page.goto(group_url)
    page.get_by_role("link", name="Nytt möte").click()
    soon = timezone.localtime(timezone.now() + timedelta(minutes=10))
    page.get_by_label("Börjar").fill(soon.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Slutar").fill((soon + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Sista dag för lappar").fill(
        (soon - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M")
    )
    page.get_by_label("Öppna för lappar och skicka inbjudningarna nu").check()
    page.get_by_role("button", name="Spara").click()
    meeting = Meeting.objects.get(group__name="Tvärgrupp IT")

    # 6. Maria answers "Jag kommer" from the invitation read off the SMTP server.
    mails = mailbox.wait_for(2)
    to_maria = next(m for m in mails if m["To"] == "maria@example.se")
    maria.goto(live_server.url + _link_in(to_maria, r"^Jag kommer: (\S+)"))
    maria.get_by_role("button", name="Ja, jag kommer").click()
    expect(maria.get_by_role("heading", name="Tack, ditt svar är sparat")).to_be_visible()

    # 7. The meeting runs: attendance on the board, by mouse and by keyboard.
    page.goto(live_server.url + f"/m/{meeting.code}/board/")
    page.get_by_role("button", name="Starta mötet").click()
    panel = page.locator("#attendance")
    expect(panel).to_contain_text("0 av 2 närvarande")
    expect(panel.locator(".roll__row").first).to_contain_text("Maria Lindqvist")
    expect(panel.locator(".roll__row").first).to_contain_text("svarat: kommer")
    panel.get_by_role("button", name=re.compile(r"^Närvarande\W+Maria Lindqvist$")).click()
    expect(panel).to_contain_text("1 av 2 närvarande")
    me = panel.get_by_role("button", name=re.compile(r"^Närvarande\W+Karin Åberg$"))
    me.focus()
    page.keyboard.press("Enter")
    expect(panel).to_contain_text("2 av 2 närvarande")
    expect(
        panel.get_by_role("button", name=re.compile(r"^Närvarande\W+Karin Åberg$"))
    ).to_be_focused()
    expect(
        panel.get_by_role("button", name=re.compile(r"^Närvarande\W+Karin Åberg$"))
    ).to_have_attribute("aria-pressed", "true")

    # 8. Closing the meeting: the summary lists exactly who was marked present.
    page.get_by_role("link", name="Avsluta mötet").click()
    page.get_by_role("button", name="Ja, avsluta mötet").click()
    expect(page.locator(".took-part")).to_have_text("Karin Åberg, Maria Lindqvist (HR)")
    admin.close()
    head.close()
