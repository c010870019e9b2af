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


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_department_colours_reach_their_contrast_ratios():
    """Borders and badge outlines 3:1 against the page and their tint; text 7:1 on tints."""
    css = (ROOT / "static/css/app.css").read_text()
    root = dict(re.findall(r"--(ink|canvas|paper): (#[0-9a-f]{6})", css))
    palette = re.findall(
        r"\.dept-(\w+) \{ --dept: (#[0-9a-f]{6}); --dept-tint: (#[0-9a-f]{6}); \}", css
    )
    assert len(palette) == 8
    for name, border, tint in palette:
        assert _contrast(border, root["canvas"]) >= 3, name
        assert _contrast(border, root["paper"]) >= 3, name
        assert _contrast(border, tint) >= 3, name
        assert _contrast(root["ink"], tint) >= 7, name
