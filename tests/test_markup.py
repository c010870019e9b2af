"""Markup rules that hold for every template, checked without a browser.

The browser test `tests/test_checkers.py` runs axe-core and the Nu HTML Checker
over every page; these catch the same mistakes earlier and name the file.
"""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = sorted((ROOT / "templates").rglob("*.html"))

BARE_HX = re.compile(r"(?<![-\w])hx-[a-z]+(?:-[a-z]+)*\s*=")


def test_htmx_attributes_are_written_data_hx_everywhere():
    """The Nu HTML Checker rejects `hx-*`; htmx reads `data-hx-*` equally."""
    offenders = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()[:120]}"
        for path in TEMPLATES
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if BARE_HX.search(line)
    ]
    assert offenders == []


def test_the_bare_hx_pattern_catches_what_it_should():
    assert BARE_HX.search('<form hx-post="/x">')
    assert BARE_HX.search("<body hx-headers='{}'>")
    assert not BARE_HX.search('<form data-hx-post="/x">')
    assert not BARE_HX.search('<div data-hx-disabled-elt="find button">')
