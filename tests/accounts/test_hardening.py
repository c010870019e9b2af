"""Sign-in hardening: exact limits, the admin's sign-in, proxies, sessions, the security log.

The suite normally turns allauth's limits off (DISABLE_RATE_LIMITS); these tests
turn them back on, to the production defaults: 5 failed passwords per address
in 5 minutes, 10 failures per client address a minute.
"""

import json

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
WRONG = "Epost-adressen och/eller lösenordet är felaktigt."
TOO_MANY = "För många misslyckade inloggningsförsök. Försök igen senare."


@pytest.fixture
def production_limits(settings):
    del settings.ACCOUNT_RATE_LIMITS  # allauth's defaults, as in production


def _try(client, email, password="fel-lösenord", **headers):  # noqa: S107
    response = client.post(LOGIN, {"login": email, "password": password}, **headers)
    return response


def test_five_wrong_passwords_for_one_address_then_even_the_right_one_is_refused(
    client, production_limits
):
    UserFactory(email="karin@example.se", password="rätt-lösen-123")
    for attempt in range(5):
        content = _try(client, "karin@example.se").content.decode()
        assert WRONG in content, attempt
    refused = _try(client, "karin@example.se", "rätt-lösen-123")
    assert refused.status_code == 200
    assert TOO_MANY in refused.content.decode()
    assert SESSION_KEY not in client.session
    # Another address from the same client is still let in.
    UserFactory(email="maria@example.se", password="rätt-lösen-456")
    assert _try(client, "maria@example.se", "rätt-lösen-456").status_code == 302


def test_the_refusal_is_in_the_persons_language(client, production_limits):
    UserFactory(email="karin@example.se", password="rätt-lösen-123")
    client.cookies["tvargrupp_language"] = "en"
    for _attempt in range(5):
        _try(client, "karin@example.se")
    content = _try(client, "karin@example.se").content.decode()
    assert "Too many failed login attempts. Try again later." in content
    assert '<html lang="en">' in content


def test_ten_failures_a_minute_from_one_client_address_block_that_address(
    client, production_limits
):
    UserFactory(email="karin@example.se", password="rätt-lösen-123")
    for n in range(10):
        assert WRONG in _try(client, f"gissning{n}@example.se").content.decode()
    assert TOO_MANY in _try(client, "karin@example.se", "rätt-lösen-123").content.decode()


def test_behind_a_proxy_without_trusted_proxy_count_everyone_shares_the_proxys_limit(
    client, production_limits, settings
):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 0
    UserFactory(email="karin@example.se", password="rätt-lösen-123")
    for n in range(10):
        _try(client, f"gissning{n}@example.se", HTTP_X_FORWARDED_FOR="203.0.113.7")
    other = _try(client, "karin@example.se", "rätt-lösen-123", HTTP_X_FORWARDED_FOR="198.51.100.2")
    assert TOO_MANY in other.content.decode()


def test_with_trusted_proxy_count_each_client_has_its_own_limit(
    client, production_limits, settings
):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    UserFactory(email="karin@example.se", password="rätt-lösen-123")
    for n in range(10):
        _try(client, f"gissning{n}@example.se", HTTP_X_FORWARDED_FOR="203.0.113.7")
    blocked = _try(client, "karin@example.se", "rätt-lösen-123", HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert TOO_MANY in blocked.content.decode()
    other = _try(client, "karin@example.se", "rätt-lösen-123", HTTP_X_FORWARDED_FOR="198.51.100.2")
    assert other.status_code == 302


def test_a_sixth_password_reset_for_one_address_gets_a_page_in_swedish(client, production_limits):
    UserFactory(email="karin@example.se")
    url = reverse("account_reset_password")
    for _attempt in range(5):
        assert client.post(url, {"email": "karin@example.se"}).status_code == 302
    refused = client.post(url, {"email": "karin@example.se"})
    assert refused.status_code == 429
    content = refused.content.decode()
    assert "<h1>För många försök</h1>" in content
    assert "Vänta några minuter och försök igen." in content


def test_admin_sign_in_goes_through_allauth_and_its_limits(client, production_limits):
    UserFactory(
        email="admin@example.se", password="rätt-lösen-123", is_staff=True, is_superuser=True
    )
    redirect = client.get("/admin/login/?next=/admin/")
    assert redirect.status_code == 302
    assert redirect.url == "/accounts/login/?next=%2Fadmin%2F"
    # Posting passwords at the admin's own form signs nobody in, however often.
    for _attempt in range(20):
        response = client.post(
            "/admin/login/", {"username": "admin@example.se", "password": "rätt-lösen-123"}
        )
        assert response.status_code == 302
        assert SESSION_KEY not in client.session
    for _attempt in range(5):
        _try(client, "admin@example.se")
    assert TOO_MANY in _try(client, "admin@example.se", "rätt-lösen-123").content.decode()


def test_admin_signed_in_through_allauth_reaches_the_admin(client):
    UserFactory(
        email="admin@example.se", password="rätt-lösen-123", is_staff=True, is_superuser=True
    )
    response = client.post(
        LOGIN + "?next=/admin/", {"login": "admin@example.se", "password": "rätt-lösen-123"}
    )
    assert response.url == "/admin/"
    assert "Webbplatsadministration" in client.get("/admin/").content.decode()


def test_a_signed_in_person_without_staff_rights_is_refused_by_the_admin(client):
    client.force_login(UserFactory())
    assert client.get("/admin/login/").status_code == 403


def test_session_is_rotated_on_sign_in(client):
    UserFactory(email="karin@example.se", password="rätt-lösen-123")
    session = client.session
    session["before"] = "sign-in"
    session.save()
    client.cookies["sessionid"] = session.session_key
    before = session.session_key
    assert _try(client, "karin@example.se", "rätt-lösen-123").status_code == 302
    after = client.cookies["sessionid"].value
    assert after != before
    assert not Session.objects.filter(session_key=before).exists()
    assert Session.objects.get(session_key=after).get_decoded()[SESSION_KEY]


def test_failed_sign_in_is_logged_with_the_request_id_and_client(client, json_log):
    UserFactory(email="karin@example.se", password="rätt-lösen-123")
    request_id = "5f0c4f6e3b2a41d09c8e7f6a5b4c3d2e"
    _try(client, "karin@example.se", HTTP_X_REQUEST_ID=request_id)
    [line] = json_log.lines("tvargrupp.security")
    assert line["message"] == "sign-in failed: wrong e-mail or password"
    assert line["level"] == "WARNING"
    assert line["request_id"] == request_id
    assert line["email"] == "karin@example.se"
    assert line["client_ip"] == "127.0.0.1"
    assert "rätt-lösen-123" not in json.dumps(line) and "fel-lösenord" not in json.dumps(line)


def test_denied_access_is_logged_with_the_request_id(client, world, json_log):
    client.force_login(world.head)
    request_id = "0a1b2c3d4e5f46a7b8c9d0e1f2a3b4c5"
    url = reverse("meetings:schedule_edit", args=[world.group.code])
    response = client.get(url, HTTP_X_REQUEST_ID=request_id)
    assert response.status_code == 403
    lines = [x for x in json_log.lines() if x.get("request_id") == request_id]
    denied = [x for x in lines if x["message"] == "access denied"]
    assert denied == [
        {**denied[0], "logger": "tvargrupp.security", "role": "head", "action": "moderate"}
    ]
    [request_line] = [x for x in lines if x["logger"] == "tvargrupp.request"]
    assert request_line["status"] == 403
    assert request_line["user_id"] == str(world.head.pk)
