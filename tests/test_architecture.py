"""Imports run one way between the apps (docs/architecture.md, "Layers of apps").

Every import statement in an app's modules is read, those inside functions
included: an app may import itself and the apps below it, never one above it
or beside it.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Each app and the apps it may import.
BELOW = {
    "outbox": set(),
    "accounts": {"outbox"},
    "groups": {"outbox", "accounts"},
    "meetings": {"outbox", "accounts", "groups"},
    "topics": {"outbox", "accounts", "groups", "meetings"},
    "board": {"outbox", "accounts", "groups", "meetings", "topics"},
    "summaries": {"outbox", "accounts", "groups", "meetings", "topics", "board"},
    "insights": {"outbox", "accounts", "groups", "meetings", "topics", "board", "summaries"},
    "demo": {"outbox", "accounts", "groups", "meetings", "topics", "board", "summaries"},
}


def _imported_apps(path: Path) -> set[tuple[str, int]]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            if top in BELOW:
                found.add((top, node.lineno))
    return found


def _modules(app: str) -> list[Path]:
    return [p for p in (ROOT / app).rglob("*.py") if "migrations" not in p.parts]


@pytest.mark.parametrize("app", sorted(BELOW))
def test_an_app_imports_only_itself_and_the_apps_below_it(app):
    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports {other}"
        for path in _modules(app)
        for other, line in sorted(_imported_apps(path))
        if other != app and other not in BELOW[app]
    ]
    assert wrong == []


def test_the_shared_helpers_import_no_app():
    """`tvargrupp`'s helpers sit below every app (settings, URLs and Celery sit above)."""
    helpers = ["models.py", "mail.py", "env.py", "middleware.py", "startup.py", "probe.py"]
    wrong = [
        f"tvargrupp/{name} imports {other}"
        for name in helpers
        for other, _line in _imported_apps(ROOT / "tvargrupp" / name)
    ]
    assert wrong == []
