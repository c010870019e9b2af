"""Each installation chooses its ways in: password, e-mailed code, organisation (OIDC)."""

import pytest
from django.contrib.auth import SESSION_KEY
from django.urls import reverse

from tests.factories import UserFactory
from tvargrupp.env import openid_connect_settings

pytestmark = pytest.mark.django_db


def test_all_three_ways_are_offered_when_configured(client, settings):
    settings.SIGNIN_OIDC = True
    settings.OIDC_NAME = "Region Exempel"
    settings.SOCIALACCOUNT_PROVIDERS = openid_connect_settings(
        server_url="https://sso.example.se/realms/region",
        client_id="tvargrupp",
        secret="",
        name="Region Exempel",
        trusted_domains=[],
    )
    content = client.get(reverse("account_login")).content.decode()
    assert '<form method="post" action="/accounts/oidc/organisation/login/"' in content
    assert "Logga in med Region Exempel" in content
    assert "Mejla mig en inloggningskod" in content
    assert "Logga in med lösenord" in content


def test_without_oidc_the_organisation_button_is_absent(client):
    content = client.get(reverse("account_login")).content.decode()
    assert "/accounts/oidc/" not in content
    assert "Logga in med organisationens konto" not in content


def test_password_sign_in_turned_off_refuses_passwords_and_their_pages(client, settings):
    settings.SIGNIN_PASSWORD = False
    UserFactory(email="karin@example.se", password="rätt-lösen-123")
    content = client.get(reverse("account_login")).content.decode()
    assert "Logga in med lösenord" not in content
    assert 'type="password"' not in content
    assert "Mejla mig en inloggningskod" in content

    response = client.post(
        reverse("account_login"), {"login": "karin@example.se", "password": "rätt-lösen-123"}
    )
    assert response.status_code == 200
    assert "Inloggning med lösenord är avstängd här." in response.content.decode()
    assert SESSION_KEY not in client.session
    assert client.get(reverse("account_reset_password")).status_code == 404


def test_code_sign_in_turned_off_hides_the_button_and_answers_404(client, settings):
    settings.SIGNIN_EMAIL_CODE = False
    content = client.get(reverse("account_login")).content.decode()
    assert "Mejla mig en inloggningskod" not in content
    assert "Logga in med lösenord" in content
    assert client.get(reverse("account_request_login_code")).status_code == 404
    response = client.post(reverse("account_request_login_code"), {"email": "karin@example.se"})
    assert response.status_code == 404
