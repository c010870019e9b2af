"""The shared live fragments of the projector and participant views.

A fragment holds nothing personal (no CSRF token; idea controls hidden until the page's
script shows the viewer's own), so one render per board version, view and language
serves every screen in the room. It is kept in Django's cache, which is Redis in
production: whichever process renders a version first (a polling screen's request, or
the stream process, `board/stream.py`) renders it for all of them.
"""

from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone, translation

from board.selectors import board_page, board_version
from meetings.models import Meeting
from topics.selectors import topics_readable

# The views whose live fragment is the same for everyone who may open them.
SHARED_VIEWS = {"screen": "board/screen.html", "participant": "board/participant.html"}
FRAGMENT_SECONDS = 120


def shared_fragment(*, meeting: Meeting, view: str, language: str, request=None) -> tuple[int, str]:
    """The live fragment of `view` at the board's current version: (version, html).

    Rendered at most once per version, view, language and read-ahead setting; the
    cache key carries all four, so a screen never gets another view's or language's.
    """
    version = board_version(meeting_id=meeting.pk) or 0
    # Whether post-its may be read before the start is part of what the fragment shows.
    readable = int(topics_readable(meeting=meeting))
    prefix = f"board:{meeting.pk}"
    suffix = f"{view}:{readable}:{meeting.status}:{language}"
    html = cache.get(f"{prefix}:{version}:{suffix}")
    if html is None:
        if request is None:
            request = HttpRequest()
            request.user = AnonymousUser()
            request.LANGUAGE_CODE = language
        with translation.override(language):
            page = board_page(meeting=meeting, user=request.user, now=timezone.now())
            version = page.state.version
            context = {"page": page, "view": view, "errors": [], "shared": True}
            html = render_to_string(SHARED_VIEWS[view] + "#live", context, request=request)
        cache.set(f"{prefix}:{version}:{suffix}", html, FRAGMENT_SECONDS)
    return version, html
