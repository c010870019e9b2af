"""The live stream: server-sent events to every projector and participant screen.

A small ASGI application in its own process (`make live`, served by uvicorn), never in
gunicorn's sync workers, where each open stream would hold a whole worker. It

- authenticates each screen once, when it connects, with the page's own rules
  (the session cookie, then `meeting_get_for_user`, as the projector and participant
  pages do), on a small pool of threads (LIVE_DB_THREADS), each with its own database
  connection, so a room full of screens reconnecting at once is not served one by one;
- sends the current fragment at once, so a screen that reconnects (after a network
  blip, or this process restarting) misses nothing: Redis pub/sub keeps no history.
  While the subscription is up, the newest fragment pushed to a view is kept, and a
  connecting screen gets those bytes without a render;
- holds one Redis subscription for the whole process; when a board changes it renders
  the fragment once per view, language and role that has screens here (through the shared
  cache, `board/fragments.py`) and hands the same bytes to each of them;
- sends a keep-alive comment every LIVE_KEEPALIVE_SECONDS (15) and `X-Accel-Buffering: no`
  so proxies neither time out nor buffer the stream.

A screen only ever holds the newest fragment it has not sent yet: a slow screen skips
versions rather than queueing them, and memory stays bounded.
"""

import asyncio
import json
import logging
import re
from concurrent.futures import ThreadPoolExecutor
from http.cookies import SimpleCookie
from importlib import import_module

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import get_user
from django.core.exceptions import PermissionDenied
from django.db import close_old_connections
from django.http import Http404, HttpRequest

from board.fragments import SHARED_VIEWS, shared_fragment
from board.live import CHANNEL
from meetings.models import Meeting
from meetings.selectors import meeting_get_for_user

logger = logging.getLogger(__name__)

PATH = re.compile(r"^/live/(?P<code>[A-Za-z0-9_-]{1,64})/(?P<view>screen|participant)/$")
RETRY_MS = 2000


class Screen:
    """One open stream: the newest fragment it has not been sent yet."""

    __slots__ = ("data", "key", "ready", "version")

    def __init__(self, key: tuple[str, str, int]):
        self.key = key
        self.version = -1
        self.data = b""
        self.ready = asyncio.Event()

    def offer(self, version: int, data: bytes) -> None:
        if version > self.version:
            self.version = version
            self.data = data
            self.ready.set()


def event(version: int, html: str) -> bytes:
    lines = html.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    body = "".join(f"data: {line}\n" for line in lines)
    return f"event: live\nid: {version}\n{body}\n".encode()


def _render(meeting_id: int, view: str, language: str, role: int) -> tuple[int, str] | None:
    close_old_connections()
    meeting = Meeting.objects.select_related("group").filter(pk=meeting_id).first()
    if meeting is None:
        return None
    # What may be shown before the start depends on the role (topics_readable).
    meeting.role = role
    return shared_fragment(meeting=meeting, view=view, language=language)


def _authorise(cookie_header: str, code: str) -> tuple[int, str, int] | None:
    """(meeting id, language, role) when the session's user may open the meeting's screens."""
    close_old_connections()
    cookies = {key: morsel.value for key, morsel in SimpleCookie(cookie_header).items()}
    request = HttpRequest()
    request.COOKIES = cookies
    engine = import_module(settings.SESSION_ENGINE)
    request.session = engine.SessionStore(cookies.get(settings.SESSION_COOKIE_NAME))
    user = get_user(request)
    if not user.is_authenticated:
        return None
    try:
        meeting = meeting_get_for_user(user=user, code=code)
    except (Http404, PermissionDenied):
        return None
    # The same language the page is in (accounts.middleware.LanguageMiddleware).
    known = {code for code, _name in settings.LANGUAGES}
    language = settings.LANGUAGE_CODE
    if cookies.get(settings.LANGUAGE_COOKIE_NAME) in known:
        language = cookies[settings.LANGUAGE_COOKIE_NAME]
    if user.language in known:
        language = user.language
    return meeting.pk, language, int(meeting.role)


# The database work runs on a few threads of its own, each holding one connection
# (Django's connections are per thread), so checks of screens connecting at the same
# time overlap their waits on PostgreSQL instead of queueing behind one thread.
_database = ThreadPoolExecutor(max_workers=settings.LIVE_DB_THREADS, thread_name_prefix="live-db")
render = sync_to_async(_render, thread_sensitive=False, executor=_database)
authorise = sync_to_async(_authorise, thread_sensitive=False, executor=_database)


class Hub:
    """Screens by meeting and (view, language), and the one Redis subscription."""

    def __init__(self):
        self.meetings: dict[int, dict[tuple[str, str, int], set[Screen]]] = {}
        # The newest event pushed to each (meeting, view key) that has screens here:
        # (version, bytes). Kept only while subscribed, and dropped with the key's last
        # screen, since changes to a board nobody here watches are not followed.
        self.latest: dict[tuple[int, tuple[str, str, int]], tuple[int, bytes]] = {}
        self.rendering: set[int] = set()
        self.dirty: set[int] = set()
        self.subscribed = False

    def add(self, meeting_id: int, screen: Screen) -> None:
        self.meetings.setdefault(meeting_id, {}).setdefault(screen.key, set()).add(screen)

    def remove(self, meeting_id: int, screen: Screen) -> None:
        views = self.meetings.get(meeting_id, {})
        views.get(screen.key, set()).discard(screen)
        if not views.get(screen.key):
            views.pop(screen.key, None)
            self.latest.pop((meeting_id, screen.key), None)
        if not views:
            self.meetings.pop(meeting_id, None)

    def keep(self, meeting_id: int, key: tuple[str, str, int], version: int, data: bytes) -> None:
        kept = self.latest.get((meeting_id, key))
        if kept is None or version > kept[0]:
            self.latest[(meeting_id, key)] = (version, data)

    def current(self, meeting_id: int, key: tuple[str, str, int]) -> tuple[int, bytes] | None:
        """The newest event for a view, when this process has followed every change since."""
        return self.latest.get((meeting_id, key)) if self.subscribed else None

    @property
    def screens(self) -> int:
        return sum(len(s) for views in self.meetings.values() for s in views.values())

    def changed(self, meeting_id: int) -> None:
        """A board changed: render its fragments once, unless a render is under way."""
        if meeting_id not in self.meetings:
            return
        if meeting_id in self.rendering:
            self.dirty.add(meeting_id)  # render again when this one is done
            return
        self.rendering.add(meeting_id)
        asyncio.get_running_loop().create_task(self._push(meeting_id))

    async def _push(self, meeting_id: int) -> None:
        try:
            while True:
                self.dirty.discard(meeting_id)
                for key in list(self.meetings.get(meeting_id, {})):
                    rendered = await render(meeting_id, *key)
                    if rendered is None:
                        continue
                    data = event(*rendered)
                    if self.subscribed and key in self.meetings.get(meeting_id, {}):
                        self.keep(meeting_id, key, rendered[0], data)
                    for screen in list(self.meetings.get(meeting_id, {}).get(key, ())):
                        screen.offer(rendered[0], data)
                if meeting_id not in self.dirty:
                    return
        except Exception:
            logger.exception("live: could not render meeting %s", meeting_id)
        finally:
            self.rendering.discard(meeting_id)

    async def listen(self) -> None:
        """Hold the one subscription; after losing Redis, resubscribe and catch everyone up."""
        import redis.asyncio as aioredis

        while True:
            client = aioredis.Redis.from_url(settings.REDIS_URL)
            try:
                async with client.pubsub() as pubsub:
                    await pubsub.subscribe(CHANNEL)
                    # What was kept may have missed changes while we were away.
                    self.latest.clear()
                    self.subscribed = True
                    # Changes published while we were away are lost: send current states.
                    for meeting_id in list(self.meetings):
                        self.changed(meeting_id)
                    async for message in pubsub.listen():
                        if message.get("type") != "message":
                            continue
                        try:
                            meeting_id = int(json.loads(message["data"])["m"])
                        except (ValueError, KeyError, TypeError):
                            continue
                        self.changed(meeting_id)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                logger.warning("live: Redis subscription lost (%s); retrying", error)
            finally:
                self.subscribed = False
                self.latest.clear()
                await client.aclose()
            await asyncio.sleep(1)


hub = Hub()


def _headers(scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


def _cors(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    origin = headers.get("origin")
    allowed = {o.rstrip("/") for o in settings.LIVE_ALLOWED_ORIGINS}
    if origin and origin.rstrip("/") in allowed:
        return [
            (b"access-control-allow-origin", origin.encode()),
            (b"access-control-allow-credentials", b"true"),
            (b"vary", b"Origin"),
        ]
    return []


async def _plain(send, status: int, body: bytes, content_type: bytes = b"text/plain") -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", content_type), (b"cache-control", b"no-store")],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _stream(scope, receive, send, code: str, view: str) -> None:
    headers = _headers(scope)
    allowed = await authorise(headers.get("cookie", ""), code)
    if allowed is None:
        # 403 for a missing session, a foreign meeting or an unknown code alike.
        await _plain(send, 403, b"forbidden")
        return
    meeting_id, language, role = allowed
    screen = Screen((view, language, role))
    hub.add(meeting_id, screen)
    disconnected = asyncio.Event()

    async def watch() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        disconnected.set()
        screen.ready.set()

    watcher = asyncio.get_running_loop().create_task(watch())
    try:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"text/event-stream; charset=utf-8"),
                    (b"cache-control", b"no-store"),
                    (b"x-accel-buffering", b"no"),
                    *_cors(headers),
                ],
            }
        )
        await send(
            {
                "type": "http.response.body",
                "body": f"retry: {RETRY_MS}\n\n".encode(),
                "more_body": True,
            }
        )
        # The current state at once: a (re)connecting screen is up to date immediately.
        # The screen is already in the hub, so a change from here on reaches it too.
        kept = hub.current(meeting_id, screen.key)
        if kept is not None:
            screen.offer(*kept)
        else:
            current = await render(meeting_id, *screen.key)
            if current is not None:
                data = event(*current)
                screen.offer(current[0], data)
                if hub.subscribed:
                    hub.keep(meeting_id, screen.key, current[0], data)
        while not disconnected.is_set():
            try:
                await asyncio.wait_for(screen.ready.wait(), settings.LIVE_KEEPALIVE_SECONDS)
            except TimeoutError:
                await send(
                    {"type": "http.response.body", "body": b": keep-alive\n\n", "more_body": True}
                )
                continue
            screen.ready.clear()
            if disconnected.is_set():
                break
            await send({"type": "http.response.body", "body": screen.data, "more_body": True})
    except OSError:
        pass  # the screen went away mid-write
    finally:
        hub.remove(meeting_id, screen)
        watcher.cancel()


async def application(scope, receive, send) -> None:
    if scope["type"] == "lifespan":
        listener = None
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                listener = asyncio.get_running_loop().create_task(hub.listen())
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if listener:
                    listener.cancel()
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    path = scope["path"]
    if path == "/live/healthz":
        status = 200 if hub.subscribed else 503
        body = json.dumps({"redis": hub.subscribed, "screens": hub.screens}).encode()
        await _plain(send, status, body, b"application/json")
        return
    match = PATH.match(path)
    if scope["method"] != "GET" or match is None or match["view"] not in SHARED_VIEWS:
        await _plain(send, 404, b"not found")
        return
    await _stream(scope, receive, send, match["code"], match["view"])
