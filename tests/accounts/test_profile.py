import pytest
from django.urls import reverse

from tests.factories import UserFactory


@pytest.fixture
def person(db):
    return UserFactory(email="asa@example.se", full_name="Åsa Öberg", language="sv")


def test_person_updates_name_and_language(client, person):
    client.force_login(person)
    response = client.post(reverse("accounts:profile"), {"full_name": "Åsa Ö 🌷", "language": "en"})
    assert response.status_code == 302
    person.refresh_from_db()
    assert (person.full_name, person.language) == ("Åsa Ö 🌷", "en")
    assert "Your profile" in client.get(reverse("accounts:profile")).content.decode()


@pytest.mark.parametrize(
    ("data", "field", "error"),
    [
        ({"full_name": ""}, "full_name", "Detta fält måste fyllas i."),
        (
            {"full_name": "x" * 151},
            "full_name",
            "Säkerställ att detta värde har som mest 150 tecken (den har 151).",
        ),
        (
            {"language": "de"},
            "language",
            "Välj ett giltigt alternativ. de finns inte bland tillgängliga alternativ.",
        ),
    ],
)
def test_profile_bad_input_shows_errors_and_keeps_input(client, person, data, field, error):
    client.force_login(person)
    payload = {"full_name": "<i>Ny</i> Å 😀", "language": "sv", **data}
    response = client.post(reverse("accounts:profile"), payload)
    assert response.status_code == 400
    assert response.context["form"].errors[field] == [error]
    if field != "full_name":
        assert 'value="&lt;i&gt;Ny&lt;/i&gt; Å 😀"' in response.content.decode()
    person.refresh_from_db()
    assert person.full_name == "Åsa Öberg"


def test_profile_shows_only_ones_own_data(client, person):
    other = UserFactory(email="other@example.se", full_name="Annan Person")
    client.force_login(person)
    content = client.get(reverse("accounts:profile")).content.decode()
    assert "asa@example.se" in content
    assert other.email not in content
