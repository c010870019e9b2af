"""Every page of the journeys, as each role sees it, passes axe-core (WCAG 2.2 A and AA)
and the Nu HTML Checker, and shows no secondary or destructive button as a primary one.

One walk over the demo organisation: each page is loaded in Chromium and checked
by axe-core (axe-playwright-python, which ships axe.min.js: no network), and the
HTML the server sent is saved; the Nu HTML Checker (vnu.jar from the npm package
`vnu-jar`, tests/vnu) then checks all saved pages in one run.
"""

import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core.management import call_command
from django.urls import reverse

from accounts.models import User
from board.services import board_give_word, board_start
from meetings.models import Meeting
from summaries.services import meeting_close
from tests.conftest import require_service, signed_in_context
from topics.models import FollowUp, MicroProject, Solution

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VNU_DIR = Path(__file__).parent / "vnu"
VNU_JAR = VNU_DIR / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": WCAG}, "resultTypes": ["violations"]}
DOMAIN = "demo.tvargrupp.se"
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def vnu_jar():
    """The checker from tests/vnu (installed by `make test`; here too if it is missing)."""
    require_service(shutil.which("java"), "Java (default-jre-headless) for the Nu HTML Checker")
    if not VNU_JAR.exists() and shutil.which("npm"):
        subprocess.run(
            [
                "npm",
                "ci",
                "--prefix",
                str(VNU_DIR),
                "--no-audit",
                "--no-fund",
                "--loglevel",
                "error",
            ],
            check=True,
            timeout=300,
        )
    require_service(VNU_JAR.exists(), "the Nu HTML Checker (npm ci --prefix tests/vnu)")
    return VNU_JAR


def _person(local: str) -> User:
    return User.objects.get(email=f"{local}@{DOMAIN}")


# Secondary and destructive buttons (links that look like buttons too) must not look like
# primary ones, on every page: their computed colours against a plain <button>'s.
SAME_AS_PRIMARY = """() => {
    const look = (e) => {
        const s = getComputedStyle(e);
        return [s.backgroundColor, s.color, s.borderTopColor].join(" ");
    };
    const probe = document.createElement("button");
    document.querySelector("main").append(probe);
    const primary = look(probe);
    probe.remove();
    return [...document.querySelectorAll(
        ".button--secondary, .button--outline, .button--danger"
    )].filter((e) => !e.matches(
        ":disabled, [aria-pressed=true], details[open] > summary, :hover"
    ) && look(e) === primary).map((e) => e.outerHTML.slice(0, 100));
}"""


class Walk:
    """Visits pages as one person: axe-core on the rendered page, the served HTML saved."""

    def __init__(self, browser, live_server, user, out: Path, axe, viewport=None):
        self.context = signed_in_context(browser, live_server, user, viewport=viewport)
        self.page = self.context.new_page()
        self.live_server = live_server
        self.name = user.email.split("@")[0] if user else "anonymous"
        self.out = out
        self.axe = axe
        self.violations: list[str] = []
        self.visited: list[str] = []

    def visit(self, path: str, *, expect: int = 200, label: str = "") -> None:
        response = self.page.goto(self.live_server.url + path)
        assert response.status == expect, f"{self.name} {path}: {response.status}"
        self._check(path, label, response.text())

    def check_current(self, label: str) -> None:
        """The page as it is now (after an action), its HTML fetched again from the server."""
        path = self.page.url.removeprefix(self.live_server.url)
        html = self.page.evaluate(
            "(url) => fetch(url, {credentials: 'same-origin'}).then(r => r.text())", path
        )
        self._check(path, label, html)

    def _check(self, path: str, label: str, html: str) -> None:
        self.page.wait_for_load_state("networkidle")
        where = f"{self.name} {label or path}"
        results = self.axe.run(self.page, options=AXE_OPTIONS)
        for violation in results.response["violations"]:
            targets = [", ".join(node["target"]) for node in violation["nodes"]][:5]
            self.violations.append(f"{where}: {violation['id']} ({violation['help']}) at {targets}")
        for button in self.page.evaluate(SAME_AS_PRIMARY):
            self.violations.append(f"{where}: a secondary button looks primary: {button}")
        slug = re.sub(r"[^a-z0-9]+", "-", f"{self.name}-{label or path}".lower()).strip("-")
        (self.out / f"{len(list(self.out.iterdir())):03d}-{slug}.html").write_text(html)
        self.visited.append(where)

    def close(self) -> None:
        self.context.close()


def test_every_page_for_every_role_passes_axe_and_the_nu_html_checker(
    browser, live_server, tmp_path, vnu_jar
):
    call_command("seed_demo", stdout=io.StringIO())
    axe = Axe()
    past = Meeting.objects.get(code="demoforra")
    upcoming = Meeting.objects.get(code="demonasta")
    group = upcoming.group
    pages = tmp_path / "pages"
    pages.mkdir()
    walks = []

    def walk(local, viewport=None):
        user = _person(local) if local else None
        w = Walk(browser, live_server, user, pages, axe, viewport=viewport)
        walks.append(w)
        return w

    # Nobody signed in: the sign-in pages.
    anonymous = walk(None)
    for path in [
        "/accounts/login/",
        "/accounts/login/code/",
        "/accounts/password/reset/",
        "/accounts/password/reset/done/",
    ]:
        anonymous.visit(path)

    # The administrator.
    admin = walk("admin")
    admin.visit("/")
    admin.visit(reverse("groups:group_create"))
    admin.visit(reverse("outbox:installation"))

    # The moderator, before the meeting.
    moderator = walk("karin.aberg")
    hr = group.departments.get(name="HR")
    it = group.departments.get(name="IT")
    maria = _person("maria.lindqvist")
    follow_up = FollowUp.objects.filter(meeting=past).first()
    project = MicroProject.objects.filter(solution__topic__meeting=past).first()
    solution = Solution.objects.filter(topic__meeting=past).first()
    hr_topic = past.topics.get(department=hr)
    for path in [
        "/",
        reverse("meetings:group_detail", args=[group.code]),
        reverse("groups:settings", args=[group.code]),
        reverse("groups:members", args=[group.code]),
        reverse("groups:member_edit", args=[group.code, maria.code]),
        reverse("groups:member_remove", args=[group.code, maria.code]),
        reverse("groups:department_edit", args=[group.code, hr.code]),
        reverse("groups:department_delete", args=[group.code, it.code]),
        reverse("topics:department_detail", args=[group.code, hr.code]),
        reverse("topics:follow_up_list", args=[group.code]),
        reverse("topics:follow_up_detail", args=[follow_up.code]),
        reverse("topics:micro_project_list", args=[group.code]),
        reverse("topics:micro_project_detail", args=[project.code]),
        reverse("topics:it_perspective", args=[past.code]),
        reverse("topics:solution_edit", args=[solution.code]),
        reverse("topics:topic_detail", args=[hr_topic.code]),
        reverse("meetings:schedule_edit", args=[group.code]),
        reverse("meetings:meeting_new", args=[group.code]),
        reverse("topics:meeting_detail", args=[upcoming.code]),
        reverse("meetings:meeting_edit", args=[upcoming.code]),
        reverse("meetings:meeting_cancel", args=[upcoming.code]),
        reverse("meetings:outbox", args=[upcoming.code]),
        reverse("topics:intake", args=[upcoming.code]),
        reverse("topics:postit", args=[upcoming.code])
        + "?department="
        + group.departments.get(name="Ekonomi").code,
        reverse("board:board", args=[upcoming.code]),
        reverse("board:screen", args=[upcoming.code]),
        reverse("topics:meeting_detail", args=[past.code]),
        reverse("summaries:review", args=[past.code]),
        reverse("meetings:outbox", args=[past.code]),
        reverse("insights:goals", args=[group.code]),
        reverse("insights:goals", args=[group.code])
        + "?archive="
        + group.strategy_goals.first().code,
        reverse("insights:meeting_goals", args=[past.code]),
        reverse("insights:insights", args=[group.code]),
        reverse("insights:insights", args=[group.code]) + "?period=all",
        reverse("accounts:profile"),
    ]:
        moderator.visit(path)

    # The head of HR and a participant, before the meeting.
    head = walk("maria.lindqvist")
    for path in [
        "/",
        reverse("meetings:group_detail", args=[group.code]),
        reverse("topics:meeting_detail", args=[upcoming.code]),
        reverse("topics:postit", args=[upcoming.code]),
        reverse("topics:meeting_detail", args=[past.code]),
        reverse("topics:follow_up_list", args=[group.code]),
        reverse("topics:follow_up_detail", args=[follow_up.code]),
        reverse("topics:topic_detail", args=[hr_topic.code]),
        reverse("accounts:profile"),
    ]:
        head.visit(path)
    participant = walk("omar.haddad", viewport=PHONE)
    for path in [
        "/",
        reverse("topics:meeting_detail", args=[upcoming.code]),
        reverse("board:participant", args=[upcoming.code]),
    ]:
        participant.visit(path)

    # During the meeting: a post-it has the word.
    board_start(meeting=upcoming)
    topic = upcoming.topics.filter(status="submitted").first()
    board_give_word(meeting=upcoming, code=topic.code)
    moderator.visit(reverse("board:board", args=[upcoming.code]), label="board, live")
    moderator.page.keyboard.press("?")
    moderator.check_current("board, shortcut help")
    moderator.visit(reverse("board:screen", args=[upcoming.code]), label="projector, live")
    participant.visit(reverse("board:participant", args=[upcoming.code]), label="phone, live")
    head.visit(reverse("board:participant", args=[upcoming.code]), label="participant, live")

    # After: closed, the summary in review.
    moderator.visit(reverse("summaries:close", args=[upcoming.code]))
    meeting_close(meeting=upcoming)
    moderator.visit(reverse("summaries:review", args=[upcoming.code]), label="review, draft")
    moderator.visit(reverse("summaries:send", args=[upcoming.code]))
    moderator.visit(reverse("summaries:pdf", args=[upcoming.code]), expect=202, label="pdf, made")
    moderator.visit(reverse("board:board", args=[upcoming.code]), label="board, ended")
    moderator.visit(reverse("board:screen", args=[upcoming.code]), label="projector, ended")
    participant.visit(reverse("board:participant", args=[upcoming.code]), label="phone, ended")

    for w in walks:
        w.close()

    # The Nu HTML Checker, once over every saved page; a known-bad page proves it looked.
    canary = tmp_path / "canary.html"
    canary.write_text(
        '<!DOCTYPE html><html lang="sv"><head><title>x</title></head>'
        '<body><p hx-get="/">x</p></body></html>'
    )
    result = subprocess.run(
        [
            "java",
            "-jar",
            str(vnu_jar),
            "--errors-only",
            "--format",
            "json",
            "--exit-zero-always",
            str(canary),
            *sorted(str(p) for p in pages.iterdir()),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    messages = json.loads(result.stderr or result.stdout)["messages"]
    assert any(m["url"].endswith("canary.html") and "hx-get" in m["message"] for m in messages), (
        messages
    )
    errors = [
        f"{Path(m['url']).name}:{m.get('lastLine')}: {m['message']} [{m.get('extract', '')}]"
        for m in messages
        if m["type"] == "error" and not m["url"].endswith("canary.html")
    ]
    visited = [v for w in walks for v in w.visited]
    assert len(visited) >= 55
    violations = [v for w in walks for v in w.violations]
    report = "\n".join(["axe-core:", *violations, "Nu HTML Checker:", *errors])
    assert (violations, errors) == ([], []), report
