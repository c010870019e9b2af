"""The post-it form: drafts, submission, deadline, conflicts, and who may write what."""

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from meetings.models import MeetingStatus
from tests.factories import DepartmentFactory, MeetingFactory, TopicFactory, UserFactory
from topics.models import SubmissionReopening, Topic, TopicStatus

TEXT = {
    "title": "Bemanning av akuten kvällstid",
    "background": "Akuten har varierande antal besökare.",
    "current_state": "Schemat läggs tre veckor i förväg.",
    "goal": "Veta dagen innan hur många som kommer.",
    "obstacle": "Ingen prognos.",
}


def _url(meeting, name="topics:postit"):
    return reverse(name, args=[meeting.code])


def _autosave(client, world, department=None, **data):
    payload = {"department": (department or world.hr).code, "topic": "", "version": "0", **TEXT}
    payload.update(data)
    return client.post(_url(world.meeting, "topics:postit_autosave"), payload)


def test_autosave_creates_a_draft_then_updates_it(client, world):
    client.force_login(world.head)
    first = _autosave(client, world, title="Bemanning")
    assert first.status_code == 200
    body = first.json()
    topic = Topic.objects.get(code=body["topic"])
    assert (topic.title, topic.status, topic.version, topic.author) == (
        "Bemanning",
        TopicStatus.DRAFT,
        1,
        world.head,
    )
    assert body["version"] == 1
    assert body["message"].startswith("Sparat ")

    second = _autosave(client, world, topic=topic.code, version="1", title="Bemanning av akuten")
    assert second.json()["version"] == 2
    topic.refresh_from_db()
    assert topic.title == "Bemanning av akuten"


def test_draft_is_visible_only_to_its_department(client, world):
    draft = TopicFactory(
        meeting=world.meeting,
        department=world.hr,
        author=world.head,
        title="Hemligt utkast",
        status=TopicStatus.DRAFT,
        submitted_at=None,
    )
    it_head = UserFactory(full_name="IT Chef")
    world.it.heads.add(it_head)

    client.force_login(it_head)
    own = client.get(_url(world.meeting))
    assert "Hemligt utkast" not in own.content.decode()
    assert client.get(_url(world.meeting), {"department": world.hr.code}).status_code == 403
    assert "Hemligt utkast" not in client.get(world.meeting.get_absolute_url()).content.decode()

    client.force_login(world.moderator)
    intake = client.get(reverse("topics:intake", args=[world.meeting.code])).content.decode()
    assert "Hemligt utkast" not in intake
    assert "Utkast" in intake

    client.force_login(world.head)
    assert "Hemligt utkast" in client.get(_url(world.meeting)).content.decode()
    assert draft.version == 1


def test_submitting_shows_the_post_it_to_the_group_before_the_meeting(client, world):
    client.force_login(world.head)
    response = client.post(
        _url(world.meeting),
        {"department": world.hr.code, "topic": "", "version": "0", "action": "submit", **TEXT},
    )
    assert response.status_code == 302
    topic = Topic.objects.get()
    assert topic.status == TopicStatus.SUBMITTED
    assert topic.submitted_at is not None

    client.force_login(world.participant)
    page = client.get(world.meeting.get_absolute_url()).content.decode()
    for value in TEXT.values():
        assert value in page


def test_read_ahead_off_hides_post_its_from_heads_until_the_meeting(client, world):
    world.group.allow_read_ahead = False
    world.group.save()
    TopicFactory(meeting=world.meeting, department=world.hr, title="Inlämnad lapp")
    client.force_login(world.participant)
    page = client.get(world.meeting.get_absolute_url()).content.decode()
    assert "Inlämnad lapp" not in page
    client.force_login(world.moderator)
    assert "Inlämnad lapp" in client.get(world.meeting.get_absolute_url()).content.decode()
    world.meeting.status = MeetingStatus.LIVE
    world.meeting.save()
    client.force_login(world.participant)
    assert "Inlämnad lapp" in client.get(world.meeting.get_absolute_url()).content.decode()


def test_submitting_without_a_title_is_refused_and_keeps_the_text(client, world):
    client.force_login(world.head)
    response = client.post(
        _url(world.meeting),
        {
            "department": world.hr.code,
            "topic": "",
            "version": "0",
            "action": "submit",
            **{**TEXT, "title": ""},
        },
    )
    assert response.status_code == 400
    assert response.context["form"].errors["title"] == ["En lapp behöver en rubrik."]
    assert TEXT["obstacle"] in response.content.decode()
    assert not Topic.objects.filter(status=TopicStatus.SUBMITTED).exists()


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("title", "Å" * 121, "Säkerställ att detta värde har som mest 120 tecken (den har 121)."),
        ("goal", "ö" * 2001, "Säkerställ att detta värde har som mest 2000 tecken (den har 2001)."),
    ],
)
def test_over_long_text_is_refused_with_a_field_error_and_kept(client, world, field, value, error):
    client.force_login(world.head)
    response = client.post(
        _url(world.meeting),
        {
            "department": world.hr.code,
            "topic": "",
            "version": "0",
            "action": "save",
            **{**TEXT, field: value},
        },
    )
    assert response.status_code == 400
    assert response.context["form"].errors[field] == [error]
    assert value in response.content.decode()
    assert not Topic.objects.exists()
    autosave = _autosave(client, world, **{field: value})
    assert autosave.status_code == 400
    assert autosave.json()["errors"][field] == [error]


def test_html_and_emoji_are_kept_and_shown_as_text(client, world):
    client.force_login(world.head)
    hostile = "<script>alert('x')</script> <b>fet</b> Åsa 🎉"
    _autosave(client, world, title="Lapp 🎉", goal=hostile)
    topic = Topic.objects.get()
    assert topic.goal == hostile
    page = client.get(_url(world.meeting)).content.decode()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &lt;b&gt;fet&lt;/b&gt; Åsa 🎉" in page
    assert "<script>alert" not in page


def test_second_head_with_a_stale_version_gets_both_texts_never_an_overwrite(client, world):
    second_head = UserFactory(full_name="Andra Chefen")
    world.hr.heads.add(second_head)
    client.force_login(world.head)
    topic_code = _autosave(client, world, goal="Första chefens mål").json()["topic"]
    _autosave(client, world, topic=topic_code, version="1", goal="Första chefens nya mål")

    client.force_login(second_head)
    response = _autosave(client, world, topic=topic_code, version="1", goal="Andra chefens mål")
    assert response.status_code == 409
    assert response.json()["conflict"]["goal"] == "Första chefens nya mål"
    assert response.json()["version"] == 2
    assert Topic.objects.get().goal == "Första chefens nya mål"

    page = client.post(
        _url(world.meeting),
        {
            "department": world.hr.code,
            "topic": topic_code,
            "version": "1",
            "action": "save",
            **{**TEXT, "goal": "Andra chefens mål"},
        },
    )
    assert page.status_code == 409
    content = page.content.decode()
    assert "Första chefens nya mål" in content  # theirs, in the conflict panel
    assert "Andra chefens mål" in content  # mine, still in the form
    assert page.context["version"] == 2

    # Saving again with the version shown replaces their text, deliberately.
    client.post(
        _url(world.meeting),
        {
            "department": world.hr.code,
            "topic": topic_code,
            "version": "2",
            "action": "save",
            **{**TEXT, "goal": "Andra chefens mål"},
        },
    )
    assert Topic.objects.get().goal == "Andra chefens mål"


def test_two_heads_starting_at_once_meet_in_a_conflict(client, world):
    second_head = UserFactory()
    world.hr.heads.add(second_head)
    client.force_login(world.head)
    _autosave(client, world, title="Min rubrik")
    client.force_login(second_head)
    response = _autosave(client, world, title="Annan rubrik")
    assert response.status_code == 409
    assert response.json()["conflict"]["title"] == "Min rubrik"
    assert Topic.objects.count() == 1


def test_double_click_on_submit_submits_once(client, world):
    client.force_login(world.head)
    code = _autosave(client, world).json()["topic"]
    data = {"department": world.hr.code, "topic": code, "version": "1", "action": "submit", **TEXT}
    first = client.post(_url(world.meeting), data)
    second = client.post(_url(world.meeting), data)
    assert (first.status_code, second.status_code) == (302, 302)
    topic = Topic.objects.get()
    assert (topic.status, topic.version) == (TopicStatus.SUBMITTED, 2)


def test_withdraw_returns_the_post_it_to_a_draft_with_its_text(client, world):
    topic = TopicFactory(meeting=world.meeting, department=world.hr, author=world.head, **TEXT)
    client.force_login(world.head)
    response = client.post(
        _url(world.meeting),
        {
            "department": world.hr.code,
            "topic": topic.code,
            "version": "1",
            "action": "withdraw",
            **TEXT,
        },
    )
    assert response.status_code == 302
    topic.refresh_from_db()
    assert (topic.status, topic.submitted_at, topic.title) == (
        TopicStatus.DRAFT,
        None,
        TEXT["title"],
    )


def test_after_the_deadline_the_post_it_is_read_only_until_reopened(client, world):
    topic = TopicFactory(meeting=world.meeting, department=world.hr, author=world.head, **TEXT)
    world.meeting.submission_deadline = timezone.now() - timedelta(minutes=1)
    world.meeting.save()
    client.force_login(world.head)

    page = client.get(_url(world.meeting)).content.decode()
    assert "Sista dagen för lappar har passerat" in page
    assert TEXT["goal"] in page
    assert "readonly" in page

    data = {
        "department": world.hr.code,
        "topic": topic.code,
        "version": "1",
        "action": "save",
        **{**TEXT, "goal": "Sent ändrat"},
    }
    refused = client.post(_url(world.meeting), data)
    assert refused.status_code == 400
    assert "Sent ändrat" in refused.content.decode()
    assert _autosave(client, world, topic=topic.code, version="1", goal="x").status_code == 400
    topic.refresh_from_db()
    assert topic.goal == TEXT["goal"]

    client.force_login(world.moderator)
    client.post(
        reverse("topics:intake", args=[world.meeting.code]),
        {"action": "reopen", "department": world.hr.code, "hours": "2"},
    )
    assert SubmissionReopening.objects.get().department == world.hr
    client.force_login(world.head)
    assert client.post(_url(world.meeting), data).status_code == 302
    topic.refresh_from_db()
    assert topic.goal == "Sent ändrat"


def test_forged_department_or_meeting_changes_nothing(client, world):
    foreign = DepartmentFactory(group=world.other_group)
    foreign_meeting = MeetingFactory(group=world.other_group)
    client.force_login(world.head)
    assert _autosave(client, world, department=world.it).status_code == 403
    assert _autosave(client, world, department=foreign).status_code == 403
    response = client.post(
        _url(foreign_meeting, "topics:postit_autosave"), {"department": world.hr.code, **TEXT}
    )
    assert response.status_code == 404
    assert not Topic.objects.exists()


def test_participants_cannot_write_post_its(client, world):
    client.force_login(world.participant)
    assert client.get(_url(world.meeting)).status_code == 403
    assert _autosave(client, world).status_code == 403
    assert not Topic.objects.exists()


def test_moderator_enters_a_post_it_on_a_departments_behalf(client, world):
    client.force_login(world.moderator)
    page = client.get(_url(world.meeting), {"department": world.it.code}).content.decode()
    assert "Du skriver åt IT." in page
    client.post(
        _url(world.meeting),
        {"department": world.it.code, "topic": "", "version": "0", "action": "submit", **TEXT},
    )
    topic = Topic.objects.get()
    assert (topic.department, topic.entered_by, topic.author) == (world.it, world.moderator, None)
    intake = client.get(reverse("topics:intake", args=[world.meeting.code])).content.decode()
    assert "inlagd av Karin Åberg" in intake


def test_a_department_gets_only_as_many_post_its_as_allowed(client, world):
    TopicFactory(meeting=world.meeting, department=world.hr)
    client.force_login(world.head)
    page = client.get(_url(world.meeting), {"department": world.hr.code, "topic": "new"})
    assert page.context["page"].can_add is False
    response = client.post(
        _url(world.meeting),
        {"department": world.hr.code, "topic": "", "version": "0", "action": "save", **TEXT},
    )
    assert response.status_code == 409
    assert Topic.objects.count() == 1


def test_head_of_two_departments_chooses_which(client, world):
    world.it.heads.add(world.head)
    client.force_login(world.head)
    page = client.get(_url(world.meeting)).content.decode()
    assert f"?department={world.hr.code}" in page and f"?department={world.it.code}" in page
    _autosave(client, world, department=world.it, title="IT-lappen")
    assert Topic.objects.get().department == world.it


@pytest.mark.parametrize("size", [2, 20])
def test_postit_page_query_count_is_constant(client, world, django_assert_num_queries, size):
    for n in range(size):
        department = DepartmentFactory(group=world.group)
        department.heads.add(world.head)
        TopicFactory(meeting=world.meeting, department=department, title=f"Lapp {n}")
    TopicFactory(meeting=world.meeting, department=world.hr, author=world.head)
    client.force_login(world.head)
    # ... and the post-it's strategy goals and the goals offered (tests/topics/test_goal_tags.py)
    with django_assert_num_queries(10):
        response = client.get(_url(world.meeting), {"department": world.hr.code})
    assert response.status_code == 200


def test_autosave_json_is_well_formed_for_a_closed_meeting(client, world):
    world.meeting.status = MeetingStatus.CLOSED
    world.meeting.save()
    client.force_login(world.head)
    response = _autosave(client, world)
    assert response.status_code == 400
    assert json.loads(response.content)["errors"]["__all__"] == ["Mötet är inte öppet för lappar."]
