"""WeChat's side of a service account, for tests and the demo (no maintained WeChat simulator exists).

`WeChatSimulator` is both halves of WeChat:
- the API the bot calls (`api_url`): `/cgi-bin/token`, `/cgi-bin/message/custom/send` (text, image, msgmenu),
  `/cgi-bin/message/template/send`, `/cgi-bin/media/get` and `/upload`, `/cgi-bin/menu/create`; and
- the callbacks people's messages arrive as: signed XML (and AES-encrypted in safe mode), posted to the bot's
  callback URL the way WeChat does it, with its 5-second deadline: a callback not answered in time is recorded
  in `late_answers` and retried (same MsgId) up to three times.

It enforces WeChat's rules and records every breach in `refusals` (a test asserts it stays empty): a
customer-service message only within a quota the person's own action opened (see `WINDOW`: 5 within 48 hours of a
message they sent, 3 within 1 minute of a menu click, a follow, a QR scan or a tap on a menu-message item; 45015
when none is running, 45047 when it is spent), text within 2048 bytes, at most 10 menu items; template notices
with every field at most 20 characters, no line breaks, and a link; media ids of people's photos expire after 3
days. Time is `now()` (the bot's clock in tests), except the 5-second deadline, which is wall time.

Simulated people (`WeChatPerson`) send text, taps on msgmenu items (text with `bizmsgmenuid`), locations,
photos and menu clicks, and read what the bot sent them.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

import aiohttp
import xmltodict
from aiohttp import web
from wechatpy.crypto import WeChatCrypto
from wechatpy.utils import WeChatSigner

from bot.clock import LoopTimer, Timer, within

DEADLINE = 5.0
# The customer-service quotas, as the 公众号 platform set them from 2023-06-12 (announcement
# mp.weixin.qq.com/cgi-bin/announce?action=getannouncement&announce_id=116853659399Heuo, restated on the 客服消息
# page of the official-account docs): the person sends a message → 5 messages within 48 hours; clicks a custom-menu
# button (click, scancode_push, scancode_waitmsg), follows the account or scans its QR code → 3 within 1 minute. A
# tap on a menu-message (msgmenu) item is a menu click: 3 within 1 minute, and no 48-hour quota. Quotas do not add
# up ("可发送客服消息条数不累加", the same page for mini programs): here every message sent counts against every
# quota still running, so overlapping quotas allow the larger one, never their sum (at least as strict as WeChat).
WINDOW = dt.timedelta(hours=48)
WINDOW_MESSAGES = 5
CLICK_WINDOW = dt.timedelta(minutes=1)
CLICK_MESSAGES = 3
CLICK_EVENTS = frozenset({"click", "scancode_push", "scancode_waitmsg", "subscribe", "scan"})
MEDIA_LIFETIME = dt.timedelta(days=3)
TEMPLATE_FIELD_CHARS = 20


def _utcnow() -> dt.datetime:  # the simulator's default clock when a test gives none
    return dt.datetime.now(dt.UTC)


@dataclass
class Received:
    """Something the bot sent a person: a customer-service message or a template notice."""

    kind: str  # text | msgmenu | image | template
    text: str = ""
    items: list[tuple[str, str]] = field(default_factory=list)  # msgmenu (id, content)
    tail: str = ""  # msgmenu: the text shown under its items (tail_content)
    fields: dict[str, str] = field(default_factory=dict)  # template
    url: str = ""
    at: dt.datetime | None = None


@dataclass
class Refusal:
    """A request WeChat would have refused."""

    path: str
    errcode: int
    reason: str
    body: dict[str, Any]


@dataclass
class Account:
    """What WeChat knows of a follower: their window and what they received."""

    openid: str
    last_inbound: dt.datetime | None = None  # the person's last message: its 5-in-48-hours quota
    sent_in_window: int = 0
    clicked_at: dt.datetime | None = None  # the last menu click, follow, QR scan or menu-item tap: 3 in 1 minute
    sent_since_click: int = 0
    inbox: list[Received] = field(default_factory=list)

    def opened_by(self, xml: str, now: dt.datetime) -> None:
        """A callback WeChat delivers: the quota the person's action opens, if any (`WINDOW`, `CLICK_WINDOW`)."""
        try:
            data = dict(xmltodict.parse(xml).get("xml") or {})
        except Exception:  # not XML (a body a test shaped): the person did nothing WeChat counts
            return
        kind = str(data.get("MsgType", "")).lower()
        if kind == "event":
            if str(data.get("Event", "")).lower() in CLICK_EVENTS:
                self.clicked_at, self.sent_since_click = now, 0
        elif kind == "text" and data.get("bizmsgmenuid"):
            self.clicked_at, self.sent_since_click = now, 0
        elif kind:
            self.last_inbound, self.sent_in_window = now, 0

    def refusal(self, now: dt.datetime) -> tuple[int, str] | None:
        """Why a customer-service message may not go now (None: it may)."""
        in_message = self.last_inbound is not None and now - self.last_inbound < WINDOW
        in_click = self.clicked_at is not None and now - self.clicked_at < CLICK_WINDOW
        if not in_message and not in_click:
            return 45015, "response out of time limit or subscription is canceled"
        if (in_message and self.sent_in_window < WINDOW_MESSAGES) or (
            in_click and self.sent_since_click < CLICK_MESSAGES
        ):
            return None
        return 45047, "out of response count limit"

    def count_sent(self, now: dt.datetime) -> None:
        """One message went out: it counts against every quota still running (they do not add up)."""
        if self.last_inbound is not None and now - self.last_inbound < WINDOW:
            self.sent_in_window += 1
        if self.clicked_at is not None and now - self.clicked_at < CLICK_WINDOW:
            self.sent_since_click += 1


class WeChatSimulator:
    """The API server and the callback sender; `start()` / `stop()`."""

    def __init__(
        self,
        *,
        app_id: str = "wx_sim_app",
        secret: str = "sim-secret",
        token: str = "sim-token",
        aes_key: str | None = None,
        now: Callable[[], dt.datetime] = _utcnow,
        timer: Timer | None = None,
    ) -> None:
        self.app_id = app_id
        # WeChat's 5 seconds for an answer, and slow media, on the timer the bot waits by (virtual time in tests).
        self.timer = timer or LoopTimer()
        self.secret = secret
        self.token = token
        self.aes_key = aes_key
        self.now = now
        self.callback_url: str | None = None
        self.accounts: dict[str, Account] = {}
        self.refusals: list[Refusal] = []
        self.late_answers: list[tuple[str, float]] = []
        self.answer_times: list[float] = []
        self.menu: dict[str, Any] | None = None
        self.media: dict[str, tuple[bytes, dt.datetime]] = {}
        self.tokens: set[str] = set()
        self._msg_ids = 10_000_000
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None
        self.port: int | None = None
        self._crypto = WeChatCrypto(token, aes_key, app_id) if aes_key else None
        self.changed = asyncio.Event()
        # Seconds the media download takes (a test makes WeChat slow with it).
        self.media_delay = 0.0
        # API paths answered with a redirect to themselves, query and all (a broken proxy in front of the API).
        self.redirecting: set[str] = set()
        # Each account's conversation as a chat shows it (what they sent and what the bot sent), for the demo page.
        self.history: dict[str, list[dict[str, Any]]] = {}
        self.listeners: list[Callable[[str], None]] = []

    # -- lifecycle --------------------------------------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        """Where the bot's WECHAT_API_URL should point."""
        return f"http://127.0.0.1:{self.port}"

    def settings(self, callback_port: int = 0) -> dict[str, object]:
        """The bot settings that connect it to this simulator."""
        values: dict[str, object] = {
            "wechat_app_id": self.app_id,
            "wechat_app_secret": self.secret,
            "wechat_token": self.token,
            "wechat_api_url": self.api_url,
            "wechat_host": "127.0.0.1",
            "wechat_port": callback_port,
            "wechat_template_notice": "TPL_NOTICE",
            "wechat_template_url": f"{self.api_url}/detail",
        }
        if self.aes_key:
            values["wechat_aes_key"] = self.aes_key
        return values

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Serve the API."""
        app = web.Application(middlewares=[self._redirect_loop])
        app.router.add_get("/cgi-bin/token", self._token)
        app.router.add_post("/cgi-bin/message/custom/send", self._custom)
        app.router.add_post("/cgi-bin/message/template/send", self._template)
        app.router.add_get("/cgi-bin/media/get", self._media_get)
        app.router.add_post("/cgi-bin/media/upload", self._media_upload)
        app.router.add_post("/cgi-bin/menu/create", self._menu)
        app.router.add_get("/detail", self._detail)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        sockets = getattr(site._server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else port
        self._http = aiohttp.ClientSession()

    @web.middleware
    async def _redirect_loop(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if request.path in self.redirecting:
            raise web.HTTPFound(str(request.rel_url))
        return await handler(request)

    async def stop(self) -> None:
        """Stop serving."""
        if self._http is not None:
            await self._http.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def person(self, name: str, openid: str | None = None) -> WeChatPerson:
        """A simulated follower of the account."""
        openid = openid or f"o{secrets.token_hex(13)}"
        self.accounts.setdefault(openid, Account(openid))
        return WeChatPerson(self, name, openid)

    # -- API side ---------------------------------------------------------------------------------------------------

    def _refuse(self, path: str, errcode: int, reason: str, body: dict[str, Any]) -> web.Response:
        self.refusals.append(Refusal(path, errcode, reason, body))
        return web.json_response({"errcode": errcode, "errmsg": reason})

    def _authorised(self, request: web.Request) -> bool:
        return request.query.get("access_token", "") in self.tokens

    async def _token(self, request: web.Request) -> web.Response:
        query = request.query
        if query.get("appid") != self.app_id or query.get("secret") != self.secret:
            return self._refuse("/cgi-bin/token", 40125, "invalid appsecret", dict(query))
        token = secrets.token_hex(16)
        self.tokens.add(token)
        return web.json_response({"access_token": token, "expires_in": 7200})

    async def _json(self, request: web.Request) -> dict[str, Any]:
        raw = await request.read()
        try:
            body = json.loads(raw.decode())
        except ValueError:
            return {}
        return body if isinstance(body, dict) else {}

    async def _custom(self, request: web.Request) -> web.Response:
        path = "/cgi-bin/message/custom/send"
        body = await self._json(request)
        if not self._authorised(request):
            return self._refuse(path, 40001, "invalid credential, access_token is invalid", body)
        account = self.accounts.get(str(body.get("touser", "")))
        if account is None:
            return self._refuse(path, 40003, "invalid openid", body)
        now = self.now()
        if (refused := account.refusal(now)) is not None:
            return self._refuse(path, *refused, body)
        kind = str(body.get("msgtype", ""))
        if kind == "text":
            content = str((body.get("text") or {}).get("content", ""))
            if not content or len(content.encode()) > 2048:
                return self._refuse(path, 45002, "content size out of limit", body)
            received = Received("text", content, at=now)
        elif kind == "msgmenu":
            menu = body.get("msgmenu") or {}
            items = [(str(i.get("id", "")), str(i.get("content", ""))) for i in menu.get("list") or []]
            if not items or len(items) > 10 or any(not i or len(i) > 64 or not c for i, c in items):
                return self._refuse(path, 47001, "data format error: msgmenu list", body)
            text = str(menu.get("head_content", ""))
            tail = str(menu.get("tail_content", ""))
            if len(text.encode()) > 2048 or len(tail.encode()) > 2048:
                return self._refuse(path, 45002, "content size out of limit", body)
            received = Received("msgmenu", text, items, tail=tail, at=now)
        elif kind == "image":
            media_id = str((body.get("image") or {}).get("media_id", ""))
            # Temporary media live 3 days (素材管理 / 新增临时素材): an older id is refused like an unknown one.
            if media_id not in self.media or now - self.media[media_id][1] >= MEDIA_LIFETIME:
                return self._refuse(path, 40007, "invalid media_id", body)
            received = Received("image", media_id, at=now)
        else:
            return self._refuse(path, 40008, "invalid message type", body)
        account.count_sent(now)
        account.inbox.append(received)
        self.log(account.openid, "bot", received)
        self._changed()
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def _template(self, request: web.Request) -> web.Response:
        path = "/cgi-bin/message/template/send"
        body = await self._json(request)
        if not self._authorised(request):
            return self._refuse(path, 40001, "invalid credential, access_token is invalid", body)
        account = self.accounts.get(str(body.get("touser", "")))
        if account is None:
            return self._refuse(path, 40003, "invalid openid", body)
        if not body.get("template_id"):
            return self._refuse(path, 40037, "invalid template_id", body)
        url = str(body.get("url") or "")
        if not url.startswith(("http://", "https://")):
            return self._refuse(path, 47001, "data format error: a template notice needs a link", body)
        data = body.get("data") or {}
        fields: dict[str, str] = {}
        for name, value in data.items():
            text = str((value or {}).get("value", ""))
            if len(text) > TEMPLATE_FIELD_CHARS or "\n" in text or "\r" in text or not text:
                return self._refuse(path, 47001, f"data format error: field {name} {text!r}", body)
            fields[str(name)] = text
        if not fields:
            return self._refuse(path, 47001, "data format error: no fields", body)
        notice = Received("template", " ".join(fields.values()), fields=fields, url=url, at=self.now())
        account.inbox.append(notice)
        self.log(account.openid, "bot", notice)
        self._changed()
        return web.json_response({"errcode": 0, "errmsg": "ok", "msgid": secrets.randbelow(10**9)})

    async def _media_get(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._refuse("/cgi-bin/media/get", 40001, "invalid access_token", dict(request.query))
        if self.media_delay:
            await self.timer.sleep(self.media_delay)
        found = self.media.get(request.query.get("media_id", ""))
        if found is None or self.now() - found[1] > MEDIA_LIFETIME:
            return self._refuse("/cgi-bin/media/get", 40007, "invalid media_id", dict(request.query))
        return web.Response(body=found[0], content_type="image/jpeg")

    async def _media_upload(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._refuse("/cgi-bin/media/upload", 40001, "invalid access_token", dict(request.query))
        reader = await request.multipart()
        part = await reader.next()
        content = await part.read() if isinstance(part, aiohttp.BodyPartReader) else b""
        media_id = self.store_media(bytes(content))
        return web.json_response({"type": "image", "media_id": media_id, "created_at": int(time.time())})

    async def _menu(self, request: web.Request) -> web.Response:
        body = await self._json(request)
        if not self._authorised(request):
            return self._refuse("/cgi-bin/menu/create", 40001, "invalid access_token", body)
        buttons = body.get("button") or []
        if not 1 <= len(buttons) <= 3 or any(len(b.get("sub_button") or []) > 5 for b in buttons):
            return self._refuse("/cgi-bin/menu/create", 40016, "invalid button size", body)
        self.menu = body
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def _detail(self, request: web.Request) -> web.Response:
        return web.Response(text="detail page", content_type="text/plain")

    def store_media(self, content: bytes) -> str:
        """Keep a file as WeChat does for 3 days; its media_id."""
        media_id = f"m{secrets.token_hex(12)}"
        self.media[media_id] = (content, self.now())
        return media_id

    def _changed(self) -> None:
        self.changed.set()

    def log(self, openid: str, sender: str, received: Received) -> None:
        """Add a line to the account's chat as the demo page shows it (`sender`: "me" or "bot")."""
        entries = self.history.setdefault(openid, [])
        entries.append(
            {
                "n": len(entries) + 1,
                "from": sender,
                "kind": received.kind,
                "text": received.text,
                "items": [list(item) for item in received.items],
                "tail": received.tail,
                "fields": dict(received.fields),
                "url": received.url,
                "at": (received.at or self.now()).timestamp(),
            }
        )
        for listener in list(self.listeners):
            listener(openid)

    # -- callback side ----------------------------------------------------------------------------------------------

    def next_msg_id(self) -> int:
        self._msg_ids += 1
        return self._msg_ids

    @property
    def last_msg_id(self) -> int:
        """The MsgId given last."""
        return self._msg_ids

    def continue_msg_ids(self, last: int) -> None:
        """Go on after the MsgIds an earlier run gave (the demo after a restart): the bot takes a MsgId it has seen
        for WeChat's retry of that message and does not handle it again."""
        self._msg_ids = max(self._msg_ids, last)

    def _plain(self, query: dict[str, str], body: str) -> str:
        """The XML inside a posted body (decrypted in safe mode; as it is when it cannot be read)."""
        if self._crypto is None or "<Encrypt>" not in body:
            return body
        try:
            return str(
                self._crypto.decrypt_message(body, query.get("msg_signature", ""), query["timestamp"], query["nonce"])
            )
        except Exception:  # a body a test shaped to be unreadable opens nothing
            return ""

    def signed(self, xml: str, *, bad_signature: bool = False) -> tuple[dict[str, str], str]:
        """The query and body WeChat posts for this XML (encrypted in safe mode)."""
        timestamp = str(int(self.now().timestamp()))
        nonce = secrets.token_hex(5)
        signer = WeChatSigner()
        signer.add_data(self.token, timestamp, nonce)
        query = {"signature": signer.signature, "timestamp": timestamp, "nonce": nonce, "openid": "x"}
        body = xml
        if self._crypto is not None:
            body = self._crypto.encrypt_message(xml, nonce, timestamp)
            query["encrypt_type"] = "aes"
            query["msg_signature"] = str(xmltodict.parse(body)["xml"]["MsgSignature"])
        if bad_signature:
            query["signature"] = "0" * 40
            if "msg_signature" in query:
                query["msg_signature"] = "0" * 40
        return query, body

    async def post_callback(self, openid: str, xml: str, *, bad_signature: bool = False) -> tuple[int, str]:
        """Deliver one callback as WeChat does: 5 seconds for an answer, else retried (same XML) up to 3 times.

        Returns the last HTTP status and body. A person's message opens their window once WeChat has it.
        """
        if self.callback_url is None or self._http is None:
            raise RuntimeError("start the simulator and point callback_url at the bot first")
        if not bad_signature:
            self.accounts.setdefault(openid, Account(openid)).opened_by(xml, self.now())
        status, text = 0, ""
        for _attempt in range(4):
            query, body = self.signed(xml, bad_signature=bad_signature)
            started = self.timer.monotonic()
            answer = asyncio.ensure_future(self._post(self.callback_url, query, body))
            if await within(self.timer, answer, DEADLINE):
                status, text = answer.result()
                self.answer_times.append(self.timer.monotonic() - started)
                return status, text
            self.late_answers.append((openid, self.timer.monotonic() - started))
        return status, text

    async def deliver(self, openid: str, query: dict[str, str], body: str) -> tuple[int, str]:
        """Post one already signed callback as WeChat would after the follower wrote (their window opens), once: for
        tests that need the exact request twice, or a request they shaped themselves."""
        if self.callback_url is None:
            raise RuntimeError("start the simulator and point callback_url at the bot first")
        self.accounts.setdefault(openid, Account(openid)).opened_by(self._plain(query, body), self.now())
        return await self._post(self.callback_url, query, body)

    async def _post(self, url: str, query: dict[str, str], body: str) -> tuple[int, str]:
        assert self._http is not None
        async with self._http.post(url, params=query, data=body.encode()) as response:
            return response.status, await response.text()


class WeChatPerson:
    """A follower of the service account, as tests drive them."""

    def __init__(self, sim: WeChatSimulator, name: str, openid: str) -> None:
        self.sim = sim
        self.name = name
        self.openid = openid
        self.last_xml: str | None = None

    @property
    def inbox(self) -> list[Received]:
        """Everything the bot sent this person, oldest first."""
        return self.sim.accounts[self.openid].inbox

    def _xml(self, kind: str, fields: dict[str, str], *, msg_id: bool = True) -> str:
        parts = [
            f"<ToUserName><![CDATA[gh_sim]]></ToUserName><FromUserName><![CDATA[{self.openid}]]></FromUserName>",
            f"<CreateTime>{int(self.sim.now().timestamp())}</CreateTime><MsgType><![CDATA[{kind}]]></MsgType>",
        ]
        parts += [f"<{name}>{escape(value)}</{name}>" for name, value in fields.items()]
        if msg_id:
            parts.append(f"<MsgId>{self.sim.next_msg_id()}</MsgId>")
        return "<xml>" + "".join(parts) + "</xml>"

    async def _send(self, xml: str, *, bad_signature: bool = False, shown: Received | None = None) -> tuple[int, str]:
        self.last_xml = xml
        if shown is not None and not bad_signature:
            self.sim.log(self.openid, "me", shown)
        return await self.sim.post_callback(self.openid, xml, bad_signature=bad_signature)

    async def send_text(self, text: str, *, bad_signature: bool = False) -> tuple[int, str]:
        """Type a message."""
        return await self._send(
            self._xml("text", {"Content": text}), bad_signature=bad_signature, shown=Received("text", text)
        )

    async def tap(self, label: str, timeout: float = 10.0) -> tuple[int, str]:  # noqa: ASYNC109
        """Tap the newest msgmenu item whose text contains `label` (comes back as text with bizmsgmenuid), waiting
        for one to arrive."""
        deadline = time.monotonic() + timeout
        while True:
            for received in reversed(self.inbox):
                for menu_id, content in received.items:
                    if label in content:
                        return await self.tap_item(menu_id, content)
            if time.monotonic() > deadline:
                shown = [r.items for r in self.inbox[-3:]]
                raise AssertionError(f"{self.name} has no menu item {label!r}: {shown}")
            await asyncio.sleep(0.05)

    async def tap_item(self, menu_id: str, content: str) -> tuple[int, str]:
        """Tap one msgmenu item: WeChat sends its text with its id as `bizmsgmenuid`."""
        xml = self._xml("text", {"Content": content, "bizmsgmenuid": menu_id})
        return await self._send(xml, shown=Received("text", content))

    async def send_location(self, latitude: float, longitude: float, label: str = "") -> tuple[int, str]:
        """Share a location (the + panel's 位置)."""
        fields = {"Location_X": str(latitude), "Location_Y": str(longitude), "Scale": "15", "Label": label}
        shown = Received("location", f"📍 {label or f'{latitude:.4f}, {longitude:.4f}'}")
        return await self._send(self._xml("location", fields), shown=shown)

    async def send_photo(self, content: bytes) -> tuple[int, str]:
        """Send a photo: WeChat keeps it as temporary media and tells the bot its media_id."""
        media_id = self.sim.store_media(content)
        fields = {"PicUrl": f"{self.sim.api_url}/pic/{media_id}", "MediaId": media_id}
        return await self._send(self._xml("image", fields), shown=Received("image", media_id))

    async def click(self, key: str) -> tuple[int, str]:
        """Press a custom-menu button of type click."""
        shown = Received("click", key)
        return await self._send(self._xml("event", {"Event": "CLICK", "EventKey": key}, msg_id=False), shown=shown)

    async def event(self, event: str, fields: dict[str, str] | None = None, *, raw: str = "") -> tuple[int, str]:
        """An event push that is not the person writing, as WeChat documents them (接收事件推送): `LOCATION` (the
        location the client reports when the account asks for it: Latitude, Longitude, Precision),
        `TEMPLATESENDJOBFINISH` (a template message's delivery receipt: Status), `unsubscribe`, `VIEW` (a menu link
        opened), and the menu's pickers (`location_select`, `pic_photo_or_album`, …: 自定义菜单事件推送), after which
        the picked location or photo arrives as a message of its own. No MsgId; `raw` is appended as it is (nested
        XML such as SendLocationInfo). Sources: developers.weixin.qq.com/doc/offiaccount/Message_Management/
        Receiving_event_pushes.html and …/doc/offiaccount/Custom_Menus/Custom_Menu_Push_Events.html."""
        xml = self._xml("event", {"Event": event, **(fields or {})}, msg_id=False)
        return await self._send(xml[: -len("</xml>")] + raw + "</xml>", shown=Received("event", event))

    async def pick_location(self, latitude: float, longitude: float, label: str = "") -> None:
        """The menu's 发送位置 (a location_select button): the picker's event, then the location as a message."""
        info = (
            f"<SendLocationInfo><Location_X>{latitude}</Location_X><Location_Y>{longitude}</Location_Y>"
            f"<Scale>15</Scale><Label>{escape(label)}</Label><Poiname></Poiname></SendLocationInfo>"
        )
        await self.event("location_select", {"EventKey": "LOCATION"}, raw=info)
        await self.send_location(latitude, longitude, label)

    async def resend(self) -> tuple[int, str]:
        """WeChat retries the last callback (same MsgId)."""
        assert self.last_xml is not None
        return await self.sim.post_callback(self.openid, self.last_xml)

    async def wait_for(
        self,
        predicate: Callable[[Received], bool],
        timeout: float = 10.0,  # noqa: ASYNC109
        *,
        after: int = 0,
    ) -> Received:
        """The first message after the first `after` received (already there or arriving) that matches."""
        deadline = time.monotonic() + timeout
        while True:
            for received in self.inbox[after:]:
                if predicate(received):
                    return received
            if time.monotonic() > deadline:
                shown = [(r.kind, r.text[:80]) for r in self.inbox[-5:]]
                raise AssertionError(f"{self.name} never received it; last: {shown}")
            await asyncio.sleep(0.05)

    async def wait_for_text(self, text: str, timeout: float = 10.0, *, after: int = 0) -> Received:  # noqa: ASYNC109
        """The first message after the first `after` ones whose text or menu contains `text`."""
        return await self.wait_for(lambda r: text in (r.text + str(r.items) + r.tail), timeout, after=after)
