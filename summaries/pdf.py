"""PDF rendering with WeasyPrint, reading nothing but the project's own static files.

WeasyPrint's default fetcher follows any URL, `file://` included: a
`<link rel="attachment" href="file:///etc/passwd">` in rendered HTML would
embed that file. The fetcher here answers only for paths under STATIC_URL on a
made-up origin and refuses everything else, so user text that slipped through
as markup could still fetch nothing.
"""

import mimetypes
import posixpath
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders

BASE_URL = "https://tvargrupp.invalid/"
_ORIGIN = urlsplit(BASE_URL)


class StaticOnlyFetcher:
    """A WeasyPrint URL fetcher that serves only the project's static files."""

    def __init__(self):
        from weasyprint.urls import URLFetcher, URLFetcherResponse

        class _Fetcher(URLFetcher):
            def fetch(self, url, headers=None):
                path = static_path(url)
                if path is None:
                    raise ValueError(f"Refused to fetch {url!r}: only static files are served.")
                mime_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                return URLFetcherResponse(
                    url, body=path.read_bytes(), headers={"Content-Type": mime_type}
                )

        self.fetcher = _Fetcher(fail_on_errors=False)


def static_path(url: str) -> Path | None:
    """The file behind a static URL on our made-up origin, or None for anything else."""
    parts = urlsplit(url)
    if (parts.scheme, parts.netloc) != (_ORIGIN.scheme, _ORIGIN.netloc):
        return None
    prefix = "/" + settings.STATIC_URL.strip("/") + "/"
    path = unquote(parts.path)
    if not path.startswith(prefix):
        return None
    relative = posixpath.normpath(path[len(prefix) :])
    if relative.startswith(("..", "/")) or "\x00" in relative:
        return None
    found = finders.find(relative)
    return Path(found) if found else None


def render_pdf(html: str) -> bytes:
    """Render HTML (with static links relative to BASE_URL) to PDF bytes."""
    from weasyprint import HTML

    fetcher = StaticOnlyFetcher().fetcher
    return HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher).write_pdf()
