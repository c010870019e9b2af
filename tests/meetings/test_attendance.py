"""Attendance: answering the invitation (signed e-mail links, the meeting page), taking
attendance on the board, and the summary's "who took part" from it."""

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone

from board.services import board_start
from meetings.answers import answer_url
from meetings.models import Attendance, AttendanceStatus, MeetingStatus
from meetings.services import attendance_respond, meeting_cancel, meeting_open
from summaries.selectors import summary_document
from summaries.services import meeting_close
from tests.conftest import notices, send_outbox, text_body
from tests.factories import AttendanceFactory, DepartmentFactory, MeetingFactory, UserFactory

NOTHING_CHANGED = "inget ändrades"


def _invite(world):
    """Open the world's meeting: everyone in the group gets an invitation with answer links."""
    world.meeting.status = MeetingStatus.PLANNED
    world.meeting.save()
    meeting_open(meeting=world.meeting)
    return Attendance.objects.get(meeting=world.meeting, user=world.head)


def _links(message) -> dict[str, str]:
    body = text_body(message)
    found = dict(re.findall(r"^(Jag kommer(?: inte)?): (http\S+)", body, re.MULTILINE))
    return {"yes": found["Jag kommer"], "no": found["Jag kommer inte"]}


def _path(url: str) -> str:
    return urlsplit(url).path


# --- Answer links in the e-mail ------------------------------------------------------


def test_invitation_carries_two_answer_links_that_answer_without_signing_in(client, world, mailbox):
    attendance = _invite(world)
    notices(world.meeting).exclude(address="head@example.se").delete()
    assert send_outbox() == 1
    links = _links(mailbox.messages[0])
    assert "Kommer du? Svara med en länk, ingen inloggning behövs:" in text_body(
        mailbox.messages[0]
    )

    # Opening the link only shows the answer (a mail scanner changes nothing) …
    page = client.get(_path(links["yes"]))
    assert page.status_code == 200
    assert "Ja, jag kommer" in page.content.decode()
    attendance.refresh_from_db()
    assert (attendance.status, attendance.response_version) == (AttendanceStatus.INVITED, 0)

    # … and its button records it, for a person who is not signed in.
    done = client.post(_path(links["yes"]))

    assert done.status_code == 200
    assert "Tack, ditt svar är sparat" in done.content.decode()
    attendance.refresh_from_db()
    assert (attendance.status, attendance.response_version) == (AttendanceStatus.ACCEPTED, 1)
    assert attendance.responded_at is not None
    assert "_auth_user_id" not in client.session


def test_a_used_answer_link_says_so_and_changes_nothing(client, world):
    attendance = _invite(world)
    yes, no = answer_url(attendance, "yes"), answer_url(attendance, "no")
    client.post(yes)

    again = client.post(yes)
    other = client.post(no)

    for response in (again, other):
        assert response.status_code == 409
        content = response.content.decode()
        assert "Du har redan svarat" in content
        assert "Ditt svar: <strong>Jag kommer</strong>" in content
        assert world.meeting.get_absolute_url() in content
    attendance.refresh_from_db()
    assert (attendance.status, attendance.response_version) == (AttendanceStatus.ACCEPTED, 1)


def test_a_link_is_used_once_the_person_answered_on_the_meeting_page(client, world):
    attendance = _invite(world)
    no = answer_url(attendance, "no")
    attendance_respond(meeting=world.meeting, user=world.head, status=AttendanceStatus.ACCEPTED)

    assert client.post(no).status_code == 409
    attendance.refresh_from_db()
    assert attendance.status == AttendanceStatus.ACCEPTED


@pytest.mark.parametrize(
    "tamper",
    [
        lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"),  # signature changed
        lambda token: "x" + token,  # content changed
        lambda token: "inte-en-länk",
    ],
)
def test_a_forged_answer_link_gets_a_clear_page_and_changes_nothing(client, world, tamper):
    attendance = _invite(world)
    token = answer_url(attendance, "yes").rstrip("/").rsplit("/", 1)[1]

    for method in (client.get, client.post):
        response = method(reverse("meetings:answer", args=[tamper(token)]))
        assert response.status_code == 400
        content = response.content.decode()
        assert "Den här länken fungerar inte" in content
        assert world.group.name not in content
    attendance.refresh_from_db()
    assert (attendance.status, attendance.response_version) == (AttendanceStatus.INVITED, 0)


def test_an_answer_link_for_a_meeting_that_has_ended_is_expired(client, world):
    attendance = _invite(world)
    yes = answer_url(attendance, "yes")
    world.meeting.starts_at = timezone.now() - timedelta(hours=2)
    world.meeting.ends_at = timezone.now() - timedelta(minutes=1)
    world.meeting.submission_deadline = world.meeting.starts_at - timedelta(days=1)
    world.meeting.save()

    response = client.post(yes)

    assert response.status_code == 410
    assert "Mötet är avslutat" in response.content.decode()
    attendance.refresh_from_db()
    assert attendance.status == AttendanceStatus.INVITED


def test_an_answer_link_for_a_cancelled_meeting_says_it_is_cancelled(client, world):
    attendance = _invite(world)
    yes = answer_url(attendance, "yes")
    meeting_cancel(meeting=world.meeting)

    response = client.post(yes)

    assert response.status_code == 410
    assert "Mötet är inställt" in response.content.decode()
    attendance.refresh_from_db()
    assert attendance.status == AttendanceStatus.INVITED


def test_an_answer_link_still_works_after_the_meeting_moved_later(client, world):
    attendance = _invite(world)
    yes = answer_url(attendance, "yes")
    world.meeting.ends_at += timedelta(days=30)
    world.meeting.starts_at += timedelta(days=30)
    world.meeting.save()

    assert client.post(yes).status_code == 200
    attendance.refresh_from_db()
    assert attendance.status == AttendanceStatus.ACCEPTED


def test_answer_page_is_in_english_for_an_english_reader(client, world):
    world.head.language = "en"
    world.head.save(update_fields=["language"])
    attendance = _invite(world)
    client.cookies["tvargrupp_language"] = "en"

    response = client.get(answer_url(attendance, "no"))

    assert "No, I am not coming" in response.content.decode()


@pytest.mark.parametrize("size", [2, 30])
def test_answer_page_query_count_is_constant(client, world, django_assert_num_queries, size):
    for n in range(size):
        AttendanceFactory(meeting=world.meeting, user=UserFactory(email=f"p{n}@example.se"))
    attendance = _invite(world)
    url = answer_url(attendance, "yes")

    with django_assert_num_queries(1):
        assert client.get(url).status_code == 200
    with django_assert_num_queries(14):
        assert client.post(url).status_code == 200


# --- Answering on the meeting page ------------------------------------------------


def test_an_invitee_answers_on_the_meeting_page(client, world):
    client.force_login(world.participant)
    url = reverse("meetings:attendance_answer", args=[world.meeting.code])

    page = client.get(world.meeting.get_absolute_url()).content.decode()
    assert "Kommer du?" in page
    assert "Du har inte svarat än." in page

    response = client.post(url, {"answer": "declined"})

    assert response.url == world.meeting.get_absolute_url()
    attendance = Attendance.objects.get(meeting=world.meeting, user=world.participant)
    assert (attendance.status, attendance.response_version) == (AttendanceStatus.DECLINED, 1)
    page = client.get(response.url).content.decode()
    assert "Ditt svar är sparat: du kommer inte." in page
    assert "Ditt svar: du kommer inte." in page


def test_a_member_who_was_not_invited_answers_and_is_added_with_their_department(client, world):
    client.force_login(world.head)

    client.post(
        reverse("meetings:attendance_answer", args=[world.meeting.code]), {"answer": "accepted"}
    )

    attendance = Attendance.objects.get(meeting=world.meeting, user=world.head)
    assert (attendance.status, attendance.department) == (AttendanceStatus.ACCEPTED, world.hr)


@pytest.mark.parametrize("answer", ["maybe", "", "invited"])
def test_a_bad_answer_on_the_meeting_page_is_refused_with_a_message(client, world, answer):
    client.force_login(world.participant)

    response = client.post(
        reverse("meetings:attendance_answer", args=[world.meeting.code]),
        {"answer": answer},
        follow=True,
    )

    assert "Svara antingen att du kommer eller att du inte kommer." in response.content.decode()
    attendance = Attendance.objects.get(meeting=world.meeting, user=world.participant)
    assert (attendance.status, attendance.response_version) == (AttendanceStatus.INVITED, 0)


def test_nobody_answers_for_a_meeting_that_has_ended(client, world):
    world.meeting.status = MeetingStatus.CLOSED
    world.meeting.save()
    client.force_login(world.participant)

    response = client.post(
        reverse("meetings:attendance_answer", args=[world.meeting.code]),
        {"answer": "accepted"},
        follow=True,
    )

    assert "Mötet är slut; svar kan inte längre lämnas." in response.content.decode()
    assert "Kommer du?" not in response.content.decode()
    attendance = Attendance.objects.get(meeting=world.meeting, user=world.participant)
    assert attendance.status == AttendanceStatus.INVITED


def test_the_moderator_sees_the_answers_on_the_meeting_page(client, world):
    coming = UserFactory(full_name="Anna Kommer")
    AttendanceFactory(meeting=world.meeting, user=coming, status=AttendanceStatus.ACCEPTED)
    away = UserFactory(full_name="Bo Borta")
    AttendanceFactory(meeting=world.meeting, user=away, status=AttendanceStatus.DECLINED)
    client.force_login(world.moderator)

    content = client.get(world.meeting.get_absolute_url()).content.decode()

    assert "1 kommer · 1 kommer inte · 1 har inte svarat" in content
    assert "Anna Kommer · Kommer" in content
    assert "Bo Borta · Kommer inte" in content
    assert "Omar Haddad · Inget svar" in content


# --- Attendance on the board --------------------------------------------------------


@pytest.fixture
def live(world):
    board_start(meeting=world.meeting)
    world.meeting.refresh_from_db()
    return world.meeting


def _mark(client, world, person, present="1", **headers):
    return client.post(
        reverse("board:attendance", args=[world.meeting.code]),
        {"person": person.code, "present": present},
        **headers,
    )


def test_the_moderator_marks_people_present_in_one_click_each(client, world, live):
    client.force_login(world.moderator)
    page = client.get(reverse("board:board", args=[world.meeting.code])).content.decode()
    assert 'id="attendance"' in page
    assert "0 av 3 närvarande" in page  # moderator, head, participant; not the outsider

    response = _mark(client, world, world.participant, HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    attendance = Attendance.objects.get(meeting=world.meeting, user=world.participant)
    assert attendance.present is True
    assert attendance.marked_at is not None
    fragment = response.content.decode()
    assert "1 av 3 närvarande" in fragment
    assert f'data-focus-key="present:{world.participant.code}"' in fragment
    assert re.search(
        r'aria-pressed="true" data-focus-key="present:' + world.participant.code, fragment
    )

    _mark(client, world, world.participant, present="0")
    attendance.refresh_from_db()
    assert attendance.present is False


def test_a_member_who_turns_up_unannounced_is_marked_present(client, world, live):
    assert not Attendance.objects.filter(meeting=world.meeting, user=world.head).exists()
    client.force_login(world.moderator)

    response = _mark(client, world, world.head)

    assert response.status_code == 302
    attendance = Attendance.objects.get(meeting=world.meeting, user=world.head)
    assert (attendance.present, attendance.department, attendance.status) == (
        True,
        world.hr,
        AttendanceStatus.INVITED,
    )


def test_someone_outside_the_group_cannot_be_marked_present(client, world, live):
    client.force_login(world.moderator)

    response = _mark(client, world, world.outsider)

    assert response.status_code == 400
    assert "Utom Stående är varken inbjuden eller med i gruppen." in response.content.decode()
    assert not Attendance.objects.filter(user=world.outsider).exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"person": "okänd", "present": "1"},
            "Den personen är varken inbjuden eller med i gruppen.",
        ),
        ({"present": "1"}, "Den personen är varken inbjuden eller med i gruppen."),
        ({"person": "{participant}", "present": "ja"}, "Okänd åtgärd."),
    ],
)
def test_bad_attendance_input_gets_a_message_and_changes_nothing(
    client, world, live, data, message
):
    client.force_login(world.moderator)
    data = {k: v.format(participant=world.participant.code) for k, v in data.items()}

    response = client.post(reverse("board:attendance", args=[world.meeting.code]), data)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Attendance.objects.filter(present=True).exists()


def test_attendance_of_a_closed_meeting_no_longer_changes(client, world, live):
    meeting_close(meeting=world.meeting)
    client.force_login(world.moderator)

    response = _mark(client, world, world.participant)

    assert response.status_code == 400
    assert "Mötet är avslutat" in response.content.decode()
    assert not Attendance.objects.filter(present=True).exists()


@pytest.mark.parametrize("role", ["participant", "head"])
def test_only_moderators_take_attendance(client, world, live, role):
    client.force_login(getattr(world, role))

    assert _mark(client, world, world.participant).status_code == 403
    assert not Attendance.objects.filter(present=True).exists()


# --- The summary: who took part ---------------------------------------------------


def test_the_summary_lists_exactly_who_was_marked_present(client, world, live):
    finance = DepartmentFactory(group=world.group, name="Ekonomi", short_name="EKO")
    cfo = UserFactory(full_name="Fia Finans")
    finance.heads.add(cfo)
    # Invited and coming, but never came; not coming, yet came; not invited at all, came.
    AttendanceFactory(
        meeting=world.meeting, user=cfo, department=finance, status=AttendanceStatus.ACCEPTED
    )
    AttendanceFactory(meeting=world.meeting, user=world.moderator, status=AttendanceStatus.DECLINED)
    client.force_login(world.moderator)
    for person in (world.moderator, world.head):
        _mark(client, world, person)

    meeting_close(meeting=world.meeting)
    document = summary_document(meeting=world.meeting)

    assert [a.user for a in document.present] == [world.moderator, world.head]
    assert [d.name for d in document.present_departments] == ["HR"]
    review = client.get(reverse("summaries:review", args=[world.meeting.code])).content.decode()
    took_part = re.search(r'<p class="took-part">(.*?)</p>', review).group(1)
    assert took_part == "Karin Åberg, Maria Lindqvist (HR)"


def test_a_summary_without_attendance_says_it_was_not_taken(client, world, live):
    meeting_close(meeting=world.meeting)
    client.force_login(world.moderator)

    review = client.get(reverse("summaries:review", args=[world.meeting.code])).content.decode()

    assert "Närvaro togs inte vid det här mötet." in review
    assert summary_document(meeting=world.meeting).present_departments == []


def test_a_meeting_another_group_holds_is_not_answered_by_outsiders(client, world):
    other = MeetingFactory(group=world.other_group)
    client.force_login(world.head)

    response = client.post(
        reverse("meetings:attendance_answer", args=[other.code]), {"answer": "accepted"}
    )

    assert response.status_code == 404
    assert not Attendance.objects.filter(meeting=other).exists()
