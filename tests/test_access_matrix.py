"""Every URL × every role × read/write: the exact answer each one gets.

"Could have leaked" is the point: outsiders belong to another group and are
signed in, so a missing check would show them this group's data.
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from groups.models import Group, Invitation, StrategyGoal
from insights.models import Suggestion
from meetings.answers import answer_url
from meetings.models import Attendance, MeetingStatus, Schedule
from outbox.models import Message
from tests.factories import (
    AttendanceFactory,
    FollowUpFactory,
    MeetingFactory,
    TopicFactory,
    UserFactory,
)
from topics.messages import status_token
from topics.models import ITPerspective, MicroProject, Solution, Topic

ROLES = ["anonymous", "outsider", "guest", "participant", "it", "head", "moderator", "admin"]

LOGIN = "login"  # a redirect to the sign-in page

# A guest is invited to the world's meeting without being a member of the group:
# the meeting's participant, an outsider to everything else of the group.
MODERATORS_ONLY = {
    "anonymous": LOGIN,
    "outsider": 404,
    "guest": 404,
    "participant": 403,
    "it": 403,
    "head": 403,
    "moderator": 200,
    "admin": 200,
}
MODERATORS_WRITE = {**MODERATORS_ONLY, "moderator": 302, "admin": 302}
# The same for a meeting's pages: its guest is a participant there.
MEETING_MODERATORS_ONLY = {**MODERATORS_ONLY, "guest": 403}
MEETING_MODERATORS_WRITE = {**MODERATORS_WRITE, "guest": 403}
ADMINS_ONLY = {
    "anonymous": LOGIN,
    "outsider": 403,
    "guest": 403,
    "participant": 403,
    "it": 403,
    "head": 403,
    "moderator": 403,
    "admin": 200,
}
ADMINS_WRITE = {**ADMINS_ONLY, "admin": 302}
# The group's members, whatever their role (a meeting's guest is not one).
MEMBERS = {**MODERATORS_ONLY, "participant": 200, "it": 200, "head": 200}
# The IT perspective and what belongs to it before it is published: moderators and the
# IT role; to everyone else of the group it does not exist.
IT_ONLY = {**MODERATORS_ONLY, "participant": 404, "head": 404, "it": 200}
IT_WRITE = {**IT_ONLY, "moderator": 302, "admin": 302, "it": 302}
# Who reads a meeting's page: the group's members and the meeting's guest.
MEETING_READERS = {**MEMBERS, "guest": 200}

# (name, method, {role: expected status})
MATRIX = [
    (
        "home",
        "get",
        {
            "anonymous": LOGIN,
            "outsider": 200,
            "guest": 200,
            "participant": 200,
            "it": 200,
            "head": 200,
            "moderator": 200,
            "admin": 200,
        },
    ),
    (
        "group_detail",
        "get",
        {
            "anonymous": LOGIN,
            "outsider": 404,
            "guest": 404,
            "participant": 200,
            "it": 200,
            "head": 200,
            "moderator": 200,
            "admin": 200,
        },
    ),
    (
        "group_create",
        "get",
        {**{role: 403 for role in ROLES}, "anonymous": LOGIN, "admin": 200},
    ),
    (
        "group_create",
        "post",
        {**{role: 403 for role in ROLES}, "anonymous": LOGIN, "admin": 302},
    ),
    ("settings", "get", MODERATORS_ONLY),
    ("settings", "post", MODERATORS_WRITE),
    ("department_edit", "get", MODERATORS_ONLY),
    ("department_edit", "post", MODERATORS_WRITE),
    ("department_delete", "get", MODERATORS_ONLY),
    ("department_delete", "post", MODERATORS_WRITE),
    ("members", "get", MODERATORS_ONLY),
    ("members", "post", MODERATORS_WRITE),
    ("member_edit", "get", MODERATORS_ONLY),
    ("member_edit", "post", MODERATORS_WRITE),
    ("member_remove", "get", MODERATORS_ONLY),
    ("member_remove", "post", MODERATORS_WRITE),
    (
        "meeting_detail",
        "get",
        {
            "anonymous": LOGIN,
            "outsider": 404,
            "guest": 200,
            "participant": 200,
            "it": 200,
            "head": 200,
            "moderator": 200,
            "admin": 200,
        },
    ),
    (
        "profile",
        "get",
        {
            "anonymous": LOGIN,
            "outsider": 200,
            "guest": 200,
            "participant": 200,
            "it": 200,
            "head": 200,
            "moderator": 200,
            "admin": 200,
        },
    ),
    (
        "profile",
        "post",
        {
            "anonymous": LOGIN,
            "outsider": 302,
            "guest": 302,
            "participant": 302,
            "it": 302,
            "head": 302,
            "moderator": 302,
            "admin": 302,
        },
    ),
    ("schedule_edit", "get", MODERATORS_ONLY),
    ("schedule_edit", "post", MODERATORS_WRITE),
    ("meeting_new", "get", MODERATORS_ONLY),
    ("meeting_edit", "get", MEETING_MODERATORS_ONLY),
    ("meeting_cancel", "get", MEETING_MODERATORS_ONLY),
    ("meeting_cancel", "post", MEETING_MODERATORS_WRITE),
    ("intake", "get", MEETING_MODERATORS_ONLY),
    ("meeting_outbox", "get", MEETING_MODERATORS_ONLY),
    ("meeting_outbox_resend", "post", MEETING_MODERATORS_WRITE),
    # Answering on the meeting page: whoever may see the meeting (a superuser who is not a
    # member is told they are not invited, and nothing is recorded).
    (
        "attendance_answer",
        "post",
        {**dict.fromkeys(ROLES, 302), "anonymous": LOGIN, "outsider": 404},
    ),
    # The answer link from the e-mail is the key: no sign-in, the same for everyone.
    ("answer", "get", dict.fromkeys(ROLES, 200)),
    ("answer", "post", dict.fromkeys(ROLES, 200)),
    ("board_attendance", "post", MEETING_MODERATORS_WRITE),
    ("installation_outbox", "get", ADMINS_ONLY),
    ("installation_outbox_resend", "post", ADMINS_WRITE),
    ("postit", "get", {**MEETING_MODERATORS_ONLY, "head": 200}),
    ("postit_autosave", "post", {**MEETING_MODERATORS_ONLY, "head": 200}),
    (
        "calendar_reset",
        "post",
        {
            **MODERATORS_WRITE,
            "participant": 302,
            "it": 302,
            "head": 302,
            "outsider": 302,
            "guest": 302,
        },
    ),
    (
        "admin",
        "get",
        {
            "anonymous": 302,
            "outsider": 302,
            "guest": 302,
            "participant": 302,
            "it": 302,
            "head": 302,
            "moderator": 302,
            "admin": 200,
        },
    ),  # The admin's own sign-in is allauth's: anonymous people are sent there, signed-in
    # people without staff rights are refused, staff go on to the admin.
    (
        "admin_login",
        "get",
        {
            "anonymous": LOGIN,
            "outsider": 403,
            "guest": 403,
            "participant": 403,
            "it": 403,
            "head": 403,
            "moderator": 403,
            "admin": 302,
        },
    ),
    (
        "follow_up_list",
        "get",
        MEMBERS,
    ),
    (
        "follow_up_detail",
        "get",
        MEMBERS,
    ),
    # The follow-up is HR's: its heads, its owner and the moderators may change it.
    (
        "follow_up_detail",
        "post",
        {**MODERATORS_WRITE, "head": 302},
    ),
    ("it_perspective", "get", IT_ONLY),
    # Publishing is the moderator's alone.
    ("it_perspective", "post", {**IT_WRITE, "it": 403}),
    ("solution_edit", "get", IT_ONLY),
    ("solution_edit", "post", IT_WRITE),
    ("micro_project_list", "get", MEMBERS),
    ("micro_project_detail", "get", IT_ONLY),
    ("micro_project_detail", "post", IT_WRITE),
    ("topic_detail", "get", MEMBERS),
    ("it_send", "get", MODERATORS_ONLY),
    ("it_send", "post", MODERATORS_WRITE),
    # The signed link is the key: it answers the same whoever is signed in, or nobody.
    ("status_answer", "get", dict.fromkeys(ROLES, 200)),
    ("department_detail", "get", MEMBERS),
    # Issue 14: the radar, search, export, insights and strategy goals.
    ("postit_radar", "post", {**MEETING_MODERATORS_ONLY, "head": 200}),
    # Without a saved post-it of their own, a head's proposal is answered with a message.
    ("postit_suggest", "post", {**MEETING_MODERATORS_WRITE, "head": 302}),
    ("board_radar", "get", MEETING_MODERATORS_ONLY),
    ("board_radar_decide", "post", MEETING_MODERATORS_WRITE),
    ("search", "get", MEMBERS),
    ("export_csv", "get", MEETING_READERS),
    ("export_json", "get", MEETING_READERS),
    ("insights", "get", {**MODERATORS_ONLY, "it": 200}),
    ("insights_csv", "get", {**MODERATORS_ONLY, "it": 200}),
    ("goals", "get", MODERATORS_ONLY),
    ("goals", "post", MODERATORS_WRITE),
    ("meeting_goals", "get", MEETING_MODERATORS_ONLY),
    ("meeting_goals", "post", MEETING_MODERATORS_WRITE),
    # Readiness says the same to everyone and nothing personal (503: no worker here).
    ("readyz", "get", dict.fromkeys(ROLES, 503)),
    # Organisation sign-in is not configured in the suite's settings.
    ("oidc_login", "post", dict.fromkeys(ROLES, 404)),
]

CASES = [
    (name, method, role, expected[role]) for name, method, expected in MATRIX for role in ROLES
]


def _url(name, world):
    return {
        "home": reverse("meetings:home"),
        "group_detail": reverse("meetings:group_detail", args=[world.group.code]),
        "group_create": reverse("groups:group_create"),
        "settings": reverse("groups:settings", args=[world.group.code]),
        "department_edit": reverse(
            "groups:department_edit", args=[world.group.code, world.hr.code]
        ),
        "department_delete": reverse(
            "groups:department_delete", args=[world.group.code, world.hr.code]
        ),
        "members": reverse("groups:members", args=[world.group.code]),
        "member_edit": reverse(
            "groups:member_edit", args=[world.group.code, world.participant.code]
        ),
        "member_remove": reverse(
            "groups:member_remove", args=[world.group.code, world.participant.code]
        ),
        "meeting_detail": reverse("topics:meeting_detail", args=[world.meeting.code]),
        "profile": reverse("accounts:profile"),
        "admin": reverse("admin:index"),
        "schedule_edit": reverse("meetings:schedule_edit", args=[world.group.code]),
        "meeting_new": reverse("meetings:meeting_new", args=[world.group.code]),
        "meeting_edit": reverse("meetings:meeting_edit", args=[world.meeting.code]),
        "meeting_cancel": reverse("meetings:meeting_cancel", args=[world.meeting.code]),
        "intake": reverse("topics:intake", args=[world.meeting.code]),
        "postit": reverse("topics:postit", args=[world.meeting.code]),
        "postit_autosave": reverse("topics:postit_autosave", args=[world.meeting.code]),
        "calendar_reset": reverse("accounts:calendar_reset"),
        "admin_login": reverse("admin:login"),
        "readyz": reverse("readyz"),
        "oidc_login": reverse("openid_connect_login", args=["organisation"]),
        "meeting_outbox": reverse("meetings:outbox", args=[world.meeting.code]),
        "meeting_outbox_resend": reverse("meetings:outbox_resend", args=[world.meeting.code]),
        "attendance_answer": reverse("meetings:attendance_answer", args=[world.meeting.code]),
        "answer": answer_url(
            Attendance.objects.get(meeting=world.meeting, user=world.participant), "yes"
        ),
        "board_attendance": reverse("board:attendance", args=[world.meeting.code]),
        "installation_outbox": reverse("outbox:installation"),
        "installation_outbox_resend": reverse("outbox:resend"),
        "follow_up_list": reverse("topics:follow_up_list", args=[world.group.code]),
        "follow_up_detail": reverse("topics:follow_up_detail", args=[world.follow_up.code]),
        "it_perspective": reverse("topics:it_perspective", args=[world.closed_meeting.code]),
        "solution_edit": reverse("topics:solution_edit", args=[world.solution.code]),
        "micro_project_list": reverse("topics:micro_project_list", args=[world.group.code]),
        "micro_project_detail": reverse(
            "topics:micro_project_detail", args=[world.micro_project.code]
        ),
        "topic_detail": reverse("topics:topic_detail", args=[world.closed_topic.code]),
        "it_send": reverse("summaries:it_send", args=[world.closed_meeting.code]),
        "status_answer": reverse(
            "topics:status_answer",
            args=[status_token(meeting=world.meeting, user=world.head, follow_up=world.follow_up)],
        ),
        "department_detail": reverse(
            "topics:department_detail", args=[world.group.code, world.hr.code]
        ),
        "postit_radar": reverse("insights:postit_radar", args=[world.meeting.code]),
        "postit_suggest": reverse("insights:postit_suggest", args=[world.meeting.code]),
        "board_radar": reverse("insights:board_radar", args=[world.meeting.code]),
        "board_radar_decide": reverse("insights:board_radar_decide", args=[world.meeting.code]),
        "search": reverse("insights:search", args=[world.group.code]) + "?q=hemlig",
        "export_csv": reverse("insights:export_csv", args=[world.meeting.code]),
        "export_json": reverse("insights:export_json", args=[world.meeting.code]),
        "insights": reverse("insights:insights", args=[world.group.code]),
        "insights_csv": reverse("insights:insights", args=[world.group.code]) + "?csv=topics",
        "goals": reverse("insights:goals", args=[world.group.code]),
        "meeting_goals": reverse("insights:meeting_goals", args=[world.meeting.code]),
    }[name]


def _data(name, world):
    return {
        "group_create": {
            "name": "Ny grupp",
            "time_zone": "Europe/Stockholm",
            "creator_moderates": "on",
        },
        "settings": {
            "action": "group",
            "group-name": "Omdöpt grupp",
            "group-time_zone": "Europe/Stockholm",
        },
        "department_edit": {
            "department-name": "Omdöpt avdelning",
            "department-short_name": "OMD",
            "department-colour": "green",
        },
        "members": {
            "action": "invite_list",
            "list-people": "Ny Person <ny@example.se>",
            "list-role": "participant",
            "list-language": "sv",
        },
        "member_edit": {"role": "head", "departments": [world.hr.code]},
        "profile": {"full_name": "Nytt Namn", "language": "sv"},
        "schedule_edit": {
            "rule": "nth_weekday",
            "week": "1",
            "weekday": "1",
            "day_of_month": "1",
            "start_time": "14:00",
            "duration_minutes": "60",
            "deadline_hours_before": "48",
            "open_days_before": "14",
            "topics_per_department": "1",
            "active": "on",
        },
        "postit_autosave": {"department": world.hr.code, "title": "Ny lapp", "version": "0"},
        "attendance_answer": {"answer": "accepted"},
        "board_attendance": {"person": world.participant.code, "present": "1"},
        "meeting_outbox_resend": {"which": "failed"},
        "installation_outbox_resend": {"which": "failed"},
        "it_perspective": {"action": "publish"},
        "it_send": {"extra_recipients": "it-ledning@example.se"},
        "solution_edit": {"action": "save", "title": "Ändrad lösning", "effort": "L"},
        "micro_project_detail": {
            "title": "Ändrat mikroprojekt",
            "status": "approved",
            "owner": world.it_member.code,
            "version": "1",
        },
        "follow_up_detail": {
            "title": "Ändrad uppföljning",
            "status": "done",
            "owner_department": world.hr.code,
            "version": "1",
        },
        "postit_radar": {"department": world.hr.code, "title": "Hemlig utmaning"},
        "postit_suggest": {"similar": Topic.objects.get(title="Hemlig utmaning").code},
        "board_radar_decide": {"topic": "x", "similar": "y", "decision": "confirm"},
        "goals": {"action": "add", "new-title": "Nytt mål"},
        "meeting_goals": {"tag": "x:y"},
    }.get(name, {})


@pytest.mark.parametrize(("name", "method", "role", "expected"), CASES)
def test_access(client, world, name, method, role, expected):
    TopicFactory(meeting=world.meeting, department=world.it, title="Hemlig utmaning")
    world.follow_up = FollowUpFactory(
        meeting=world.meeting, title="Hemlig uppföljning", owner=None, owner_department=world.hr
    )
    world.closed_meeting = MeetingFactory(
        group=world.group,
        starts_at=timezone.now() - timedelta(days=20),
        status=MeetingStatus.SUMMARY_SENT,
    )
    world.closed_topic = TopicFactory(
        meeting=world.closed_meeting, department=world.hr, title="Avslutad utmaning"
    )
    world.solution = Solution.objects.create(
        topic=world.closed_topic, title="Hemlig lösning", effort="M"
    )
    ITPerspective.objects.create(meeting=world.closed_meeting)
    world.micro_project = MicroProject.objects.create(
        solution=world.solution,
        topic=world.closed_topic,
        title="Hemligt mikroprojekt",
        owner=world.it_member,
    )
    failed = Message.objects.create(
        kind="meetings.invitation",
        key="matrix",
        about=world.meeting,
        address="hemlig@example.se",
        status="failed",
        last_error="550 Hemligt svar",
    )
    if role == "guest":
        guest = UserFactory(email="guest@example.se", full_name="Gun Gäst")
        AttendanceFactory(meeting=world.meeting, user=guest)
        client.force_login(guest)
    elif role == "it":
        client.force_login(world.it_member)
    elif role != "anonymous":
        client.force_login(getattr(world, role))
    url = _url(name, world)
    response = getattr(client, method)(url, _data(name, world))

    if expected == LOGIN:
        assert response.status_code == 302
        assert response.url.startswith(reverse("account_login"))
    else:
        assert response.status_code == expected
    if response.status_code in (403, 404) or expected == LOGIN:
        # Nothing of the group leaks, and nothing was changed.
        assert "Hemlig utmaning" not in response.content.decode()
        assert world.group.name not in response.content.decode()
        assert not Invitation.objects.filter(email="ny@example.se").exists()
        assert not Group.objects.filter(name="Ny grupp").exists()
        world.group.refresh_from_db()
        assert world.group.name == "Tvärgrupp IT"
        assert list(world.group.departments.order_by("name").values_list("name", flat=True)) == [
            "HR",
            "IT",
        ]
        assert world.group.participants.filter(pk=world.participant.pk).exists()
        assert not world.hr.heads.filter(pk=world.participant.pk).exists()
        assert not Schedule.objects.exists()
        assert not Topic.objects.filter(title="Ny lapp").exists()
        assert not StrategyGoal.objects.exists()
        assert not Suggestion.objects.exists()
        world.meeting.refresh_from_db()
        assert world.meeting.status == "open"
        assert "Hemligt svar" not in response.content.decode()
        failed.refresh_from_db()
        assert failed.status == "failed"
        assert not Attendance.objects.filter(present=True).exists()
        assert not Attendance.objects.exclude(status="invited").exists()
        world.follow_up.refresh_from_db()
        assert (world.follow_up.title, world.follow_up.status) == ("Hemlig uppföljning", "open")
        if response.status_code == 404 or expected == LOGIN:
            assert "Hemlig uppföljning" not in response.content.decode()
            assert "Hemlig lösning" not in response.content.decode()
            assert "Hemligt mikroprojekt" not in response.content.decode()
        assert not ITPerspective.objects.filter(published_at__isnull=False).exists()
        assert not Message.objects.filter(kind="summaries.it_perspective").exists()
        world.solution.refresh_from_db()
        assert world.solution.title == "Hemlig lösning"
        world.micro_project.refresh_from_db()
        assert world.micro_project.status == "proposed"


@pytest.mark.parametrize("role", ["outsider", "participant", "head", "moderator"])
def test_home_lists_only_the_groups_a_person_belongs_to(client, world, role):
    client.force_login(getattr(world, role))
    content = client.get(reverse("meetings:home")).content.decode()
    if role == "outsider":
        assert world.group.name not in content
        assert world.other_group.name in content
    else:
        assert world.group.name in content
        assert world.other_group.name not in content


def test_invitation_link_is_the_only_key_and_works_once(client, world):
    invitation = Invitation.objects.create(
        group=world.group, email="ny@example.se", role="participant", invited_by=world.moderator
    )
    url = reverse("groups:invitation_accept", args=[invitation.key])
    assert client.get(reverse("groups:invitation_accept", args=["wrong-key"])).status_code == 404
    assert client.post(url, {"full_name": "Ny Person"}).status_code == 302
    client.logout()
    response = client.post(url, {"full_name": "Någon Annan"})
    assert response.status_code == 410


def test_a_guest_of_one_meeting_sees_that_meeting_only(client, world):
    guest = UserFactory(email="guest@example.se", full_name="Gun Gäst")
    AttendanceFactory(meeting=world.meeting, user=guest)
    other = MeetingFactory(group=world.group, title="Ett annat möte")
    client.force_login(guest)

    meeting_url = reverse("topics:meeting_detail", args=[world.meeting.code])
    assert client.get(meeting_url).status_code == 200
    assert client.get(reverse("topics:meeting_detail", args=[other.code])).status_code == 404
    assert client.get(reverse("meetings:group_detail", args=[world.group.code])).status_code == 404
    assert world.group.name not in client.get(reverse("meetings:home")).content.decode()
    feed = client.get(reverse("meetings:calendar_feed", args=[guest.calendar_token]))
    assert f"meeting-{world.meeting.code}@tvargrupp" in feed.content.decode()
    assert f"meeting-{other.code}@tvargrupp" not in feed.content.decode()
