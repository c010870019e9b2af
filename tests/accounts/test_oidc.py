"""Organisation sign-in: OpenID Connect against a real provider on loopback, in Chromium.

The provider is panva's `oidc-provider` (npm, installed into tests/oidc/ by
.ci/run), run with node; it requires PKCE of every client, so a sign-in that
completes proves the code verifier was sent. Its login page takes any login
name; the claims of each name are set here.
"""

import copy
import json
import os
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from allauth.socialaccount.models import SocialAccount

from accounts.models import User
from groups.models import Invitation, MemberRole
from tests.conftest import require_service
from tests.factories import UserFactory
from tvargrupp.env import openid_connect_settings, origin

ROOT = Path(__file__).resolve().parent.parent.parent
PROVIDER_DIR = ROOT / "tests" / "oidc"
CLIENT_ID = "tvargrupp-test"
CLIENT_SECRET = "a-client-secret-for-the-loopback-provider"
ACCOUNTS = {
    "maria": {
        "email": "Maria.Lindqvist@example.se",
        "email_verified": True,
        "name": "Maria Lindqvist",
    },
    "karin": {"email": "moderator@example.se", "email_verified": True, "name": "Karin Åberg"},
    "okand": {"email": "okand@example.se", "email_verified": True, "name": "Okänd Person"},
    "overifierad": {"email": "johan@example.se", "email_verified": False, "name": "Johan Ek"},
    "entra": {"email": "sara@region.example.se", "name": "Sara Nilsson"},
}

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def oidc_provider(live_server):
    node = shutil.which("node")
    require_service(
        bool(node) and (PROVIDER_DIR / "node_modules" / "oidc-provider").exists(),
        "node and tests/oidc/node_modules (npm ci --prefix tests/oidc)",
    )
    port = _free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "CLIENT_ID": CLIENT_ID,
        "CLIENT_SECRET": CLIENT_SECRET,
        "REDIRECT_URI": f"{live_server.url}/accounts/oidc/organisation/login/callback/",
        "ACCOUNTS": json.dumps(ACCOUNTS),
    }
    process = subprocess.Popen(
        [node, str(PROVIDER_DIR / "provider.mjs")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(
                    f"oidc-provider did not start:\n{process.stdout.read()}"
                ) from None
            time.sleep(0.1)
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def organisation_sign_in(oidc_provider, settings):
    """What OIDC_SERVER_URL and friends make of the settings, for this provider."""
    settings.SIGNIN_OIDC = True
    settings.OIDC_NAME = "Region Exempel"
    settings.SOCIALACCOUNT_PROVIDERS = openid_connect_settings(
        server_url=oidc_provider,
        client_id=CLIENT_ID,
        secret=CLIENT_SECRET,
        name="Region Exempel",
        trusted_domains=["region.example.se"],
    )
    policy = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)
    policy["DIRECTIVES"]["form-action"] = ["'self'", origin(oidc_provider)]
    settings.CONTENT_SECURITY_POLICY = policy
    return oidc_provider


def _sign_in(page, live_server, login: str) -> list[str]:
    """Click the organisation button, sign in at the provider; the authorisation URLs seen."""
    authorisations: list[str] = []
    page.on("request", lambda r: authorisations.append(r.url) if "/auth?" in r.url else None)
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_role("button", name="Logga in med Region Exempel").click()
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill("vilket-som-helst")
    page.get_by_role("button", name="Sign-in").click()
    page.get_by_role("button", name="Continue").click()
    return authorisations


def test_invited_head_signs_in_through_the_organisation_with_pkce(
    page, live_server, world, organisation_sign_in
):
    invitation = Invitation.objects.create(
        group=world.group,
        email="maria.lindqvist@example.se",
        role=MemberRole.HEAD,
        department=world.hr,
        invited_by=world.moderator,
    )

    authorisations = _sign_in(page, live_server, "maria")

    page.wait_for_url(f"{live_server.url}/")
    assert page.get_by_role("heading", level=1).inner_text() == "Välkommen, Maria"
    [authorise] = [url for url in authorisations if url.startswith(organisation_sign_in)]
    assert re.search(r"[?&]code_challenge=[\w-]{43}(&|$)", authorise)
    assert "code_challenge_method=S256" in authorise
    query = parse_qs(urlsplit(authorise).query)
    assert set(query["scope"][0].split()) == {"openid", "profile", "email"}
    assert query["response_type"] == ["code"]
    maria = User.objects.get(email="maria.lindqvist@example.se")
    assert maria.full_name == "Maria Lindqvist"
    assert not maria.has_usable_password()
    assert list(world.hr.heads.all()) == [world.head, maria]
    invitation.refresh_from_db()
    assert invitation.accepted_by == maria
    assert SocialAccount.objects.get(user=maria).uid == "maria"


def test_existing_person_is_matched_by_verified_email_and_keeps_their_roles(
    page, live_server, world, organisation_sign_in
):
    _sign_in(page, live_server, "karin")
    page.wait_for_url(f"{live_server.url}/")
    assert page.get_by_role("heading", level=1).inner_text() == "Välkommen, Karin"
    assert SocialAccount.objects.get(uid="karin").user == world.moderator
    assert User.objects.filter(email__iexact="moderator@example.se").count() == 1


def test_person_nobody_invited_gets_a_clear_page_and_no_account(
    page, live_server, world, organisation_sign_in
):
    people = User.objects.count()
    _sign_in(page, live_server, "okand")
    heading = page.get_by_role("heading", level=1)
    assert heading.inner_text() == "Ingen har bjudit in dig än"
    text = page.locator("main").inner_text()
    assert "Tvärgrupp har ingen inbjudan till okand@example.se" in text
    assert "Be en moderator i din tvärgrupp att bjuda in den här adressen" in text
    assert User.objects.count() == people
    assert not SocialAccount.objects.exists()
    page.get_by_role("link", name="Tillbaka till inloggningen").click()
    page.wait_for_url(f"{live_server.url}/accounts/login/")


def test_an_unverified_address_is_not_matched_to_its_invitation(
    page, live_server, world, organisation_sign_in
):
    Invitation.objects.create(
        group=world.group, email="johan@example.se", role=MemberRole.PARTICIPANT
    )
    _sign_in(page, live_server, "overifierad")
    assert page.get_by_role("heading", level=1).inner_text() == "Ingen har bjudit in dig än"
    assert "bekräftade inte att johan@example.se är din adress" in page.locator("main").inner_text()
    assert not User.objects.filter(email="johan@example.se").exists()
    assert Invitation.objects.get(email="johan@example.se").accepted_at is None


def test_a_trusted_domain_counts_as_verified_without_the_claim(
    page, live_server, world, organisation_sign_in
):
    """Entra ID sends no email_verified: OIDC_TRUSTED_EMAIL_DOMAINS vouches for its domain."""
    Invitation.objects.create(
        group=world.group, email="sara@region.example.se", role=MemberRole.PARTICIPANT
    )
    _sign_in(page, live_server, "entra")
    page.wait_for_url(f"{live_server.url}/")
    sara = User.objects.get(email="sara@region.example.se")
    assert world.group.participants.filter(pk=sara.pk).exists()


def test_people_are_found_by_address_in_any_case_and_nobody_else(db):
    """The matching service behind the adapter: existing people, case-insensitively."""
    UserFactory(email="johan@example.se")
    from groups.services import invitations_accept_for_email

    assert invitations_accept_for_email(email="JOHAN@example.se").email == "johan@example.se"
    assert invitations_accept_for_email(email="nobody@example.se") is None
