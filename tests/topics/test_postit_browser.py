"""The post-it form in Chromium: autosave during continuous typing, a conflict that
lists only what really differs, and a long paste that is never cut."""

import pytest
from django.urls import reverse

from tests.conftest import signed_in_context
from tests.factories import TopicFactory
from topics.models import Topic, TopicStatus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _open(browser, live_server, world, *, fake_clock=False):
    context = signed_in_context(browser, live_server, world.head)
    page = context.new_page()
    if fake_clock:
        page.clock.install()
    page.goto(live_server.url + reverse("topics:postit", args=[world.meeting.code]))
    return context, page


def test_continuous_typing_is_saved_at_least_every_five_seconds(browser, live_server, world):
    context, page = _open(browser, live_server, world, fake_clock=True)
    saves = []
    page.on("request", lambda request: "autosave" in request.url and saves.append(request))
    goal = page.get_by_label("Mål")
    first_save_at = None
    # A key every 0.4 s for 8 s: never the pause that triggers a save.
    for n in range(20):
        goal.press("a")
        page.clock.run_for(400)
        page.wait_for_timeout(30)  # real time for the request event to arrive
        if saves and first_save_at is None:
            first_save_at = (n + 1) * 400
    assert first_save_at is not None and first_save_at <= 5600, first_save_at
    page.clock.run_for(2000)
    page.get_by_text("Sparat").wait_for()
    assert Topic.objects.get().goal == "a" * 20
    context.close()


def test_a_conflict_lists_only_fields_that_really_differ(browser, live_server, world):
    topic = TopicFactory(
        meeting=world.meeting,
        department=world.hr,
        author=world.head,
        status=TopicStatus.DRAFT,
        submitted_at=None,
        title="Min rubrik",
        background="rad ett\nrad två",
    )
    context, page = _open(browser, live_server, world)
    assert page.get_by_label("Bakgrund").input_value() == "rad ett\nrad två"
    # Another head saved meanwhile: a new title, the same background stored with CRLF.
    Topic.objects.filter(pk=topic.pk).update(
        title="Deras rubrik", background="rad ett\r\nrad två", version=2
    )
    page.get_by_label("Mål").press_sequentially("Mitt mål", delay=10)
    panel = page.locator("#conflict-panel")
    panel.wait_for()
    # The title and the goal being typed differ; the background does not.
    assert panel.locator("dt").all_inner_texts() == ["Rubrik", "Mål"]
    assert "Deras rubrik" in panel.inner_text()
    assert "Sparat" not in page.locator("#save-status").inner_text()
    context.close()


def test_a_paste_over_the_limit_is_kept_whole_and_says_how_much_is_over(
    browser, live_server, world
):
    context, page = _open(browser, live_server, world)
    title = page.get_by_label("Rubrik")
    title.focus()
    page.keyboard.insert_text("ö" * 150)  # what a paste does
    assert len(title.input_value()) == 150
    counter = page.locator(f"[data-counter-for='{title.get_attribute('id')}']")
    assert counter.inner_text() == (
        "30 tecken för mycket (150 av 120): korta texten för att kunna spara"
    )
    assert title.get_attribute("aria-invalid") == "true"
    page.get_by_text("Inte sparat: ").wait_for()  # the server refused it, and says why
    assert not Topic.objects.exists()
    context.close()
