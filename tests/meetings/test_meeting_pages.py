"""The moderator's pages for one meeting: intake, new, change, cancel."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from meetings.models import Meeting, MeetingStatus, NoticeKind
from tests.conftest import notices
from tests.factories import DepartmentFactory, TopicFactory, UserFactory
from topics.models import TopicStatus

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def _intake(meeting):
    return reverse("topics:intake", args=[meeting.code])


def test_intake_shows_each_departments_state(client, world):
    TopicFactory(meeting=world.meeting, department=world.hr, title="HR:s lapp")
    TopicFactory(
        meeting=world.meeting,
        department=world.it,
        title="IT-utkast",
        status=TopicStatus.DRAFT,
        submitted_at=None,
    )
    client.force_login(world.moderator)
    response = client.get(_intake(world.meeting))
    rows = {row.department.short_name: row.state for row in response.context["rows"]}
    assert rows == {"HR": "submitted", "IT": "draft"}
    content = response.content.decode()
    assert "HR:s lapp" in content
    assert "IT-utkast" not in content


@pytest.mark.parametrize("size", [2, 20])
def test_intake_query_count_is_constant(client, world, django_assert_num_queries, size):
    for _ in range(size):
        department = DepartmentFactory(group=world.group)
        department.heads.add(UserFactory())
        TopicFactory(meeting=world.meeting, department=department)
    client.force_login(world.moderator)
    with django_assert_num_queries(7):
        response = client.get(_intake(world.meeting))
    assert len(response.context["rows"]) == size + 2


def test_nudge_reminds_the_departments_heads_once_an_hour(client, world):
    client.force_login(world.moderator)
    data = {"action": "nudge", "department": world.hr.code}
    client.post(_intake(world.meeting), data)
    client.post(_intake(world.meeting), data)
    nudges = notices(kind=NoticeKind.NUDGE)
    assert [n.recipient for n in nudges] == [world.head]


def test_nudge_and_reopen_refuse_bad_input(client, world):
    client.force_login(world.moderator)
    assert (
        client.post(_intake(world.meeting), {"action": "nudge", "department": "nope"}).status_code
        == 404
    )
    response = client.post(
        _intake(world.meeting),
        {"action": "reopen", "department": world.hr.code, "hours": "0"},
        follow=True,
    )
    assert "Kontrollera att detta värde är större än eller lika med 1." in response.content.decode()
    assert not world.meeting.reopenings.exists()


def test_head_cannot_post_to_the_intake(client, world):
    client.force_login(world.head)
    response = client.post(_intake(world.meeting), {"action": "nudge", "department": world.hr.code})
    assert response.status_code == 403
    assert not notices().exists()


def _meeting_data(**overrides):
    data = {
        "title": "Extra möte",
        "starts_at": "2027-03-02T14:00",
        "ends_at": "2027-03-02T15:00",
        "submission_deadline": "2027-02-28T14:00",
        "location": "Rum Ljuset",
        "video_url": "",
    }
    data.update(overrides)
    return data


def test_moderator_creates_a_meeting_in_the_groups_time_zone(client, world):
    client.force_login(world.moderator)
    response = client.post(
        reverse("meetings:meeting_new", args=[world.group.code]), _meeting_data(open_now="on")
    )
    meeting = Meeting.objects.get(title="Extra möte")
    assert response.url == meeting.get_absolute_url()
    assert meeting.starts_at == datetime(2027, 3, 2, 14, tzinfo=STOCKHOLM)
    assert meeting.status == MeetingStatus.OPEN
    # The group's moderator, the head of HR and its participant.
    invited = notices(meeting, NoticeKind.INVITATION)
    assert sorted(n.address for n in invited) == [
        "head@example.se",
        "moderator@example.se",
        "participant@example.se",
    ]


@pytest.mark.parametrize(
    ("overrides", "field", "error"),
    [
        ({"starts_at": ""}, "starts_at", "Detta fält måste fyllas i."),
        ({"starts_at": "inte ett datum"}, "starts_at", "Fyll i ett giltigt datum/tid."),
        ({"ends_at": "2027-03-02T13:00"}, "ends_at", "Mötet måste sluta efter att det har börjat."),
        (
            {"submission_deadline": "2027-03-03T10:00"},
            "submission_deadline",
            "Sista dag för lappar måste vara före mötets start.",
        ),
        ({"video_url": "javascript:alert(1)"}, "video_url", "Fyll i en giltig URL."),
        (
            {"location": "x" * 201},
            "location",
            "Säkerställ att detta värde har som mest 200 tecken (den har 201).",
        ),
    ],
)
def test_meeting_form_bad_input(client, world, overrides, field, error):
    client.force_login(world.moderator)
    data = _meeting_data(title="<script>x</script> Möte 🎉", **overrides)
    response = client.post(reverse("meetings:meeting_new", args=[world.group.code]), data)
    assert response.status_code == 400
    assert response.context["form"].errors[field] == [error]
    assert 'value="&lt;script&gt;x&lt;/script&gt; Möte 🎉"' in response.content.decode()
    assert not Meeting.objects.filter(title__contains="Möte").exists()


def test_moving_an_open_meeting_tells_the_invitees(client, world):
    Meeting.objects.filter(pk=world.meeting.pk).update(status=MeetingStatus.PLANNED)
    from meetings.services import meeting_open

    meeting_open(meeting=world.meeting)
    client.force_login(world.moderator)
    new_start = timezone.localtime(world.meeting.starts_at, STOCKHOLM) + timedelta(days=7)
    data = _meeting_data(
        title="",
        starts_at=new_start.strftime("%Y-%m-%dT%H:%M"),
        ends_at=(new_start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        submission_deadline=(new_start - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
    )
    response = client.post(reverse("meetings:meeting_edit", args=[world.meeting.code]), data)
    assert response.status_code == 302
    world.meeting.refresh_from_db()
    assert world.meeting.sequence == 1
    assert notices(kind=NoticeKind.UPDATE).filter(payload__sequence=1).count() == 3


def test_cancelling_asks_first_and_then_cancels(client, world):
    client.force_login(world.moderator)
    url = reverse("meetings:meeting_cancel", args=[world.meeting.code])
    page = client.get(url)
    assert "Ställa in mötet?" in page.content.decode()
    world.meeting.refresh_from_db()
    assert world.meeting.status == MeetingStatus.OPEN
    client.post(url)
    world.meeting.refresh_from_db()
    assert world.meeting.status == MeetingStatus.CANCELLED
    again = client.post(url, follow=True)
    assert "Bara planerade eller öppna möten kan ställas in." in again.content.decode()
