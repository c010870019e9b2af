"""Settings from the environment, the Content-Security-Policy, and no inline code."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

ROOT = Path(__file__).resolve().parent.parent


def _start(env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG"}}
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**clean, "VAR_DIR": "/tmp/tvargrupp-check", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


PRODUCTION = {
    "DEBUG": "false",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/tvargrupp",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "SECRET_KEY": "a-long-production-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
    "ALLOWED_HOSTS": "tvargrupp.example.se",
}


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DEBUG": "maybe"}, "DEBUG must be true or false, got 'maybe'."),
        ({"EMAIL_PORT": "smtp"}, "EMAIL_PORT must be a whole number, got 'smtp'."),
        ({"TIME_ZONE": "Mars/Olympus"}, "TIME_ZONE must be an IANA time zone"),
        ({"LANGUAGE_CODE": "de"}, "LANGUAGE_CODE must be one of en, sv, got 'de'."),
        ({"DATABASE_URL": "mysql://x/y"}, "DATABASE_URL must start with postgres://"),
        ({**PRODUCTION, "SECRET_KEY": ""}, "SECRET_KEY must be set when DEBUG is off. Generate"),
        ({**PRODUCTION, "SECRET_KEY": "short"}, "at least 50 characters long (it has 5)"),
        ({**PRODUCTION, "ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS must list the host names"),
        ({**PRODUCTION, "DATABASE_URL": ""}, "DATABASE_URL must be set when DEBUG is off"),
        (
            {**PRODUCTION, "DATABASE_URL": "sqlite:///var/db.sqlite3"},
            "DATABASE_URL must be a PostgreSQL URL",
        ),
        ({"DATABASE_URL": "sqlite:///db.sqlite3"}, "leave DATABASE_URL empty for `make run`"),
        ({**PRODUCTION, "REDIS_URL": ""}, "REDIS_URL must be set when DEBUG is off"),
        ({"OIDC_SERVER_URL": "https://sso.example.se"}, "OIDC_CLIENT_ID must be set"),
        (
            {"SIGNIN_PASSWORD": "false", "SIGNIN_EMAIL_CODE": "false"},
            "nobody could sign in. Turn one of them on.",
        ),
        ({"TRUSTED_PROXY_COUNT": "-1"}, "TRUSTED_PROXY_COUNT must be between 0 and 10"),
        ({"LOG_FORMAT": "xml"}, "LOG_FORMAT must be one of json, text, got 'xml'."),
    ],
)
def test_bad_configuration_fails_at_start_up_with_a_clear_message(env, message):
    result = _start(env)
    assert result.returncode != 0
    assert message in result.stderr


def test_zero_setup_default_starts():
    result = _start({})
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_settings_pass_the_deploy_check():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], "VAR_DIR": "/tmp/tvargrupp-check", **PRODUCTION},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_pages_carry_a_strict_content_security_policy(client, db):
    policy = client.get(reverse("account_login")).headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "style-src 'self'" in policy
    assert "unsafe-inline" not in policy


def test_no_template_has_inline_script_or_style():
    offenders = []
    for path in (ROOT / "templates").rglob("*.html"):
        text = path.read_text()
        if "/email/" in str(path):
            continue
        for match in re.finditer(
            r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle=|\son[a-z]+=", text
        ):
            offenders.append(f"{path.relative_to(ROOT)}: {match.group(0)}")
    assert offenders == []


def test_htmx_comes_from_the_package_and_indicator_styles_are_off(client, db):
    content = client.get(reverse("account_login")).content.decode()
    assert '<script src="/static/django_htmx/htmx-2.min.js" defer></script>' in content
    assert '"includeIndicatorStyles": false' in content


def test_empty_variables_take_their_defaults():
    """A copied .env.example (every value empty) is the zero-setup default."""
    example = (ROOT / ".env.example").read_text()
    empty = {
        line.split("=")[0]: "" for line in example.splitlines() if re.match(r"^[A-Z_]+=$", line)
    }
    assert {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG"} <= empty.keys()
    result = _start(empty)
    assert result.returncode == 0, result.stderr
