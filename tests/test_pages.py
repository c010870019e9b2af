"""What each page shows, and that it does so in a constant number of queries."""

import pytest
from django.urls import reverse

from tests.factories import (
    ContributionFactory,
    DepartmentFactory,
    FollowUpFactory,
    MeetingFactory,
    TopicFactory,
    TopicLinkFactory,
)


def _fill_meeting(world, topics: int) -> None:
    """`topics` post-its, each with ideas, a link, and a follow-up, plus departments."""
    for n in range(topics):
        department = DepartmentFactory(group=world.group)
        department.heads.add(world.head)
        topic = TopicFactory(meeting=world.meeting, department=department, title=f"Lapp {n}")
        ContributionFactory(topic=topic, department=world.it)
        ContributionFactory(topic=topic, department=world.hr)
        FollowUpFactory(meeting=world.meeting, topic=topic, owner_department=department)
        earlier = MeetingFactory(
            group=world.group, starts_at=world.meeting.starts_at.replace(year=2024)
        )
        TopicLinkFactory(
            from_topic=topic, to_topic=TopicFactory(meeting=earlier, department=department)
        )


@pytest.mark.parametrize("size", [2, 25])
def test_meeting_page_query_count_is_constant(client, world, django_assert_num_queries, size):
    _fill_meeting(world, size)
    client.force_login(world.head)
    url = reverse("topics:meeting_detail", args=[world.meeting.code])
    with django_assert_num_queries(16):
        response = client.get(url)
    assert response.status_code == 200
    assert response.content.decode().count('class="postit ') == size


@pytest.mark.parametrize("size", [2, 25])
def test_group_page_query_count_is_constant(client, world, django_assert_num_queries, size):
    _fill_meeting(world, size)
    client.force_login(world.moderator)
    with django_assert_num_queries(10):
        response = client.get(reverse("meetings:group_detail", args=[world.group.code]))
    assert response.status_code == 200
    assert response.content.decode().count('class="dept-badge') == size + 2


@pytest.mark.parametrize("size", [1, 12])
def test_home_page_query_count_is_constant(client, world, django_assert_num_queries, size):
    from tests.factories import GroupFactory

    for n in range(size):
        group = GroupFactory(name=f"Grupp {n}")
        group.moderators.add(world.moderator)
        MeetingFactory(group=group)
    client.force_login(world.moderator)
    with django_assert_num_queries(4):
        response = client.get(reverse("meetings:home"))
    assert response.content.decode().count('class="card"') == size + 1


def test_meeting_page_shows_the_four_fields_ideas_links_and_follow_ups(client, world):
    topic = TopicFactory(
        meeting=world.meeting,
        department=world.hr,
        author=world.head,
        title="Bemanning av akuten",
        background="Varierande besök",
        current_state="Schema tre veckor i förväg",
        goal="Veta dagen innan",
        obstacle="Ingen prognos",
    )
    ContributionFactory(topic=topic, department=world.it, text="Webbtrafiken förutsäger besöken")
    other = TopicFactory(meeting=world.meeting, department=world.it, title="Webbstatistik")
    TopicLinkFactory(from_topic=other, to_topic=topic, kind="helps_solve")
    FollowUpFactory(meeting=world.meeting, topic=topic, title="Pilot: prognos", owner=world.head)
    client.force_login(world.participant)

    content = client.get(
        reverse("topics:meeting_detail", args=[world.meeting.code])
    ).content.decode()

    for text in [
        "Bemanning av akuten",
        "Varierande besök",
        "Schema tre veckor i förväg",
        "Veta dagen innan",
        "Ingen prognos",
        "Webbtrafiken förutsäger besöken",
        "Pilot: prognos",
        "Maria Lindqvist",
    ]:
        assert text in content
    # The link shows on both post-its.
    assert content.count("Kan hjälpa till att lösa") == 2


def test_draft_post_its_are_not_on_the_meeting_page(client, world):
    TopicFactory(
        meeting=world.meeting,
        department=world.hr,
        title="Halvfärdig",
        status="draft",
        submitted_at=None,
    )
    client.force_login(world.moderator)
    content = client.get(
        reverse("topics:meeting_detail", args=[world.meeting.code])
    ).content.decode()
    assert "Halvfärdig" not in content
    assert "Inga lappar har lämnats in ännu." in content


def test_user_text_is_always_shown_as_text(client, world):
    TopicFactory(
        meeting=world.meeting,
        department=world.hr,
        title="<script>alert('x')</script> Åsa 🎉",
        goal="<b>fet</b>",
    )
    client.force_login(world.head)
    content = client.get(
        reverse("topics:meeting_detail", args=[world.meeting.code])
    ).content.decode()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; Åsa 🎉" in content
    assert "&lt;b&gt;fet&lt;/b&gt;" in content
    assert "<script>alert" not in content


def test_home_shows_empty_state_to_someone_without_groups(client, db):
    from tests.factories import UserFactory

    client.force_login(UserFactory(full_name="Ny Person"))
    content = client.get(reverse("meetings:home")).content.decode()
    assert "Du är inte med i någon grupp än" in content


MODERATOR_PAGES = {
    "meetings:schedule_edit": ("group", 4),
    "meetings:meeting_new": ("group", 3),
    "meetings:meeting_edit": ("meeting", 4),
    "meetings:meeting_cancel": ("meeting", 4),
}


@pytest.mark.parametrize("size", [1, 15])
@pytest.mark.parametrize("name", sorted(MODERATOR_PAGES))
def test_moderator_pages_query_count_is_constant(
    client, world, django_assert_num_queries, name, size
):
    _fill_meeting(world, size)
    target, queries = MODERATOR_PAGES[name]
    code = world.group.code if target == "group" else world.meeting.code
    client.force_login(world.moderator)
    with django_assert_num_queries(queries):
        response = client.get(reverse(name, args=[code]))
    assert response.status_code == 200


@pytest.mark.parametrize("size", [1, 15])
def test_profile_page_query_count_is_constant(client, world, django_assert_num_queries, size):
    _fill_meeting(world, size)
    client.force_login(world.head)
    with django_assert_num_queries(2):
        response = client.get(reverse("accounts:profile"))
    assert world.head.calendar_token in response.content.decode()
