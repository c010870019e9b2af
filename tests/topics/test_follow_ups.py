"""Follow-ups all the way: the group's list, a page per follow-up, the lifecycle,
who may change one, and its history with who and when."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from groups.access import Role
from tests.factories import DepartmentFactory, FollowUpFactory, TopicFactory, UserFactory
from topics.models import FollowUp, FollowUpChange, FollowUpStatus
from topics.services import FollowUpConflict, follow_up_change

HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)> Åsa & Öberg 🎉"


def _today():
    return timezone.localdate()


def _detail(follow_up):
    return reverse("topics:follow_up_detail", args=[follow_up.code])


def _form(follow_up, **changes):
    data = {
        "title": follow_up.title,
        "status": follow_up.status,
        "reason": follow_up.reason,
        "outcome": follow_up.outcome,
        "owner": follow_up.owner.code if follow_up.owner else "",
        "owner_department": follow_up.owner_department.code if follow_up.owner_department else "",
        "due_date": follow_up.due_date.isoformat() if follow_up.due_date else "",
        "version": str(follow_up.version),
    }
    data.update(changes)
    return data


@pytest.fixture
def follow_up(world):
    return FollowUpFactory(
        meeting=world.meeting,
        title="Ta fram besöksstatistik",
        owner=world.participant,
        owner_department=world.hr,
        due_date=_today() + timedelta(days=14),
    )


# --- The lifecycle and who may change ----------------------------------------------


def test_owner_marks_done_with_outcome_and_the_history_says_who_and_when(world, follow_up):
    before = timezone.now()
    follow_up_change(
        follow_up=follow_up,
        by=world.participant,
        role=Role.PARTICIPANT,
        version=1,
        status=FollowUpStatus.DONE,
        outcome="Statistiken visar 5 % avvikelse.",
    )
    follow_up.refresh_from_db()
    assert follow_up.status == "done"
    assert follow_up.outcome == "Statistiken visar 5 % avvikelse."
    assert follow_up.closed_at >= before
    assert follow_up.version == 2
    change = FollowUpChange.objects.get(follow_up=follow_up)
    assert change.by == world.participant
    assert change.at >= before
    assert change.changes == [
        {"field": "status", "old": "open", "new": "done"},
        {"field": "outcome", "old": "", "new": "Statistiken visar 5 % avvikelse."},
    ]


def test_dropping_needs_a_reason(world, follow_up):
    with pytest.raises(ValidationError) as error:
        follow_up_change(
            follow_up=follow_up,
            by=world.moderator,
            role=Role.MODERATOR,
            version=1,
            status=FollowUpStatus.DROPPED,
            reason="  ",
        )
    assert "reason" in error.value.message_dict
    follow_up.refresh_from_db()
    assert follow_up.status == "open"
    assert not FollowUpChange.objects.exists()


def test_a_done_follow_up_cannot_be_dropped_without_reopening(world, follow_up):
    follow_up_change(
        follow_up=follow_up, by=world.moderator, role=Role.MODERATOR, version=1, status="done"
    )
    with pytest.raises(ValidationError) as error:
        follow_up_change(
            follow_up=follow_up,
            by=world.moderator,
            role=Role.MODERATOR,
            version=2,
            status="dropped",
            reason="Onödigt",
        )
    assert "status" in error.value.message_dict
    follow_up.refresh_from_db()
    assert follow_up.status == "done"
    # Reopening is allowed, and clears the closing time.
    follow_up_change(
        follow_up=follow_up, by=world.moderator, role=Role.MODERATOR, version=2, status="open"
    )
    follow_up.refresh_from_db()
    assert (follow_up.status, follow_up.closed_at) == ("open", None)
    assert FollowUpChange.objects.filter(follow_up=follow_up).count() == 2


def test_a_head_of_the_owning_department_may_change_it(world, follow_up):
    follow_up_change(
        follow_up=follow_up,
        by=world.head,
        role=Role.HEAD,
        version=1,
        due_date=_today() + timedelta(days=30),
    )
    follow_up.refresh_from_db()
    assert follow_up.due_date == _today() + timedelta(days=30)


def test_someone_else_cannot_change_it(world, follow_up):
    it_head = UserFactory()
    world.it.heads.add(it_head)
    with pytest.raises(PermissionDenied):
        follow_up_change(follow_up=follow_up, by=it_head, role=Role.HEAD, version=1, status="done")
    follow_up.refresh_from_db()
    assert follow_up.status == "open"
    assert not FollowUpChange.objects.exists()


def test_a_stale_change_is_refused_but_the_same_change_twice_is_not(world, follow_up):
    follow_up_change(
        follow_up=follow_up, by=world.participant, role=Role.PARTICIPANT, version=1, outcome="A"
    )
    with pytest.raises(FollowUpConflict) as conflict:
        follow_up_change(
            follow_up=follow_up, by=world.moderator, role=Role.MODERATOR, version=1, outcome="B"
        )
    assert conflict.value.current.outcome == "A"
    same = follow_up_change(
        follow_up=follow_up, by=world.moderator, role=Role.MODERATOR, version=1, outcome="A"
    )
    assert same.version == 2


# --- The page per follow-up ----------------------------------------------------------


def test_owner_closes_it_on_its_page_and_sees_the_history(client, world, follow_up):
    client.force_login(world.participant)
    response = client.post(
        _detail(follow_up), _form(follow_up, status="done", outcome="Klart: " + HOSTILE)
    )
    assert response.status_code == 302
    page = client.get(_detail(follow_up)).content.decode()
    assert "Klart: &lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)" not in page
    assert "Omar Haddad" in page  # who, in the history
    follow_up.refresh_from_db()
    assert follow_up.status == "done"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"status": "dropped", "reason": ""}, "reason"),
        ({"status": "bogus"}, "status"),
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"due_date": "31/02/2026"}, "due_date"),
        ({"owner": "nobody", "owner_department": ""}, "owner"),
        ({"outcome": "å" * 4001}, "outcome"),
    ],
)
def test_bad_input_gets_a_field_error_and_changes_nothing(client, world, follow_up, changes, field):
    client.force_login(world.moderator)
    response = client.post(_detail(follow_up), _form(follow_up, **changes))
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert 'class="field-errors"' in response.content.decode()
    follow_up.refresh_from_db()
    assert (follow_up.status, follow_up.version) == ("open", 1)


def test_a_forbidden_transition_gets_a_clear_message(client, world, follow_up):
    FollowUp.objects.filter(pk=follow_up.pk).update(status="done")
    client.force_login(world.moderator)
    follow_up.refresh_from_db()
    response = client.post(_detail(follow_up), _form(follow_up, status="dropped", reason="Nej"))
    assert response.status_code == 400
    assert "cannot become" in str(response.context["form"].errors["status"]) or (
        "kan inte bli" in str(response.context["form"].errors["status"])
    )
    follow_up.refresh_from_db()
    assert follow_up.status == "done"


def test_a_stale_form_shows_the_saved_text_and_keeps_the_typed_one(client, world, follow_up):
    follow_up_change(
        follow_up=follow_up, by=world.participant, role=Role.PARTICIPANT, version=1, outcome="Först"
    )
    client.force_login(world.moderator)
    response = client.post(_detail(follow_up), _form(follow_up, outcome="Mitt eget"))
    assert response.status_code == 409
    content = response.content.decode()
    assert "Först" in content and "Mitt eget" in content
    assert response.context["form"]["version"].value() == "2"
    follow_up.refresh_from_db()
    assert follow_up.outcome == "Först"


def test_a_head_of_another_department_reads_but_cannot_change(client, world, follow_up):
    it_head = UserFactory()
    world.it.heads.add(it_head)
    client.force_login(it_head)
    page = client.get(_detail(follow_up))
    assert page.status_code == 200
    assert "change-heading" not in page.content.decode()
    response = client.post(_detail(follow_up), _form(follow_up, status="done"))
    assert response.status_code == 403
    follow_up.refresh_from_db()
    assert follow_up.status == "open"


def test_a_guest_who_owns_a_follow_up_may_change_it_but_sees_nothing_else(client, world):
    guest = UserFactory()
    own = FollowUpFactory(meeting=world.meeting, owner=guest)
    other = FollowUpFactory(meeting=world.meeting, owner=world.head)
    client.force_login(guest)
    assert client.get(_detail(own)).status_code == 200
    assert client.post(_detail(own), _form(own, status="done")).status_code == 302
    assert client.get(_detail(other)).status_code == 404
    url = reverse("topics:follow_up_list", args=[world.group.code])
    assert client.get(url).status_code == 404


# --- The group's list ----------------------------------------------------------------


def test_the_list_filters_and_sorts_by_due_date(client, world):
    today = _today()
    late = FollowUpFactory(
        meeting=world.meeting, title="Sen", owner=world.head, due_date=today - timedelta(days=3)
    )
    soon = FollowUpFactory(
        meeting=world.meeting,
        title="Snart",
        owner=world.participant,
        owner_department=world.it,
        due_date=today + timedelta(days=2),
    )
    undated = FollowUpFactory(
        meeting=world.meeting, title="Odaterad", owner=world.head, due_date=None
    )
    done = FollowUpFactory(meeting=world.meeting, title="Gjord", owner=world.head, status="done")
    url = reverse("topics:follow_up_list", args=[world.group.code])
    client.force_login(world.head)

    def titles(**query):
        response = client.get(url, query)
        assert response.status_code == 200
        return [f.title for f in response.context["follow_ups"]]

    assert titles() == ["Sen", "Snart", "Odaterad"]  # open by default, undated last
    assert titles(status="") == ["Sen", "Snart", "Gjord", "Odaterad"]
    assert titles(status="done") == ["Gjord"]
    assert titles(department=world.it.code) == ["Snart"]
    assert titles(owner=world.head.code, status="") == ["Sen", "Gjord", "Odaterad"]
    assert titles(overdue="on") == ["Sen"]
    page = client.get(url).content.decode()
    assert f'id="follow-up-{late.code}" class="overdue"' in page
    assert f'id="follow-up-{soon.code}">' in page
    assert undated.code in page and done.code not in page


@pytest.mark.parametrize("query", [{"status": "bogus"}, {"department": "nope"}, {"owner": "nope"}])
def test_a_bad_filter_is_a_field_error_not_a_crash(client, world, query):
    FollowUpFactory(meeting=world.meeting, owner=world.head)
    client.force_login(world.head)
    response = client.get(reverse("topics:follow_up_list", args=[world.group.code]), query)
    assert response.status_code == 400
    assert set(response.context["form"].errors) == set(query)
    assert response.context["follow_ups"] == []


def test_an_empty_list_explains_where_follow_ups_come_from(client, world):
    client.force_login(world.head)
    page = client.get(reverse("topics:follow_up_list", args=[world.group.code])).content.decode()
    assert 'class="empty-state"' in page


def test_a_department_from_another_group_cannot_be_filtered_on(client, world):
    foreign = DepartmentFactory(group=world.other_group)
    client.force_login(world.head)
    response = client.get(
        reverse("topics:follow_up_list", args=[world.group.code]), {"department": foreign.code}
    )
    assert response.status_code == 400


# --- Overdue everywhere they appear ----------------------------------------------------


def test_the_meeting_page_flags_overdue_follow_ups_and_links_each(client, world):
    late = FollowUpFactory(
        meeting=world.meeting,
        title="Försenad sak",
        owner=world.head,
        due_date=_today() - timedelta(days=1),
    )
    fine = FollowUpFactory(meeting=world.meeting, title="I tid", owner=world.head)
    client.force_login(world.participant)
    page = client.get(reverse("topics:meeting_detail", args=[world.meeting.code])).content.decode()
    assert page.count("badge--overdue") == 1
    assert _detail(late) in page and _detail(fine) in page


# --- Queries ------------------------------------------------------------------------


@pytest.mark.parametrize("size", [2, 20])
def test_follow_up_list_query_count_is_constant(client, world, django_assert_num_queries, size):
    for n in range(size):
        topic = TopicFactory(meeting=world.meeting, department=world.hr)
        FollowUpFactory(
            meeting=world.meeting,
            topic=topic,
            owner=UserFactory(),
            owner_department=world.hr,
            title=f"F {n}",
        )
    client.force_login(world.head)
    url = reverse("topics:follow_up_list", args=[world.group.code])
    with django_assert_num_queries(7):
        response = client.get(url, {"status": "open", "department": world.hr.code})
    assert len(response.context["follow_ups"]) == size


@pytest.mark.parametrize("size", [2, 20])
def test_follow_up_page_query_count_is_constant(
    client, world, follow_up, django_assert_num_queries, size
):
    for n in range(size):
        follow_up_change(
            follow_up=follow_up,
            by=world.moderator,
            role=Role.MODERATOR,
            version=n + 1,
            outcome=f"Steg {n}",
        )
        DepartmentFactory(group=world.group).heads.add(UserFactory())
    client.force_login(world.moderator)
    with django_assert_num_queries(7):
        response = client.get(_detail(follow_up))
    assert len(response.context["history"]) == size
