"""The radar in Chromium: a head of HR writes about the emergency ward and meets
last month's post-it of the demo, without the form losing focus."""

import time

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from accounts.models import User
from tests.conftest import signed_in_context

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_head_typing_about_the_emergency_ward_sees_the_earlier_post_it(browser, live_server):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    maria = User.objects.get(email="maria.lindqvist@demo.tvargrupp.se")
    context = signed_in_context(browser, live_server, maria)
    page = context.new_page()
    page.goto(f"{live_server.url}/m/demonasta/postit/")
    radar = page.locator(".radar")
    expect(radar.locator("#radar-results")).to_contain_text("Skriv en rubrik")
    expect(radar.locator("[aria-live=polite]")).to_have_count(1)

    title = page.get_by_label("Rubrik")
    title.click()
    title.press_sequentially("bemanningen på akuten kvällstid", delay=20)
    paused = time.monotonic()
    hit = radar.locator(".radar-hit__title", has_text="Bemanning av akuten kvällstid")
    expect(hit).to_be_visible(timeout=1000)
    assert time.monotonic() - paused < 1.0
    # Typing goes on where it was: the radar never takes focus.
    assert page.evaluate("document.activeElement.id") == "id_title"
    expect(radar).to_contain_text("ledde till en uppföljning")

    # Open it without leaving the form; it stays open when the list refreshes.
    hit.click()
    expect(radar.get_by_text("Vi har ingen prognos")).to_be_visible()
    title.focus()
    title.press("End")
    title.press_sequentially(" igen", delay=20)
    page.wait_for_timeout(900)
    expect(radar.get_by_text("Vi har ingen prognos")).to_be_visible()
    assert page.url.endswith("/m/demonasta/postit/") or "topic=" in page.url

    # Propose it as a similar challenge once the draft is saved.
    expect(page.locator("#save-status")).to_contain_text("Sparat", timeout=5000)
    radar.get_by_role("button", name="Liknande utmaning").first.click()
    expect(radar).to_contain_text("Föreslagen för moderatorn")
    expect(page.get_by_label("Rubrik")).to_have_value("bemanningen på akuten kvällstid igen")
    context.close()
