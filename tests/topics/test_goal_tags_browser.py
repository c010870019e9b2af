"""A head ticks the strategy goals of the post-it in Chromium: autosave carries them
with the text, and a closed tab loses neither."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.conftest import signed_in_context
from tests.factories import StrategyGoalFactory
from topics.models import Topic

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_ticking_a_goal_is_saved_like_typing(browser, live_server, world):
    StrategyGoalFactory(group=world.group, title="Enhetliga processer och verktyg", position=0)
    data = StrategyGoalFactory(group=world.group, title="Datadrivna beslut", position=1)
    context = signed_in_context(browser, live_server, world.head)
    page = context.new_page()
    url = live_server.url + reverse("topics:postit", args=[world.meeting.code])
    page.goto(url)
    expect(page.get_by_role("group", name="Strategiska mål")).to_be_visible()
    page.get_by_label("Rubrik").fill("Bemanning av akuten")
    page.get_by_label("Datadrivna beslut").check()
    expect(page.locator("#save-status")).to_contain_text("Sparat", timeout=10000)
    topic = Topic.objects.get()
    assert list(topic.goals.all()) == [data]

    # Another choice is saved the same way, and the page shows it after a reload.
    page.get_by_label("Datadrivna beslut").uncheck()
    page.get_by_label("Enhetliga processer och verktyg").check()
    expect(page.locator("#save-status")).to_contain_text("Sparat", timeout=10000)
    assert list(topic.goals.values_list("title", flat=True)) == ["Enhetliga processer och verktyg"]
    page.reload()
    expect(page.get_by_label("Enhetliga processer och verktyg")).to_be_checked()
    expect(page.get_by_label("Datadrivna beslut")).not_to_be_checked()
    context.close()
