"""The web chat: a browser page on which one talks to the bot as several simulated people at once.

It is a small aiohttp app beside the Bot API simulator. The page (``webchat_static/``, all files local)
reads a JSON view of each person's private chat — their own messages and the bot's, with formatting
entities, keyboards, photos, documents and edits applied — and acts through the same :class:`Person`
methods the story tests use, so whatever the page does, a test could do too. A server-sent event stream
tells the page which chat changed (fed by the simulator's ``listeners``), so edits show up in place at
once. What is specific to the bot (who holds which role, how a language switch is done, moving the
demo's clock) comes in as hooks; the web chat itself knows only the Bot API.

Only the page itself may drive it (another web page in the same browser, or a DNS-rebinding attack, could
otherwise act as anyone, admin included): every request must name the bound address in its `Host`, any
`Origin` must be the page's own, and API calls carry the per-run token the page reads from its own HTML
(`X-Tongxin-Token`); anything else is refused with 403. The event stream and file downloads (an EventSource
and <img> cannot send headers) need only the Host and Origin checks: they change nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ipaddress
import json
import logging
import mimetypes
import secrets
import zoneinfo
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from aiohttp import BodyPartReader, web
from yarl import URL

from .people import Person
from .server import BotApiSimulator
from .state import BotMessage

STATIC_DIR = Path(__file__).with_name("webchat_static")
SAMPLES_DIR = STATIC_DIR / "samples"
MAX_NAME = 32
MAX_TEXT = 4096
MAX_UPLOAD = 20 * 1024 * 1024
MAX_ALBUM = 10
# What a photo starts with: JPEG, PNG, GIF, WebP (RIFF). Anything else is refused as a photo.
IMAGE_SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG", b"GIF8", b"RIFF")
LANGUAGE_CODES = {"zh-CN": "zh-hans", "en": "en"}
HEARTBEAT_SECONDS = 15.0
TOKEN_HEADER = "X-Tongxin-Token"
# Reads that change nothing and cannot carry a header (EventSource, <img>, a download link): Host and Origin checks
# only.
_TOKENLESS_PREFIXES = ("/api/events", "/api/files/", "/api/wechat/media/", "/api/wecom/media/")
_LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})

log = logging.getLogger(__name__)


async def json_object(request: web.Request) -> dict[str, Any]:
    """A request's JSON body, which must be an object (else 400); for the page's API and the panes' (WeCom's)."""
    try:
        data = await request.json()
    except ValueError:
        raise web.HTTPBadRequest(text="expected a JSON object") from None
    if not isinstance(data, dict):
        raise web.HTTPBadRequest(text="expected a JSON object")
    return data


class TimeControl(Protocol):
    """The demo's clock as the page sees it: read it, move it forward."""

    def now(self) -> dt.datetime: ...

    async def advance(self, delta: dt.timedelta) -> None: ...


LanguageSwitch = Callable[[Person, str], Awaitable[None]]
RolesOf = Callable[[int], Awaitable[list[str]]]
PersonFactory = Callable[[str, str], Person]
# A person's roles (and the role the page names them by) → the first hint of their pane, per page language:
# {"zh-CN": {"text": …, "tries": [what to type, …]}, "en": {…}}.
HintOf = Callable[[list[str], str | None], dict[str, Any]]


class WebChat:
    """The page, its JSON API and its event stream, for the people of one simulator."""

    def __init__(
        self,
        sim: BotApiSimulator,
        *,
        tz: zoneinfo.ZoneInfo | None = None,
        time: TimeControl | None = None,
        switch_language: LanguageSwitch | None = None,
        roles_of: RolesOf | None = None,
        new_person: PersonFactory | None = None,
        presets: dict[int, str] | None = None,
        hint_of: HintOf | None = None,
        on_panes: Callable[[list[int]], None] | None = None,
        extra_routes: Sequence[Callable[[web.Application], None]] = (),
    ) -> None:
        self.sim = sim
        self.tz = tz or zoneinfo.ZoneInfo("Asia/Shanghai")
        self.time = time
        self.switch_language = switch_language
        self.roles_of = roles_of
        self.new_person = new_person
        self.presets = dict(presets or {})  # user id → the role the page names them by before the bot says
        self.hint_of = hint_of
        self.on_panes = on_panes  # told the people with a pane, in order, whenever that changes (the demo keeps it)
        # More of the page's API, added by the demo (e.g. the WeChat pane's, `simulator.wechat_page`).
        self.extra_routes = tuple(extra_routes)
        self.panes: list[int] = []  # people with a chat pane, in page order
        self.token = secrets.token_urlsafe(24)  # per run: the page reads it from its own HTML
        self._streams: set[asyncio.Queue[str | None]] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._runner: web.AppRunner | None = None
        self.host = "127.0.0.1"
        self.port = 0
        sim.listeners.append(self._on_chat_changed)

    # == lifecycle ==================================================================================

    def show(self, person: Person) -> None:
        """Give a person a chat pane (at the end)."""
        if person.user_id not in self.panes:
            self.panes.append(person.user_id)
            self._panes_changed()

    def _panes_changed(self) -> None:
        self._broadcast("state", {})
        if self.on_panes is not None:
            self.on_panes(list(self.panes))

    def app(self) -> web.Application:
        """The aiohttp application (routes only; `start` serves it)."""
        app = web.Application(client_max_size=MAX_UPLOAD * MAX_ALBUM + 1024 * 1024, middlewares=[self._guard])
        app.router.add_get("/", self._index)
        app.router.add_static("/static", STATIC_DIR, append_version=False)
        app.router.add_get("/api/state", self._state)
        app.router.add_get("/api/events", self._events)
        app.router.add_get("/api/samples", self._samples)
        app.router.add_get("/api/files/{file_id}", self._file)
        app.router.add_post("/api/clock/advance", self._advance_clock)
        app.router.add_post("/api/people", self._add_person)
        app.router.add_get("/api/people/{user_id}/messages", self._messages)
        app.router.add_post("/api/people/{user_id}/pane", self._pane)
        app.router.add_post("/api/people/{user_id}/text", self._send_text)
        app.router.add_post("/api/people/{user_id}/press", self._press)
        app.router.add_post("/api/people/{user_id}/reply", self._reply_button)
        app.router.add_post("/api/people/{user_id}/photos", self._send_photos)
        app.router.add_post("/api/people/{user_id}/document", self._send_document)
        app.router.add_post("/api/people/{user_id}/location", self._send_location)
        app.router.add_post("/api/people/{user_id}/contact", self._send_contact)
        app.router.add_post("/api/people/{user_id}/language", self._language)
        for add_routes in self.extra_routes:
            add_routes(app)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 8080) -> None:
        """Serve the page on host:port (port 0: a free one, see `port`)."""
        self._runner = web.AppRunner(self.app(), access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        self.host = host
        self.port = int(sockets[0].getsockname()[1]) if sockets else port

    async def stop(self) -> None:
        """End the event streams and stop serving."""
        for queue in list(self._streams):
            queue.put_nowait(None)
        for task in list(self._tasks):
            task.cancel()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        with contextlib.suppress(ValueError):
            self.sim.listeners.remove(self._on_chat_changed)

    @property
    def url(self) -> str:
        """The page's address."""
        return f"http://{self.host}:{self.port}/"

    # == events =====================================================================================

    def _on_chat_changed(self, chat_id: int) -> None:
        self._broadcast("chat", {"chat_id": chat_id})

    def _broadcast(self, event: str, data: dict[str, Any]) -> None:
        frame = f"event: {event}\ndata: {json.dumps(data)}\n\n"
        for queue in self._streams:
            queue.put_nowait(frame)

    async def _events(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        )
        await response.prepare(request)
        queue: asyncio.Queue[str | None] = asyncio.Queue()
        self._streams.add(queue)
        try:
            await response.write(b"retry: 1000\n\n")
            while True:
                try:
                    frame = await asyncio.wait_for(queue.get(), HEARTBEAT_SECONDS)
                except TimeoutError:
                    frame = ": keep-alive\n\n"
                if frame is None:
                    break
                await response.write(frame.encode("utf-8"))
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            self._streams.discard(queue)
        return response

    # == reading ====================================================================================

    async def _index(self, request: web.Request) -> web.Response:
        page = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
        meta = f'<meta name="tongxin-token" content="{self.token}">'
        page = page.replace('<meta charset="utf-8">', f'<meta charset="utf-8">\n  {meta}', 1)
        return web.Response(text=page, content_type="text/html", headers={"Cache-Control": "no-store"})

    # == who may call =================================================================================

    def _host_allowed(self, host: str | None) -> bool:
        """Whether a `Host` header names the address the page is served on (no other name: DNS rebinding)."""
        if not host:
            return False
        try:
            url = URL(f"http://{host}")
        except ValueError:
            return False
        name = (url.host or "").strip("[]").lower()
        if url.explicit_port != self.port and not (url.explicit_port is None and self.port == 80):
            return False
        bound = self.host.strip("[]").lower()
        if bound in ("0.0.0.0", "::", ""):  # all interfaces: any address, but no domain name
            if name == "localhost":
                return True
            try:
                ipaddress.ip_address(name)
            except ValueError:
                return False
            return True
        return name == bound or (bound in _LOOPBACK_NAMES and name in _LOOPBACK_NAMES)

    @web.middleware
    async def _guard(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        """Refuse (403) requests for another host, from another origin, or to the API without the token."""
        host = request.headers.get("Host")
        if not self._host_allowed(host):
            raise web.HTTPForbidden(text="wrong Host")
        origin = request.headers.get("Origin")
        if origin is not None and origin != f"http://{host}":
            raise web.HTTPForbidden(text="foreign Origin")
        needs_token = request.path.startswith("/api/") and not (
            request.method == "GET" and request.path.startswith(_TOKENLESS_PREFIXES)
        )
        if needs_token and not secrets.compare_digest(request.headers.get(TOKEN_HEADER, ""), self.token):
            raise web.HTTPForbidden(text="missing or wrong token")
        return await handler(request)

    async def _state(self, request: web.Request) -> web.Response:
        people = [await self._person_json(p) for p in self.sim.people.values()]
        order = {uid: i for i, uid in enumerate(self.panes)}
        people.sort(key=lambda p: (order.get(p["id"], len(order)), p["id"]))
        clock = None
        if self.time is not None:
            now = self.time.now().astimezone(self.tz)
            clock = {"iso": now.isoformat(), "epoch": now.timestamp(), "tz": str(self.tz)}
        bot = self.sim.bot_user
        return web.json_response(
            {"bot": {"name": bot.get("first_name"), "username": bot.get("username")}, "clock": clock, "people": people}
        )

    async def _person_json(self, person: Person) -> dict[str, Any]:
        roles = await self.roles_of(person.user_id) if self.roles_of is not None else []
        preset = self.presets.get(person.user_id)
        return {
            "id": person.user_id,
            "name": person.first_name,
            "language": "en" if (person.language_code or "").startswith("en") else "zh-CN",
            "phone": person.phone,
            "roles": roles,
            "preset": preset,
            "pane": person.user_id in self.panes,
            "hint": self.hint_of(roles, preset) if self.hint_of is not None else None,
        }

    async def _messages(self, request: web.Request) -> web.Response:
        person = self._person(request)
        chat = person.chat
        entries: list[tuple[int, dict[str, Any]]] = []
        for raw in chat.user_messages.values():
            entries.append((int(raw["message_id"]), self._message_json(raw, None)))
        for msg in chat.bot_messages:
            if not msg.deleted:
                entries.append((msg.message_id, self._message_json(msg.raw, msg)))
        entries.sort(key=lambda e: e[0])
        return web.json_response(
            {
                "messages": [e[1] for e in entries],
                "reply_keyboard": chat.reply_keyboard,
                "answers": list(person.callback_answers),
            }
        )

    def _message_json(self, raw: dict[str, Any], msg: BotMessage | None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": raw["message_id"],
            "from": "bot" if msg is not None else "me",
            "time": dt.datetime.fromtimestamp(raw["date"], self.tz).strftime("%H:%M"),
            "date": raw["date"],
            "edited": bool(msg.edited) if msg is not None else False,
            "text": raw.get("text", raw.get("caption")),
            "entities": raw.get("entities", raw.get("caption_entities", [])),
            "media_group_id": raw.get("media_group_id"),
            "kind": "text",
        }
        if "photo" in raw:
            out["kind"] = "photo"
            out["photo"] = self._file_url(raw["photo"][-1]["file_id"])
        elif "video" in raw:
            out["kind"] = "video"
            out["video"] = self._file_url(raw["video"]["file_id"])
        elif "document" in raw:
            doc = raw["document"]
            out["kind"] = "document"
            out["document"] = {
                "name": doc.get("file_name") or "file",
                "size": doc.get("file_size"),
                "mime": doc.get("mime_type"),
                "url": self._file_url(doc["file_id"]) + "?download=1",
                "view": self._file_url(doc["file_id"]),
            }
        elif "location" in raw:
            out["kind"] = "location"
            out["location"] = raw["location"]
        elif "contact" in raw:
            out["kind"] = "contact"
            out["contact"] = raw["contact"]
        elif "sticker" in raw:
            out["kind"] = "sticker"
            out["sticker"] = raw["sticker"].get("emoji", "")
        markup = msg.reply_markup if msg is not None else None
        if markup and "inline_keyboard" in markup:
            out["inline_keyboard"] = markup["inline_keyboard"]
        return out

    @staticmethod
    def _file_url(file_id: str) -> str:
        return f"/api/files/{file_id}"

    async def _file(self, request: web.Request) -> web.Response:
        stored = self.sim.files.by_id.get(request.match_info["file_id"])
        if stored is None:
            raise web.HTTPNotFound(text="no such file")
        headers = {"Cache-Control": "max-age=3600"}
        if "download" in request.query:
            name = stored.file_name or stored.file_path.rsplit("/", 1)[-1]
            headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{_quote(name)}"
        content_type = stored.mime_type or mimetypes.guess_type(stored.file_path)[0] or "application/octet-stream"
        return web.Response(body=stored.data, content_type=content_type, headers=headers)

    async def _samples(self, request: web.Request) -> web.Response:
        names = sorted(p.name for p in SAMPLES_DIR.glob("*") if p.suffix.lower() in {".jpg", ".jpeg", ".png"})
        return web.json_response([{"name": n, "url": f"/static/samples/{n}"} for n in names])

    # == acting =====================================================================================

    def _person(self, request: web.Request) -> Person:
        try:
            return self.sim.people[int(request.match_info["user_id"])]
        except (KeyError, ValueError):
            raise web.HTTPNotFound(text="no such person") from None

    @staticmethod
    async def _json(request: web.Request) -> dict[str, Any]:
        return await json_object(request)

    @staticmethod
    def _ok(**extra: Any) -> web.Response:
        return web.json_response({"ok": True, **extra})

    async def _add_person(self, request: web.Request) -> web.Response:
        data = await self._json(request)
        name = str(data.get("name") or "").strip()
        language = str(data.get("language") or "zh-CN")
        if not name or len(name) > MAX_NAME:
            raise web.HTTPBadRequest(text=f"a name of 1 to {MAX_NAME} characters is needed")
        if language not in LANGUAGE_CODES:
            raise web.HTTPBadRequest(text="language must be zh-CN or en")
        if self.new_person is not None:
            person = self.new_person(name, language)
        else:
            person = self.sim.person(name, language_code=LANGUAGE_CODES[language])
        self.show(person)
        return web.json_response(await self._person_json(person))

    async def _pane(self, request: web.Request) -> web.Response:
        person = self._person(request)
        if (await self._json(request)).get("shown", True):
            self.show(person)
        elif person.user_id in self.panes:
            self.panes.remove(person.user_id)
            self._panes_changed()
        return self._ok()

    async def _send_text(self, request: web.Request) -> web.Response:
        person = self._person(request)
        text = str((await self._json(request)).get("text") or "")
        if not text.strip() or len(text) > MAX_TEXT:
            raise web.HTTPBadRequest(text=f"a text of 1 to {MAX_TEXT} characters is needed")
        sent = await person.send_text(text)
        return self._ok(message_id=sent["message_id"])

    async def _press(self, request: web.Request) -> web.Response:
        person = self._person(request)
        data = await self._json(request)
        message_id, callback_data = data.get("message_id"), data.get("data")
        msg = person.chat.bot_message(int(message_id)) if isinstance(message_id, int) else None
        if msg is None or not _has_callback(msg, callback_data):
            raise web.HTTPConflict(text="that button is no longer there")
        self.sim.callback_query(person, msg, str(callback_data))
        return self._ok()

    async def _reply_button(self, request: web.Request) -> web.Response:
        person = self._person(request)
        label = str((await self._json(request)).get("text") or "")
        try:
            await person.press_reply_button(label)
        except AssertionError as exc:
            raise web.HTTPConflict(text=str(exc)) from None
        return self._ok()

    async def _send_photos(self, request: web.Request) -> web.Response:
        person = self._person(request)
        images: list[bytes] = []
        caption: str | None = None
        if request.content_type == "application/json":
            data = await self._json(request)
            caption = data.get("caption") or None
            for name in data.get("samples") or []:
                path = SAMPLES_DIR / Path(str(name)).name
                if not path.is_file():
                    raise web.HTTPBadRequest(text=f"no sample image {name!r}")
                images.append(path.read_bytes())
        else:
            caption, uploads = await _form(request)
            images = [upload.data for upload in uploads]
        if not 1 <= len(images) <= MAX_ALBUM:
            raise web.HTTPBadRequest(text=f"send 1 to {MAX_ALBUM} images")
        if not all(data.startswith(IMAGE_SIGNATURES) for data in images):
            raise web.HTTPBadRequest(text="only images (jpg, png, gif, webp) can be sent as photos")
        if len(images) == 1:
            await person.send_photo(images[0], caption=caption)
        else:
            await person.send_album(images, caption=caption)
        return self._ok(count=len(images))

    async def _send_document(self, request: web.Request) -> web.Response:
        person = self._person(request)
        caption, uploads = await _form(request)
        if len(uploads) != 1:
            raise web.HTTPBadRequest(text="send one file")
        upload = uploads[0]
        await person.send_document(upload.data, filename=upload.name, mime_type=upload.mime_type, caption=caption)
        return self._ok()

    async def _send_location(self, request: web.Request) -> web.Response:
        person = self._person(request)
        data = await self._json(request) if request.can_read_body else {}
        latitude = float(data.get("latitude", person.location[0]))
        longitude = float(data.get("longitude", person.location[1]))
        await person.send_location(latitude, longitude)
        return self._ok()

    async def _send_contact(self, request: web.Request) -> web.Response:
        await self._person(request).send_contact()
        return self._ok()

    async def _language(self, request: web.Request) -> web.Response:
        person = self._person(request)
        language = str((await self._json(request)).get("language") or "")
        if language not in LANGUAGE_CODES:
            raise web.HTTPBadRequest(text="language must be zh-CN or en")
        person.user["language_code"] = LANGUAGE_CODES[language]
        if self.switch_language is not None:
            self._spawn(self.switch_language(person, language))
        self._broadcast("state", {})
        return self._ok()

    async def _advance_clock(self, request: web.Request) -> web.Response:
        if self.time is None:
            raise web.HTTPNotFound(text="this simulator has no clock control")
        hours = (await self._json(request)).get("hours")
        if not isinstance(hours, int | float) or not 0 < hours <= 24 * 31:
            raise web.HTTPBadRequest(text="hours must be between 0 and 744")
        await self.time.advance(dt.timedelta(hours=hours))
        self._broadcast("state", {})
        return self._ok(now=self.time.now().astimezone(self.tz).isoformat())

    def _spawn(self, work: Awaitable[None]) -> None:
        async def run() -> None:
            try:
                await work
            except Exception:
                log.exception("web chat background action failed")

        task = asyncio.ensure_future(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


@dataclass(frozen=True, slots=True)
class _Upload:
    data: bytes
    name: str
    mime_type: str


async def _form(request: web.Request) -> tuple[str | None, list[_Upload]]:
    """The caption and the files of a multipart form the page posted."""
    caption: str | None = None
    uploads: list[_Upload] = []
    if not request.content_type.startswith("multipart/"):
        raise web.HTTPBadRequest(text="expected a multipart form")
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            continue
        if part.name == "caption":
            caption = (await part.text()).strip() or None
        elif part.name == "file":
            name = part.filename or "file"
            mime = part.headers.get("Content-Type") or mimetypes.guess_type(name)[0] or "application/octet-stream"
            uploads.append(_Upload(bytes(await part.read()), name, mime))
    return caption, uploads


def _has_callback(msg: BotMessage, data: object) -> bool:
    rows = (msg.reply_markup or {}).get("inline_keyboard", [])
    return isinstance(data, str) and any(b.get("callback_data") == data for row in rows for b in row)


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")
