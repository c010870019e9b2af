"""The post-it form keeps its promises: an untitled draft autosaves, line endings never
make a conflict, a refused save never says "Sparat", a long paste is never cut; and
someone entering a post-it on a department's behalf never reads or overwrites a head's
draft without confirming."""

from django.urls import reverse

from tests.factories import TopicFactory
from topics.models import Topic, TopicStatus

TEXT = {
    "title": "Bemanning av akuten kvällstid",
    "background": "Akuten har varierande antal besökare.\r\nSärskilt på fredagar.",
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


def _draft(world, **fields):
    return TopicFactory(
        meeting=world.meeting,
        department=world.hr,
        author=world.head,
        status=TopicStatus.DRAFT,
        submitted_at=None,
        **{**{k: v.replace("\r\n", "\n") for k, v in TEXT.items()}, **fields},
    )


# --- (b) the title is needed only to submit ---------------------------------------


def test_a_draft_without_a_title_still_autosaves(client, world):
    client.force_login(world.head)
    response = _autosave(client, world, title="", goal="Ett mål men ännu ingen rubrik")
    assert response.status_code == 200, response.content
    topic = Topic.objects.get(code=response.json()["topic"])
    assert (topic.title, topic.goal, topic.status) == ("", "Ett mål men ännu ingen rubrik", "draft")
    # Later saves of the untitled draft go through too.
    again = _autosave(client, world, topic=topic.code, version="1", title="", goal="Nytt mål")
    assert again.status_code == 200
    assert Topic.objects.get().goal == "Nytt mål"


def test_submitting_an_untitled_draft_is_still_refused(client, world):
    client.force_login(world.head)
    topic = Topic.objects.get(code=_autosave(client, world, title="").json()["topic"])
    response = client.post(
        _url(world.meeting),
        {
            "department": world.hr.code,
            "topic": topic.code,
            "version": "1",
            "action": "submit",
            **{**TEXT, "title": ""},
        },
    )
    assert response.status_code == 400
    assert "En lapp behöver en rubrik." in response.content.decode()
    assert Topic.objects.get().status == TopicStatus.DRAFT


# --- (c) line endings, and no "Sparat" over unsaved text ------------------------------


def test_text_is_stored_with_plain_line_breaks_and_crlf_is_the_same_text(client, world):
    client.force_login(world.head)
    code = _autosave(client, world).json()["topic"]
    assert (
        Topic.objects.get().background
        == "Akuten har varierande antal besökare.\nSärskilt på fredagar."
    )
    # A stale save carrying the same words with the browser's CRLF is no conflict.
    again = _autosave(client, world, topic=code, version="0")
    assert again.status_code == 200


def test_a_refused_save_shows_only_the_fields_that_differ_and_never_says_saved(client, world):
    topic = _draft(world, goal="Deras mål")
    topic.version = 2
    topic.save()
    client.force_login(world.head)
    response = client.post(
        _url(world.meeting),
        # The same background as stored, sent with CRLF as a browser does; another goal.
        {
            "department": world.hr.code,
            "topic": topic.code,
            "version": "1",
            "action": "save",
            **{**TEXT, "goal": "Mitt mål"},
        },
    )
    assert response.status_code == 409
    assert [label for label, _theirs in response.context["conflict_fields"]] == ["Mål"]
    content = response.content.decode()
    assert "Mitt mål" in content and "Deras mål" in content
    assert "Sparat" not in content  # the form holds unsaved text


def test_a_save_refused_for_bad_input_never_says_saved(client, world):
    topic = _draft(world)
    client.force_login(world.head)
    response = client.post(
        _url(world.meeting),
        {
            "department": world.hr.code,
            "topic": topic.code,
            "version": "1",
            "action": "save",
            **{**TEXT, "goal": "x" * 2001},
        },
    )
    assert response.status_code == 400
    assert "Sparat" not in response.content.decode()


# --- (d) a paste is never cut --------------------------------------------------------


def test_the_fields_have_no_maxlength_that_would_cut_a_paste(client, world):
    client.force_login(world.head)
    content = client.get(_url(world.meeting)).content.decode()
    assert "maxlength" not in content
    assert 'data-limit="2000"' in content and 'data-limit="120"' in content


def test_a_text_over_the_limit_is_refused_with_a_field_error_and_kept_whole(client, world):
    client.force_login(world.head)
    long = "ö" * 2050
    response = client.post(
        _url(world.meeting),
        {
            "department": world.hr.code,
            "topic": "",
            "version": "0",
            "action": "save",
            **{**TEXT, "obstacle": long},
        },
    )
    assert response.status_code == 400
    (error,) = response.context["form"].errors["obstacle"]
    assert error == "Säkerställ att detta värde har som mest 2000 tecken (den har 2050)."
    assert long in response.content.decode()
    assert not Topic.objects.exists()


# --- 10 (c) entering on a department's behalf --------------------------------------


def test_the_moderator_sees_that_a_draft_is_in_progress_but_not_its_text(client, world):
    draft = _draft(world, goal="Hemligt mål i utkastet")
    client.force_login(world.moderator)
    response = client.get(_url(world.meeting), {"department": world.hr.code})
    content = response.content.decode()
    assert "Hemligt mål i utkastet" not in content
    assert "Bemanning av akuten kvällstid" not in content
    assert "Ett utkast pågår" in content
    assert "Maria Lindqvist skriver avdelningens lapp" in content
    assert 'name="goal"' not in content  # no form to write in before confirming
    assert f'name="version" value="{draft.version}"' in content


def test_the_moderator_cannot_overwrite_a_draft_in_progress_without_confirming(client, world):
    draft = _draft(world)
    client.force_login(world.moderator)
    by_code = _autosave(client, world, topic=draft.code, version=str(draft.version), goal="Mitt")
    new = _autosave(client, world, goal="Mitt")  # as a new post-it, the one allowed is taken
    for response in (by_code, new):
        assert response.status_code == 400
        body = response.json()
        assert "conflict" not in body  # the draft's text is not handed over either
        assert "Bekräfta" in " ".join(body["errors"]["__all__"])
    form_post = client.post(
        _url(world.meeting),
        {
            "department": world.hr.code,
            "topic": draft.code,
            "version": str(draft.version),
            "action": "save",
            **{**TEXT, "goal": "Mitt"},
        },
    )
    assert form_post.status_code == 400
    assert "Mitt" in form_post.content.decode()  # what they typed is kept
    draft.refresh_from_db()
    assert draft.goal == "Veta dagen innan hur många som kommer."
    assert draft.entered_by is None


def test_confirming_replaces_the_draft_and_records_who_entered_it(client, world):
    draft = _draft(world)
    client.force_login(world.moderator)
    response = client.post(
        _url(world.meeting),
        {
            "department": world.hr.code,
            "topic": draft.code,
            "version": str(draft.version),
            "action": "take_over",
        },
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.entered_by, draft.author, draft.title, draft.goal, draft.version) == (
        world.moderator,
        world.head,
        "",
        "",
        2,
    )
    page = client.get(response.url).content.decode()
    assert "Ett utkast pågår" not in page and 'name="goal"' in page
    saved = _autosave(client, world, topic=draft.code, version="2", goal="Modererat mål")
    assert saved.status_code == 200
    # The head's open form, still on version 1, meets a conflict instead of overwriting.
    client.force_login(world.head)
    stale = _autosave(client, world, topic=draft.code, version="1", goal="Chefens mål")
    assert stale.status_code == 409
    client.force_login(world.moderator)
    intake = client.get(reverse("topics:intake", args=[world.meeting.code])).content.decode()
    assert "Utkast" in intake and "inlagd av Karin Åberg" in intake


def test_confirming_a_draft_saved_again_meanwhile_asks_again(client, world):
    draft = _draft(world)
    client.force_login(world.moderator)
    response = client.post(
        _url(world.meeting),
        {
            "department": world.hr.code,
            "topic": draft.code,
            "version": str(draft.version - 1 or 9),
            "action": "take_over",
        },
    )
    assert response.status_code == 400
    draft.refresh_from_db()
    assert draft.entered_by is None and draft.goal


def test_a_draft_the_moderator_entered_is_theirs_to_edit(client, world):
    client.force_login(world.moderator)
    first = _autosave(client, world, goal="Moderatorns utkast")
    assert first.status_code == 200
    second = _autosave(client, world, topic=first.json()["topic"], version="1", goal="Ändrat")
    assert second.status_code == 200
    assert Topic.objects.get().entered_by == world.moderator


def test_a_draft_left_behind_by_a_removed_head_is_the_moderators_to_finish(client, world):
    _draft(world, goal="Lämnat kvar")
    world.hr.heads.remove(world.head)
    client.force_login(world.moderator)
    content = client.get(_url(world.meeting), {"department": world.hr.code}).content.decode()
    assert "Ett utkast pågår" not in content
    assert "Lämnat kvar" in content
