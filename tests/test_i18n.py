import re
import subprocess
from pathlib import Path

from django.urls import reverse

from tests.factories import UserFactory

LOCALE = Path(__file__).resolve().parent.parent / "locale" / "sv" / "LC_MESSAGES"


def test_swedish_catalogue_is_complete(tmp_path):
    result = subprocess.run(
        [
            "msgfmt",
            "--check",
            "--statistics",
            "-o",
            str(tmp_path / "django.mo"),
            str(LOCALE / "django.po"),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert re.fullmatch(r"\d+ translated messages\.\n", result.stderr), result.stderr
    assert (tmp_path / "django.mo").read_bytes() == (LOCALE / "django.mo").read_bytes(), (
        "locale/sv/LC_MESSAGES/django.mo is stale: run make messages"
    )


def test_swedish_is_the_default_whatever_the_browser_says(client, db):
    response = client.get(reverse("account_login"), headers={"Accept-Language": "en-US,en"})
    content = response.content.decode()
    assert '<html lang="sv">' in content
    assert "<h1>Logga in</h1>" in content


def test_language_switch_sets_cookie_and_returns_to_the_page(client, db):
    response = client.post(
        reverse("accounts:language_set"), {"language": "en", "next": "/accounts/login/"}
    )
    assert response.status_code == 302
    assert response.url == "/accounts/login/"
    assert response.cookies["tvargrupp_language"].value == "en"
    assert "<h1>Sign in</h1>" in client.get(reverse("account_login")).content.decode()


def test_language_switch_refuses_foreign_redirects_and_unknown_languages(client, db):
    response = client.post(
        reverse("accounts:language_set"), {"language": "xx", "next": "https://evil.example.com/"}
    )
    assert response.url == "/"
    assert "tvargrupp_language" not in response.cookies


def test_signed_in_persons_language_wins_and_the_switch_updates_it(client, db):
    person = UserFactory(language="en")
    client.force_login(person)
    assert "My groups" in client.get(reverse("meetings:home")).content.decode()
    client.post(reverse("accounts:language_set"), {"language": "sv", "next": "/"})
    person.refresh_from_db()
    assert person.language == "sv"
    assert "Mina grupper" in client.get(reverse("meetings:home")).content.decode()
