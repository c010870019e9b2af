"""The deployment as docker-compose.yml describes it, checked without Docker.

Docker does not run here, so the compose file is read as data and compared with
the settings and `.env.example`; then the very commands it gives each service
(Redis with its flags, migrate, gunicorn with the production settings, the
Celery worker and beat) are started for real on this machine against the local
PostgreSQL and a Redis of their own, and their health checks are run as
compose would run them.
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import pytest
import yaml

from tests.conftest import ROOT, _worker_env, require_service
from tests.factories import UserFactory

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APP_SERVICES = ("migrate", "web", "live", "worker", "beat")
VENV_BIN = Path(sys.executable).parent

# Read by gunicorn itself rather than by our code (gunicorn.conf.py names them).
READ_BY_GUNICORN = {"WEB_CONCURRENCY", "FORWARDED_ALLOW_IPS"}
# Only docker-compose.yml reads these (the database password, the published port).
READ_BY_COMPOSE = {"POSTGRES_PASSWORD", "HTTP_PORT", "LIVE_PORT"}


def env_example() -> dict[str, str]:
    pairs = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            pairs[name] = value
    return pairs


def variables_read_by_the_code() -> set[str]:
    """Every environment variable settings.py and gunicorn.conf.py read."""
    settings_py = (ROOT / "tvargrupp" / "settings.py").read_text()
    names = set(re.findall(r"\benv_\w+\(\s*\"([A-Z][A-Z0-9_]*)\"", settings_py))
    gunicorn_py = (ROOT / "gunicorn.conf.py").read_text()
    names |= set(re.findall(r"os\.environ\.get\(\s*['\"]([A-Z][A-Z0-9_]*)['\"]", gunicorn_py))
    return names


# --- The compose file, read as data ---------------------------------------------


def test_compose_has_the_services_the_deployment_needs():
    assert set(SERVICES) == {"migrate", "web", "live", "worker", "beat", "db", "redis", "mail"}
    assert SERVICES["mail"]["profiles"] == ["mail"]  # the mail catcher only when asked for
    for name in APP_SERVICES:
        assert SERVICES[name]["build"] == "."
        assert SERVICES[name]["env_file"] == ".env"  # one .env file for every app service
    for name in ("web", "live", "worker", "beat"):
        depends = SERVICES[name]["depends_on"]
        assert depends["db"]["condition"] == "service_healthy"
        assert depends["redis"]["condition"] == "service_healthy"
        assert depends["migrate"]["condition"] == "service_completed_successfully"
    assert SERVICES["db"]["volumes"] == ["postgres:/var/lib/postgresql/data"]
    assert set(COMPOSE["volumes"]) >= {"postgres", "redis"}


def test_redis_keeps_queued_tasks_append_only_and_never_evicts_them():
    command = SERVICES["redis"]["command"]
    assert command[0] == "redis-server"
    assert command[command.index("--appendonly") + 1] == "yes"
    assert command[command.index("--maxmemory-policy") + 1] == "noeviction"
    assert SERVICES["redis"]["volumes"] == ["redis:/data"]


def test_the_worker_consumes_every_queue_the_tasks_are_sent_to():
    from celery import current_app

    from tvargrupp.celery import app

    app.loader.import_default_modules()
    queues = {task.queue for task in current_app.tasks.values() if getattr(task, "queue", None)}
    queues.add(app.conf.task_default_queue)
    command = SERVICES["worker"]["command"]
    assert command[:4] == ["celery", "-A", "tvargrupp", "worker"]
    assert (
        set(command[command.index("--queues") + 1].split(","))
        == queues
        == {
            "default",
            "mail",
            "pdf",
        }
    )


def test_web_runs_gunicorn_with_the_production_settings_and_the_image_does_too():
    assert SERVICES["web"]["command"] == ["gunicorn", "tvargrupp.wsgi"]
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert 'CMD ["gunicorn", "tvargrupp.wsgi"]' in dockerfile
    assert "DJANGO_SETTINGS_MODULE=tvargrupp.settings" in dockerfile
    assert "USER tvargrupp" in dockerfile
    assert "--no-dev" in dockerfile
    assert "collectstatic" in dockerfile
    # gunicorn listens where compose publishes: PORT inside, HTTP_PORT outside.
    assert SERVICES["web"]["environment"]["PORT"] == "8000"
    assert SERVICES["web"]["ports"] == ["${HTTP_PORT:-8000}:8000"]


def test_health_checks_use_healthz_and_readyz():
    web = SERVICES["web"]["healthcheck"]["test"]
    assert web == ["CMD", "python", "-m", "tvargrupp.probe", "http://127.0.0.1:8000/healthz"]
    beat = SERVICES["beat"]["healthcheck"]["test"]
    assert beat == ["CMD", "python", "-m", "tvargrupp.probe", "http://web:8000/readyz"]
    live = SERVICES["live"]["healthcheck"]["test"]
    assert live == ["CMD", "python", "-m", "tvargrupp.probe", "http://127.0.0.1:8001/live/healthz"]
    worker = SERVICES["worker"]["healthcheck"]["test"]
    assert worker[0] == "CMD-SHELL" and "inspect ping" in worker[1]
    assert SERVICES["db"]["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]
    assert SERVICES["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    assert SERVICES["mail"]["healthcheck"]["test"] == ["CMD", "/mailpit", "readyz"]
    # Every service compose starts has a health check.
    assert all("healthcheck" in SERVICES[name] for name in SERVICES if name != "migrate")


def test_env_example_lists_every_variable_the_code_reads_and_nothing_else():
    documented = set(env_example())
    read = variables_read_by_the_code()
    assert read - documented == set(), "read by the code but missing from .env.example"
    assert documented - read - READ_BY_GUNICORN - READ_BY_COMPOSE == set(), (
        "in .env.example but read by nothing"
    )


def test_compose_sets_only_variables_the_app_reads_and_takes_the_rest_from_env():
    known = variables_read_by_the_code() | READ_BY_GUNICORN
    for name in APP_SERVICES:
        environment = SERVICES[name].get("environment", {})
        assert set(environment) <= known, name
    interpolated = set(re.findall(r"\$\{([A-Z_]+)", (ROOT / "docker-compose.yml").read_text()))
    assert interpolated == READ_BY_COMPOSE
    assert set(env_example()) >= interpolated


# --- The same commands, started for real ----------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Deployment:
    """The compose services' commands as processes on this machine."""

    def __init__(self, tmp_path: Path, smtp_port: int):
        self.var = tmp_path / "var"
        self.port = _free_port()
        self.live_port = _free_port()
        self.redis_port = _free_port()
        database_url = _worker_env()["DATABASE_URL"]
        self.env = {
            "PATH": f"{VENV_BIN}:{os.environ['PATH']}",
            "HOME": os.environ.get("HOME", "/tmp"),
            "LANG": "C.UTF-8",
            "HOSTNAME": socket.gethostname(),
            # What an operator's .env says (docs/deployment.md); DEBUG is left unset.
            "DATABASE_URL": database_url,
            "REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "SECRET_KEY": "a-production-secret-key-for-this-test-only-0123456789-abcdefghijklmn",
            "ALLOWED_HOSTS": "localhost,127.0.0.1",
            "SITE_URL": "https://localhost",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(smtp_port),
            "VAR_DIR": str(self.var),
            "PORT": str(self.port),
            "BIND_HOST": "127.0.0.1",
            "OUTBOX_PUMP_SECONDS": "2",
        }
        self.processes: dict[str, subprocess.Popen] = {}

    def command(self, words: list[str]) -> list[str]:
        """A compose command as it runs here: our virtualenv, our ports and VAR_DIR."""
        replaced = []
        for word in words:
            word = word.replace("/app/var", str(self.var))
            word = word.replace("http://127.0.0.1:8000", f"http://127.0.0.1:{self.port}")
            word = word.replace("http://web:8000", f"http://127.0.0.1:{self.port}")
            word = word.replace("http://127.0.0.1:8001", f"http://127.0.0.1:{self.live_port}")
            word = str(self.live_port) if word == "8001" else word
            replaced.append(word)
        if replaced[0] == "python":
            replaced[0] = sys.executable
        elif (VENV_BIN / replaced[0]).exists():
            replaced[0] = str(VENV_BIN / replaced[0])
        return replaced

    def run(self, words: list[str], **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run(
            self.command(words),
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=kwargs.pop("timeout", 120),
            **kwargs,
        )

    def start(self, name: str, words: list[str]) -> subprocess.Popen:
        log = (self.var / f"{name}.log").open("w")
        process = subprocess.Popen(
            self.command(words),
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        process.log_file = log
        self.processes[name] = process
        return process

    def start_redis(self) -> None:
        """compose's redis command, on a port and in a folder of this test's own."""
        words = [*SERVICES["redis"]["command"], "--port", str(self.redis_port)]
        self.start("redis", [*words, "--dir", str(self.var), "--bind", "127.0.0.1"])
        for _ in range(100):
            ping = self.run(["redis-cli", "-p", str(self.redis_port), "ping"])
            if ping.stdout.strip() == "PONG":
                return
            time.sleep(0.1)
        raise AssertionError(f"redis did not start:\n{self.log('redis')}")

    def log(self, name: str) -> str:
        return (self.var / f"{name}.log").read_text()

    def healthcheck(self, name: str) -> subprocess.CompletedProcess:
        test = SERVICES[name]["healthcheck"]["test"]
        if test[0] == "CMD-SHELL":
            # compose writes $$ for a literal $; the shell expands $HOSTNAME.
            return self.run(["sh", "-c", test[1].replace("$$", "$")], timeout=60)
        return self.run(test[1:], timeout=60)

    def wait_healthy(self, name: str, timeout: float) -> subprocess.CompletedProcess:
        deadline = time.monotonic() + timeout
        while True:
            result = self.healthcheck(name)
            if result.returncode == 0:
                return result
            for process_name, process in self.processes.items():
                assert process.poll() is None, f"{process_name} exited:\n{self.log(process_name)}"
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{name}'s health check still fails:\n{result.stdout}{result.stderr}"
                )
            time.sleep(1)

    def stop(self) -> dict[str, int]:
        codes = {}
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for name, process in self.processes.items():
            try:
                codes[name] = process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                codes[name] = process.wait()
            process.log_file.close()
        return codes

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect is an answer to look at, not to follow


@dataclass
class Answer:
    status: int
    headers: object  # email.message.Message: get_all() for repeated headers
    text: str


def http(url: str, *, headers: dict | None = None, data: dict | None = None) -> Answer:
    """One request as a browser behind the proxy makes it; cookies are given by hand
    (they are Secure: a client only sends them over https)."""
    body = urlencode(data).encode() if data is not None else None
    request = urllib.request.Request(url, data=body, headers=headers or {})  # noqa: S310
    try:
        with urllib.request.build_opener(_NoRedirects).open(request, timeout=10) as response:
            return Answer(response.status, response.headers, response.read().decode())
    except urllib.error.HTTPError as error:
        return Answer(error.code, error.headers, error.read().decode())


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


@pytest.fixture(scope="module")
def collected_static(tmp_path_factory, django_db_setup) -> Path:
    """What the Dockerfile does at build time: collect the static files (once here)."""
    var = tmp_path_factory.mktemp("collected")
    env = {"VAR_DIR": str(var), "DATABASE_URL": _worker_env()["DATABASE_URL"]}
    env |= {"SECRET_KEY": "collectstatic-at-build-time-only-0123456789-abcdefghijklmnopq"}
    env |= {"ALLOWED_HOSTS": "build", "REDIS_URL": "redis://build:6379/0"}
    collected = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert collected.returncode == 0, collected.stderr
    return var / "static"


@pytest.fixture
def deployment(tmp_path, transactional_db, smtp_server, collected_static):
    require_service(
        (VENV_BIN / "gunicorn").exists() and shutil.which("redis-server"),
        "gunicorn and redis-server",
    )
    smtp_server.clear()
    deployment = Deployment(tmp_path, smtp_port=smtp_server_port())
    # The image's folders: volumes for media and beat's schedule, the static files.
    (deployment.var / "media").mkdir(parents=True)
    (deployment.var / "beat").mkdir()
    (deployment.var / "static").symlink_to(collected_static)
    yield deployment
    deployment.stop()
    smtp_server.clear()


def smtp_server_port() -> int:
    from django.conf import settings

    return settings.EMAIL_PORT


@pytest.mark.worker
def test_compose_commands_start_for_real_answer_and_log_as_json(deployment, smtp_server):
    deployment.start_redis()
    config = subprocess.run(
        ["redis-cli", "-p", str(deployment.redis_port), "config", "get", "maxmemory-policy"],
        capture_output=True,
        text=True,
    )
    assert config.stdout.split() == ["maxmemory-policy", "noeviction"]

    migrated = deployment.run(SERVICES["migrate"]["command"])
    assert migrated.returncode == 0, migrated.stderr

    UserFactory(email="maria@example.se")
    deployment.start("web", SERVICES["web"]["command"])
    deployment.start("live", SERVICES["live"]["command"])
    deployment.start("worker", SERVICES["worker"]["command"])
    deployment.start("beat", SERVICES["beat"]["command"])

    assert "/healthz" in " ".join(deployment.wait_healthy("web", timeout=60).args)
    # The live stream holds its Redis subscription (it says so at /live/healthz).
    assert json.loads(deployment.wait_healthy("live", timeout=60).stdout)["redis"] is True
    deployment.wait_healthy("worker", timeout=90)
    # A worker records a heartbeat when it starts (and then every minute on beat's
    # clock): /readyz answers 200, which is beat's health check.
    ready = deployment.wait_healthy("beat", timeout=90)
    body = json.loads(ready.stdout)
    assert body["status"] == "ok"
    assert {name for name, check in body["checks"].items() if check["ok"]} == {
        "database",
        "redis",
        "worker",
        "outbox",
    }

    # A page over the proxy's https: the production settings, Swedish, static files.
    # What the reverse proxy passes on (docs/deployment.md): the host and the scheme.
    https = {"X-Forwarded-Proto": "https", "Host": "localhost"}
    plain = http(deployment.url("/accounts/login/"))
    assert plain.status == 301
    assert plain.headers["Location"].startswith("https://")
    page = http(deployment.url("/accounts/login/"), headers=https)
    assert page.status == 200
    assert '<html lang="sv"' in page.text
    assert page.headers["Server"] == "gunicorn"  # no version
    assert "Strict-Transport-Security" in page.headers
    stylesheet = re.search(r'href="(/static/[^"]+\.css)"', page.text).group(1)
    assert re.search(r"\.[0-9a-f]{12}\.css$", stylesheet)  # hashed by collectstatic
    assert http(deployment.url(stylesheet), headers=https).status == 200

    # A sign-in code asked for in the web process goes out through the worker,
    # and the request id travels with the task into the worker's log.
    request_id = "3c6f0a5e9b8d4c2a8e1f0b7d6c5a4b39"
    cookie = SimpleCookie()
    for header in page.headers.get_all("Set-Cookie"):
        cookie.load(header)
    token = cookie["csrftoken"].value
    asked = http(
        deployment.url("/accounts/login/code/"),
        data={"email": "maria@example.se", "csrfmiddlewaretoken": token},
        headers={
            **https,
            "X-Request-ID": request_id,
            "Referer": "https://localhost/accounts/login/",
            "Cookie": f"csrftoken={token}",
        },
    )
    assert asked.status == 302, asked.text
    assert asked.headers["X-Request-ID"] == request_id
    [message] = smtp_server.wait_for(1, timeout=30)
    assert message["To"] == "maria@example.se"

    # A task that fails for good is logged with its id and the object it was about.
    from celery import Celery

    # Not the current app: the suite's own tasks must keep going to its own Redis.
    client = Celery(broker=deployment.env["REDIS_URL"], set_as_current=False)
    result = client.send_task("summaries.render", args=["no-such-summary"], queue="pdf")
    client.close()

    def failures():
        return [
            line
            for line in json_lines(deployment.log("worker"))
            if line.get("message") == "task failed: summaries.render"
        ]

    deadline = time.monotonic() + 30
    while not failures() and time.monotonic() < deadline:
        time.sleep(0.3)
    [failed] = failures()
    assert failed["level"] == "ERROR"
    assert failed["task_id"] == result.id
    assert failed["task_args"] == ["no-such-summary"]
    assert failed["error"].startswith("ValueError: Field 'id' expected a number")

    codes = deployment.stop()
    assert codes["web"] == 0 and codes["worker"] == 0 and codes["beat"] == 0, codes
    # uvicorn shuts down cleanly, then re-raises the SIGTERM it was stopped with.
    assert codes["live"] in (0, -signal.SIGTERM), codes
    assert "Finished server process" in deployment.log("live")

    web_lines = json_lines(deployment.log("web"))
    request_line = next(line for line in web_lines if line.get("request_id") == request_id)
    assert request_line["logger"] == "tvargrupp.request"
    assert request_line["path"] == "/accounts/login/code/"
    worker_lines = json_lines(deployment.log("worker"))
    sent = [line for line in worker_lines if line["logger"] == "outbox.services"]
    assert any(line["request_id"] == request_id for line in sent), sent
    # beat's clock reached the worker (outbox.pump every OUTBOX_PUMP_SECONDS).
    pumped = [line for line in worker_lines if line["message"].startswith("Task outbox.pump[")]
    assert any(line["message"].endswith("received") for line in pumped)
    # Everything the web process logged is one JSON object a line.
    assert all(line.startswith("{") for line in deployment.log("web").splitlines() if line)


def test_gunicorn_refuses_to_start_without_collected_static_files(deployment):
    (deployment.var / "static").unlink()
    result = deployment.run(SERVICES["web"]["command"], timeout=60)
    assert result.returncode != 0
    assert (
        f"Static files have not been collected into {deployment.var / 'static'} "
        "(no staticfiles.json). Run `python manage.py collectstatic --no-input`"
    ) in result.stdout + result.stderr


def test_gunicorn_refuses_to_start_when_the_database_cannot_be_reached(deployment):
    deployment.env["DATABASE_URL"] = "postgres://postgres@127.0.0.1:1/tvargrupp"
    result = deployment.run(SERVICES["web"]["command"], timeout=60)
    assert result.returncode != 0
    assert (
        "The database at 127.0.0.1:1/tvargrupp cannot be reached (connection failed:"
    ) in result.stdout + result.stderr
    assert "Check DATABASE_URL and that PostgreSQL is running" in result.stdout + result.stderr


# --- The documents an operator reads ---------------------------------------------


def test_deployment_guide_has_one_row_for_every_setting_in_env_example():
    guide = (ROOT / "docs" / "deployment.md").read_text()
    rows = re.findall(r"^\| `([A-Z][A-Z0-9_]*)` \|", guide, flags=re.MULTILINE)
    assert len(rows) == len(set(rows)), "a setting has two rows"
    assert rows == list(env_example()), "the table and .env.example list the same, in order"


def test_readme_and_docs_link_only_to_files_that_exist():
    for document in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = document.read_text()
        targets = re.findall(r"\]\(([^)#]+)\)", text)
        targets += re.findall(r"`((?:docs|tests|bench|scripts)/[\w./-]+\.\w+)`", text)
        for target in targets:
            if target.startswith(("http://", "https://")):
                continue
            base = ROOT if not target.startswith(".") else document.parent
            assert (base / target).exists(), f"{document.name} links to missing {target}"


def test_every_nosec_in_the_code_is_explained_in_the_security_document():
    security = (ROOT / "docs" / "security.md").read_text()
    audited = sorted(
        path
        for path in ROOT.glob("**/*.py")
        if path.relative_to(ROOT).parts[0] not in {".venv", "tests", "bench", "var"}
    )
    marked = {
        (str(path.relative_to(ROOT)), code)
        for path in audited
        for code in re.findall(r"# nosec ?(B\d+)?", path.read_text())
    }
    assert marked, "the audit's accepted findings are marked # nosec <id> in the code"
    for path, code in marked:
        assert code, f"{path}: a bare # nosec; name the finding (# nosec B…)"
        row = next((line for line in security.splitlines() if line.startswith(f"| `{path}`")), "")
        assert code in row, f"{path}: # nosec {code} is not explained in docs/security.md"
