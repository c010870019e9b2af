"""Highlighting matched words: the data is always escaped, only our <mark> is markup."""

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from insights.similarity import highlight as pieces_of

register = template.Library()

SNIPPET = 240


@register.filter
def highlight(text: str, terms: list[str]) -> SafeString:
    """`text` with the searched words in <mark>, everything else escaped."""
    return format_html_join(
        "",
        "{}",
        (
            (format_html("<mark>{}</mark>", piece) if hit else piece,)
            for piece, hit in pieces_of(text or "", terms)
        ),
    )


@register.filter
def snippet(text: str, terms: list[str]) -> SafeString:
    """About SNIPPET characters of `text` around its first matched word, highlighted."""
    text = " ".join((text or "").split())
    pieces = pieces_of(text, terms)
    start, position = 0, 0
    for piece, hit in pieces:
        if hit:
            start = max(0, position - SNIPPET // 3)
            break
        position += len(piece)
    cut = text[start : start + SNIPPET]
    if start > 0:
        cut = "…" + cut.split(" ", 1)[-1]
    if start + SNIPPET < len(text):
        cut = cut.rsplit(" ", 1)[0] + "…"
    return highlight(cut, terms)
