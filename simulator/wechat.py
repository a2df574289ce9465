"""WeChat's side of a service account, for tests and the demo (no maintained WeChat simulator exists).

`WeChatSimulator` is both halves of WeChat:
- the API the bot calls (`api_url`): `/cgi-bin/token`, `/cgi-bin/message/custom/send` (text, image, msgmenu),
  `/cgi-bin/message/template/send`, subscription notices (`/cgi-bin/message/subscribe/bizsend`, and the account's
  templates: `/wxaapi/newtmpl/gettemplate`, `/deltemplate`), `/cgi-bin/media/get` and `/upload`,
  `/cgi-bin/menu/create` and `/get`, the conditional menus (`/cgi-bin/menu/addconditional`, `/delconditional`,
  `/trymatch`), user tags (`/cgi-bin/tags/get`, `/create`, `/members/batchtagging`, `/batchuntagging`,
  `/getidlist`) and parametric QR codes (`/cgi-bin/qrcode/create`, and `/cgi-bin/showqrcode`, which WeChat serves
  on mp.weixin.qq.com); and
- the callbacks people's messages arrive as: signed XML (and AES-encrypted in safe mode), posted to the bot's
  callback URL the way WeChat does it, with its 5-second deadline: a callback not answered in time is recorded
  in `late_answers` and retried (same MsgId) up to three times.

It enforces WeChat's rules and records every breach in `refusals` (a test asserts it stays empty): a
customer-service message only within a quota the person's own action opened (see `WINDOW`: 5 within 48 hours of a
message they sent, 3 within 1 minute of a menu click, a follow, a QR scan or a tap on a menu-message item; 45015
when none is running, 45047 when it is spent), text within 2048 bytes, at most 10 menu items (each within 128 bytes,
the menu's head and tail within 1024); template notices with every field at most 20 characters, no line breaks,
and a link; subscription notices only of a template the person accepted (see `KEYWORD_RULES`: 43101, one notice
per one-time acceptance, each keyword's value within its rule or 47003); media ids of people's photos expire after 3
days. Time is `now()` (the bot's clock in tests), except the 5-second deadline, which is wall time.

Simulated people (`WeChatPerson`) send text, taps on msgmenu items (text with `bizmsgmenuid`), locations,
photos and menu clicks, answer subscription popups (`subscribe`) and turn subscriptions off (`turn_off`), and read
what the bot sent them.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import io
import json
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

import aiohttp
import segno
import xmltodict
from aiohttp import web
from wechatpy.crypto import WeChatCrypto
from wechatpy.utils import WeChatSigner

from core.clock import LoopTimer, Timer, within

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
# An uploaded image (素材管理 / 新增临时素材, developers.weixin.qq.com/doc/offiaccount/Asset_Management/
# New_temporary_materials.html): at most 10 MB, PNG, JPEG or GIF; anything else is refused (40005 invalid file type,
# 40009 invalid image size).
UPLOAD_IMAGE_BYTES = 10 * 1024 * 1024
IMAGE_SIGNATURES = (b"\x89PNG", b"\xff\xd8", b"GIF8")  # PNG, JPEG (its SOI marker), GIF
TEMPLATE_FIELD_CHARS = 20
# Parametric QR codes (账号管理 / 生成带参数的二维码, developers.weixin.qq.com/doc/offiaccount/Account_Management/
# Generating_a_Parametric_QR_Code.html): QR_STR_SCENE (temporary) and QR_LIMIT_STR_SCENE (permanent) carry a
# scene_str of 1–64 characters; a temporary code lives expire_seconds, at most 2592000 (30 days), 30 when not
# given; an account has at most 100,000 permanent codes; showqrcode answers an unknown or expired ticket with HTTP
# 404. Scanning (接收事件推送 / 扫描带参数二维码事件): a person not following yet follows, and the push is `subscribe`
# with EventKey `qrscene_<scene>` and the Ticket; a follower's push is `SCAN` with EventKey `<scene>`.
QR_SCENE_MAX = 64
QR_MAX_SECONDS = 2_592_000
QR_DEFAULT_SECONDS = 30
QR_PERMANENT_MAX = 100_000
# User tags (用户管理 / 用户标签管理, …/doc/offiaccount/User_Management/User_Tag_Management.html): at most 100 tags
# per account (45056), a name of at most 30 bytes (45158) unlike every other tag's (45157); at most 50 openids per
# batch call (40032), an unknown tag 45159, at most 20 tags on one follower (45059). Tags 0, 1 and 2 are WeChat's
# own (2 is 星标组).
TAGS_MAX = 100
TAG_NAME_BYTES = 30
TAG_BATCH = 50
TAGS_PER_USER = 20
# Conditional menus (自定义菜单 / 个性化菜单接口, …/doc/offiaccount/Custom_Menus/Personalized_menu_interface.html): a
# default menu must exist first (65303); the match rule must not be empty (65304) and may no longer use sex,
# country, province, city or language (65320); an unknown menuid cannot be deleted (65301); trymatch of an unknown
# follower 65302. Matching: the newest conditional menu first; a follower with several tags is matched by the tag
# put on them last. Menu size (自定义菜单 / 创建接口): 1–3 buttons, each with at most 5 sub-buttons (40016).
PRIVATE_RULES = frozenset({"sex", "country", "province", "city", "language"})
# Button names (…/doc/offiaccount/Custom_Menus/Creating_Custom-Defined_Menu.html): at most 16 bytes for a
# button, 60 for a sub-button (40018, invalid button name size).
MENU_NAME_BYTES = 16
SUB_MENU_NAME_BYTES = 60


# Subscription notices (订阅通知) of a 服务号. Sending (发送订阅通知 / sendNewSubscribeMsg, POST
# /cgi-bin/message/subscribe/bizsend, developers.weixin.qq.com/doc/service/api/notify/notify/
# api_sendnewsubscribemsg.html): touser, template_id and data ({keyword: {"value": …}}); 40003 unknown openid, 40037
# unknown template, 43101 the person did not accept the template or turned it off, 47003 a value breaks its
# keyword's rule (the rules of Body.data below). A one-time subscription allows one notice per acceptance; a
# long-term one any number, and only public-service (政务民生, medical…) accounts may choose such templates (订阅通知
# 介绍, …/doc/service/Subscription_Messages/intro.html). The person decides in a popup: subscribe_msg_popup_event with
# accept or reject per template; turning one off in the 服务通知 settings pushes subscribe_msg_change_event with reject
# (订阅通知的事件推送, …/doc/service/guide/product/subscription_messages/push.html); neither opens a
# customer-service quota. The account's templates: 获取已有模板列表 (GET /wxaapi/newtmpl/gettemplate: priTmplId,
# title, content with {{keyword.DATA}}, type 2 one-time / 3 long-term) and 删除模板 (POST /wxaapi/newtmpl/deltemplate).
ONE_TIME_TYPE, LONG_TERM_TYPE = 2, 3
_CJK = r"\u4e00-\u9fff"
_CLOCK = r"\d{1,2}:\d{2}"
_DAY = r"\d{4}年\d{1,2}月\d{1,2}日"
KEYWORD_RULES: dict[str, re.Pattern[str]] = {
    "thing": re.compile(r"[^\r\n]{1,20}"),  # 20个以内字符
    "number": re.compile(r"(?=[\d.]{1,32}$)\d+(\.\d+)?"),  # 32位以内数字, 可带小数
    "letter": re.compile(r"[A-Za-z]{1,32}"),  # 32位以内字母
    "symbol": re.compile(r"[!-/:-@\[-`{-~]{1,5}"),  # 5位以内符号
    "character_string": re.compile(r"[!-~]{1,32}"),  # 32位以内数字、字母或符号
    # 24小时制时间格式（支持+年月日），时间段用“~”连接: 15:01, 2019年10月1日 15:01
    "time": re.compile(rf"((?:{_DAY} ?)?{_CLOCK})(~(?:{_DAY} ?)?{_CLOCK})?"),
    "date": re.compile(rf"{_DAY}( {_CLOCK})?(~{_DAY}( {_CLOCK})?)?"),  # 年月日格式（支持+24小时制时间）
    "phone_number": re.compile(r"[\d+\-()]{1,17}"),  # 17位以内, 数字、符号
    "name": re.compile(rf"[{_CJK}]{{1,10}}|[A-Za-z !-/]{{1,20}}"),  # 10个以内纯汉字或20个以内纯字母或符号
    "phrase": re.compile(rf"[{_CJK}]{{1,5}}"),  # 5个以内纯汉字
}


def keyword_ok(keyword: str, value: str) -> bool:
    """Whether a value keeps its keyword's rule (thing1 → the rule of thing); an unknown kind takes nothing."""
    rule = KEYWORD_RULES.get(re.sub(r"\d+$", "", keyword))
    return rule is not None and rule.fullmatch(value) is not None


@dataclass
class SubscriptionTemplate:
    """A subscription template the account chose from the library: its keywords (thing1, time3, …) and whether
    it is long-term."""

    template_id: str
    title: str
    keywords: list[str]
    long_term: bool


def _menu_size_ok(body: dict[str, Any]) -> bool:
    """1–3 buttons of at most 5 sub-buttons each (40016 otherwise)."""
    buttons = body.get("button") or []
    return 1 <= len(buttons) <= 3 and all(len(b.get("sub_button") or []) <= 5 for b in buttons)


def _menu_names_ok(body: dict[str, Any]) -> bool:
    """A button's name at most 16 bytes, a sub-button's at most 60 (自定义菜单 / 创建接口: 40018 otherwise)."""
    for button in body.get("button") or []:
        if not 0 < len(str(button.get("name", "")).encode()) <= MENU_NAME_BYTES:
            return False
        for sub in button.get("sub_button") or []:
            if not 0 < len(str(sub.get("name", "")).encode()) <= SUB_MENU_NAME_BYTES:
                return False
    return True


def _utcnow() -> dt.datetime:  # the simulator's default clock when a test gives none
    return dt.datetime.now(dt.UTC)


@dataclass
class Received:
    """Something the bot sent a person: a customer-service message or a template notice."""

    kind: str  # text | msgmenu | image | template | subscription
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
    following: bool = True  # a person reached by `WeChatSimulator.stranger` follows when they scan a code
    tags: list[int] = field(default_factory=list)  # in the order they were put on (the last one picks the menu)
    # Subscription templates accepted: how many notices each still allows (None: long-term, any number).
    subscribed: dict[str, int | None] = field(default_factory=dict)

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


@dataclass
class QrTicket:
    """A parametric QR code WeChat made: its scene and when it stops working (None: permanent)."""

    scene: str
    expires_at: dt.datetime | None
    url: str


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
        self.conditional_menus: list[dict[str, Any]] = []  # oldest first, each with its "menuid" and "matchrule"
        self.tag_names: dict[int, str] = {2: "星标组"}
        self.qr_codes: dict[str, QrTicket] = {}
        self.subscription_templates: dict[str, SubscriptionTemplate] = {}
        self._qr_images: dict[str, str] = {}  # sha256 of an image showqrcode served → its ticket
        self._ids = 100
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
            "wechat_qr_url": self.api_url,  # showqrcode: mp.weixin.qq.com at WeChat, the same server here
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
        app.router.add_post("/cgi-bin/message/subscribe/bizsend", self._bizsend)
        app.router.add_get("/wxaapi/newtmpl/gettemplate", self._subscription_templates)
        app.router.add_post("/wxaapi/newtmpl/deltemplate", self._delete_subscription_template)
        app.router.add_get("/cgi-bin/media/get", self._media_get)
        app.router.add_post("/cgi-bin/media/upload", self._media_upload)
        app.router.add_post("/cgi-bin/menu/create", self._menu)
        app.router.add_get("/cgi-bin/menu/get", self._menu_get)
        app.router.add_post("/cgi-bin/menu/addconditional", self._menu_add_conditional)
        app.router.add_post("/cgi-bin/menu/delconditional", self._menu_del_conditional)
        app.router.add_post("/cgi-bin/menu/trymatch", self._menu_trymatch)
        app.router.add_get("/cgi-bin/tags/get", self._tags_get)
        app.router.add_post("/cgi-bin/tags/create", self._tags_create)
        app.router.add_post("/cgi-bin/tags/members/batchtagging", self._tags_batch)
        app.router.add_post("/cgi-bin/tags/members/batchuntagging", self._tags_batch)
        app.router.add_post("/cgi-bin/tags/getidlist", self._tags_of_user)
        app.router.add_post("/cgi-bin/qrcode/create", self._qr_create)
        app.router.add_get("/cgi-bin/showqrcode", self._qr_show)
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

    def stranger(self, name: str) -> WeChatPerson:
        """A WeChat user who does not follow the account yet (scanning its code makes them follow)."""
        openid = f"o{secrets.token_hex(13)}"
        self.accounts[openid] = Account(openid, following=False)
        return WeChatPerson(self, name, openid)

    # -- API side ---------------------------------------------------------------------------------------------------

    def _addressee(self, request: web.Request, path: str, body: dict[str, Any]) -> Account | web.Response:
        """The follower a message API call is addressed to (`touser`), or WeChat's refusal: 40001 without a valid
        access_token, 40003 for an openid the account does not know."""
        if not self._authorised(request):
            return self._refuse(path, 40001, "invalid credential, access_token is invalid", body)
        account = self.accounts.get(str(body.get("touser", "")))
        if account is None:
            return self._refuse(path, 40003, "invalid openid", body)
        return account

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
        account = self._addressee(request, path, body)
        if isinstance(account, web.Response):
            return account
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
            # The official account's page (发送客服消息) gives no sizes for a menu message; the one page that does,
            # WeCom's 微信客服 发送消息 / 菜单消息 (developer.work.weixin.qq.com/document/path/94677), is applied: at
            # most 10 items, an item's id 1-64 bytes and its content 1-128 bytes, head and tail at most 1024 bytes.
            items = [(str(i.get("id", "")), str(i.get("content", ""))) for i in menu.get("list") or []]
            if not items or len(items) > 10 or any(not i or len(i) > 64 or not c for i, c in items):
                return self._refuse(path, 47001, "data format error: msgmenu list", body)
            text = str(menu.get("head_content", ""))
            tail = str(menu.get("tail_content", ""))
            too_long = any(len(c.encode()) > 128 for _, c in items)
            if too_long or len(text.encode()) > 1024 or len(tail.encode()) > 1024:
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
        account = self._addressee(request, path, body)
        if isinstance(account, web.Response):
            return account
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

    def add_subscription_template(self, title: str, keywords: list[str], *, long_term: bool = True) -> str:
        """A template the account chose from the library in its console (选用模板); its priTmplId."""
        self._ids += 1
        template_id = f"SUB{self._ids}_{secrets.token_hex(8)}"
        self.subscription_templates[template_id] = SubscriptionTemplate(template_id, title, list(keywords), long_term)
        return template_id

    def consent(self, openid: str, template_id: str, *, accept: bool) -> None:
        """What a person's choice in a popup (accept) or in the 服务通知 settings (turned off) leaves WeChat knowing."""
        account = self.accounts.setdefault(openid, Account(openid))
        template = self.subscription_templates.get(template_id)
        if not accept or template is None:
            account.subscribed.pop(template_id, None)
        elif template.long_term:
            account.subscribed[template_id] = None
        else:
            account.subscribed[template_id] = (account.subscribed.get(template_id) or 0) + 1

    async def _bizsend(self, request: web.Request) -> web.Response:
        path = "/cgi-bin/message/subscribe/bizsend"
        # A follower gets it in the account's chat, someone who unfollowed in 服务通知 (订阅通知介绍: 下发位置).
        body = await self._json(request)
        account = self._addressee(request, path, body)
        if isinstance(account, web.Response):
            return account
        template = self.subscription_templates.get(str(body.get("template_id", "")))
        if template is None:
            return self._refuse(path, 40037, "invalid template id", body)
        if template.template_id not in account.subscribed:
            return self._refuse(path, 43101, "user refuse to accept the msg", body)
        data = body.get("data")
        if not isinstance(data, dict) or not data:
            return self._refuse(path, 47003, "argument invalid! data is empty", body)
        fields: dict[str, str] = {}
        for name, value in data.items():
            text = str((value or {}).get("value", "")) if isinstance(value, dict) else ""
            if name not in template.keywords or not keyword_ok(str(name), text):
                return self._refuse(path, 47003, f"argument invalid! data.{name}.value invalid", body)
            fields[str(name)] = text
        left = account.subscribed[template.template_id]
        if left is not None:  # one-time: this acceptance is used up
            if left <= 1:
                del account.subscribed[template.template_id]
            else:
                account.subscribed[template.template_id] = left - 1
        notice = Received("subscription", " ".join(fields.values()), fields=fields, at=self.now())
        account.inbox.append(notice)
        self.log(account.openid, "bot", notice)
        self._changed()
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def _subscription_templates(self, request: web.Request) -> web.Response:
        path = "/wxaapi/newtmpl/gettemplate"
        if not self._authorised(request):
            return self._refuse(path, 40001, "invalid credential, access_token is invalid", dict(request.query))
        listing = [
            {
                "priTmplId": t.template_id,
                "title": t.title,
                "content": "\n".join(f"{k}:{{{{{k}.DATA}}}}" for k in t.keywords),
                "example": "",
                "type": LONG_TERM_TYPE if t.long_term else ONE_TIME_TYPE,
            }
            for t in self.subscription_templates.values()
        ]
        return web.json_response({"errcode": 0, "errmsg": "ok", "data": listing})

    async def _delete_subscription_template(self, request: web.Request) -> web.Response:
        path = "/wxaapi/newtmpl/deltemplate"
        body = await self._json(request)
        if not self._authorised(request):
            return self._refuse(path, 40001, "invalid credential, access_token is invalid", body)
        if self.subscription_templates.pop(str(body.get("priTmplId", "")), None) is None:
            return self._refuse(path, 40037, "invalid template id", body)
        return web.json_response({"errcode": 0, "errmsg": "ok"})

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
        query = dict(request.query)
        if request.query.get("type") != "image" or not bytes(content).startswith(IMAGE_SIGNATURES):
            return self._refuse("/cgi-bin/media/upload", 40005, "invalid file type", query)
        if len(content) > UPLOAD_IMAGE_BYTES:
            return self._refuse("/cgi-bin/media/upload", 40009, "invalid image size", query)
        media_id = self.store_media(bytes(content))
        return web.json_response({"type": "image", "media_id": media_id, "created_at": int(time.time())})

    async def _menu(self, request: web.Request) -> web.Response:
        body = await self._json(request)
        if not self._authorised(request):
            return self._refuse("/cgi-bin/menu/create", 40001, "invalid access_token", body)
        if not _menu_size_ok(body):
            return self._refuse("/cgi-bin/menu/create", 40016, "invalid button size", body)
        if not _menu_names_ok(body):
            return self._refuse("/cgi-bin/menu/create", 40018, "invalid button name size", body)
        self._ids += 1
        self.menu = {"button": body.get("button"), "menuid": self._ids}
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def _menu_get(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._refuse("/cgi-bin/menu/get", 40001, "invalid access_token", dict(request.query))
        if self.menu is None:
            return self._refuse("/cgi-bin/menu/get", 46003, "menu no exist", {})
        return web.json_response({"menu": self.menu, "conditionalmenu": self.conditional_menus})

    async def _menu_add_conditional(self, request: web.Request) -> web.Response:
        path = "/cgi-bin/menu/addconditional"
        body = await self._json(request)
        if not self._authorised(request):
            return self._refuse(path, 40001, "invalid access_token", body)
        if self.menu is None:
            return self._refuse(path, 65303, "there is no selfmenu, please create selfmenu first", body)
        rule = {k: str(v) for k, v in (body.get("matchrule") or {}).items() if str(v)}
        if not rule:
            return self._refuse(path, 65304, "match rule empty", body)
        if PRIVATE_RULES & rule.keys():
            return self._refuse(path, 65320, "matchrule contains privacy info", body)
        if "tag_id" in rule and (not rule["tag_id"].isdigit() or int(rule["tag_id"]) not in self.tag_names):
            return self._refuse(path, 40097, "invalid args: unknown tag_id", body)
        if not _menu_size_ok(body):
            return self._refuse(path, 40016, "invalid button size", body)
        if not _menu_names_ok(body):
            return self._refuse(path, 40018, "invalid button name size", body)
        self._ids += 1
        self.conditional_menus.append({"button": body.get("button"), "matchrule": rule, "menuid": self._ids})
        return web.json_response({"menuid": str(self._ids)})

    async def _menu_del_conditional(self, request: web.Request) -> web.Response:
        path = "/cgi-bin/menu/delconditional"
        body = await self._json(request)
        if not self._authorised(request):
            return self._refuse(path, 40001, "invalid access_token", body)
        kept = [m for m in self.conditional_menus if str(m["menuid"]) != str(body.get("menuid", ""))]
        if len(kept) == len(self.conditional_menus):
            return self._refuse(path, 65301, "no such conditional menu", body)
        self.conditional_menus = kept
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def _menu_trymatch(self, request: web.Request) -> web.Response:
        path = "/cgi-bin/menu/trymatch"
        body = await self._json(request)
        if not self._authorised(request):
            return self._refuse(path, 40001, "invalid access_token", body)
        account = self.accounts.get(str(body.get("user_id", "")))
        if account is None:
            return self._refuse(path, 65302, "no such user", body)
        return web.json_response({"button": (self.menu_of(account.openid) or {}).get("button") or []})

    def menu_of(self, openid: str) -> dict[str, Any] | None:
        """The menu a follower sees: the newest conditional menu whose tag is the last one put on them, else the
        default menu."""
        account = self.accounts.get(openid)
        last = account.tags[-1] if account is not None and account.tags else None
        for candidate in reversed(self.conditional_menus):
            if last is not None and candidate["matchrule"].get("tag_id") == str(last):
                chosen: dict[str, Any] = candidate
                return chosen
        return self.menu

    def menu_keys(self, openid: str) -> dict[str, str]:
        """The click keys of the menu a follower sees, key → the button's name."""
        keys: dict[str, str] = {}
        for button in (self.menu_of(openid) or {}).get("button") or []:
            for item in [button, *(button.get("sub_button") or [])]:
                if item.get("key"):
                    keys[str(item["key"])] = str(item.get("name", ""))
        return keys

    # -- user tags --

    async def _tags_get(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._refuse("/cgi-bin/tags/get", 40001, "invalid access_token", dict(request.query))
        tags = [
            {"id": tag_id, "name": name, "count": sum(tag_id in a.tags for a in self.accounts.values())}
            for tag_id, name in self.tag_names.items()
        ]
        return web.json_response({"tags": tags})

    async def _tags_create(self, request: web.Request) -> web.Response:
        path = "/cgi-bin/tags/create"
        body = await self._json(request)
        if not self._authorised(request):
            return self._refuse(path, 40001, "invalid access_token", body)
        name = str((body.get("tag") or {}).get("name", ""))
        if not name or len(name.encode()) > TAG_NAME_BYTES:
            return self._refuse(path, 45158, "tag name too long", body)
        if name in self.tag_names.values():
            return self._refuse(path, 45157, "invalid tag name", body)
        if len(self.tag_names) >= TAGS_MAX:
            return self._refuse(path, 45056, "too many tags now, no need to add new", body)
        self._ids += 1
        self.tag_names[self._ids] = name
        return web.json_response({"tag": {"id": self._ids, "name": name}})

    async def _tags_batch(self, request: web.Request) -> web.Response:
        path = request.path
        body = await self._json(request)
        if not self._authorised(request):
            return self._refuse(path, 40001, "invalid access_token", body)
        openids = [str(o) for o in body.get("openid_list") or []]
        if not 1 <= len(openids) <= TAG_BATCH:
            return self._refuse(path, 40032, "invalid openid list size", body)
        tag_id = body.get("tagid")
        if not isinstance(tag_id, int) or tag_id not in self.tag_names or tag_id in (0, 1, 2):
            return self._refuse(path, 45159, "invalid tag id", body)
        accounts = [self.accounts.get(openid) for openid in openids]
        if any(a is None for a in accounts):
            return self._refuse(path, 40003, "invalid openid", body)
        tagging = path.endswith("/batchtagging")
        for account in accounts:
            assert account is not None
            if tagging and tag_id not in account.tags and len(account.tags) >= TAGS_PER_USER:
                return self._refuse(path, 45059, "fans tag count out of limit", body)
        for account in accounts:
            assert account is not None
            if tag_id in account.tags:
                account.tags.remove(tag_id)
            if tagging:
                account.tags.append(tag_id)
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def _tags_of_user(self, request: web.Request) -> web.Response:
        path = "/cgi-bin/tags/getidlist"
        body = await self._json(request)
        if not self._authorised(request):
            return self._refuse(path, 40001, "invalid access_token", body)
        account = self.accounts.get(str(body.get("openid", "")))
        if account is None:
            return self._refuse(path, 40003, "invalid openid", body)
        return web.json_response({"tagid_list": list(account.tags)})

    # -- parametric QR codes --

    async def _qr_create(self, request: web.Request) -> web.Response:
        path = "/cgi-bin/qrcode/create"
        body = await self._json(request)
        if not self._authorised(request):
            return self._refuse(path, 40001, "invalid access_token", body)
        action = body.get("action_name")
        scene = str(((body.get("action_info") or {}).get("scene") or {}).get("scene_str", ""))
        if action not in ("QR_STR_SCENE", "QR_LIMIT_STR_SCENE") or not 1 <= len(scene) <= QR_SCENE_MAX:
            return self._refuse(path, 40097, "invalid args: action_name or scene_str", body)
        expires_at: dt.datetime | None = None
        seconds: int | None = None
        if action == "QR_STR_SCENE":
            raw = body.get("expire_seconds", QR_DEFAULT_SECONDS)
            if not isinstance(raw, int) or not 1 <= raw <= QR_MAX_SECONDS:
                return self._refuse(path, 40097, "invalid args: expire_seconds", body)
            seconds = raw
            expires_at = self.now() + dt.timedelta(seconds=raw)
        elif sum(q.expires_at is None for q in self.qr_codes.values()) >= QR_PERMANENT_MAX:
            return self._refuse(path, 40097, "invalid args: too many permanent QR codes", body)
        ticket = secrets.token_urlsafe(36)
        url = f"http://weixin.qq.com/q/{secrets.token_urlsafe(16)}"
        self.qr_codes[ticket] = QrTicket(scene, expires_at, url)
        answer: dict[str, Any] = {"ticket": ticket, "url": url}
        if seconds is not None:
            answer["expire_seconds"] = seconds
        return web.json_response(answer)

    def live_qr(self, ticket: str) -> QrTicket | None:
        """The QR code behind a ticket while it works."""
        found = self.qr_codes.get(ticket)
        if found is None or (found.expires_at is not None and self.now() >= found.expires_at):
            return None
        return found

    async def _qr_show(self, request: web.Request) -> web.Response:
        found = self.live_qr(request.query.get("ticket", ""))
        if found is None:
            return web.Response(status=404, text="not found")
        image = io.BytesIO()
        segno.make(found.url, error="m").save(image, kind="png", scale=6)
        content = image.getvalue()
        self._qr_images[hashlib.sha256(content).hexdigest()] = request.query.get("ticket", "")
        return web.Response(body=content, content_type="image/png")

    def ticket_of(self, image: bytes) -> str:
        """The ticket of a QR image showqrcode served (what a camera reads from it), for a person's scan."""
        ticket = self._qr_images.get(hashlib.sha256(image).hexdigest())
        if ticket is None:
            raise AssertionError("not a QR code of this account")
        return ticket

    async def _detail(self, request: web.Request) -> web.Response:
        return web.Response(text="detail page", content_type="text/plain")

    def store_media(self, content: bytes) -> str:
        """Keep a file as WeChat does for 3 days; its media_id."""
        media_id = f"m{secrets.token_hex(12)}"
        self.media[media_id] = (content, self.now())
        return media_id

    def _changed(self) -> None:
        self.changed.set()

    async def next_change(self, poll: float = 0.05) -> None:
        """Until the bot sends someone something (`changed`), or `poll` seconds at most: a test waiting for a message
        looks again as soon as one arrives instead of on the next 50 ms tick."""
        self.changed.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.changed.wait(), poll)

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
            await self.sim.next_change()

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

    async def send_voice(self, content: bytes = b"#!AMR\n", *, recognition: str | None = None) -> tuple[int, str]:
        """Send a voice message: WeChat keeps it as temporary media (amr) and tells the bot its media_id; the words
        it recognised come along only where the account switched speech recognition on (接收普通消息 · 语音消息:
        https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html)."""
        media_id = self.sim.store_media(content)
        fields = {"MediaId": media_id, "Format": "amr", **({"Recognition": recognition} if recognition else {})}
        return await self._send(self._xml("voice", fields), shown=Received("voice", media_id))

    async def click(self, key: str) -> tuple[int, str]:
        """Press a custom-menu button of type click: one of the menu this person sees (`menu_of`), once a menu is
        set."""
        if self.sim.menu is not None and key not in (keys := self.sim.menu_keys(self.openid)):
            raise AssertionError(f"{self.name}'s menu has no button {key!r}: {keys}")
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

    async def scan(self, image: bytes) -> tuple[int, str] | None:
        """Scan a parametric QR code of the account (its image, as showqrcode served it). A working code makes a
        person who does not follow yet follow (`subscribe`, EventKey `qrscene_<scene>`) and a follower's scan is
        `SCAN` (EventKey `<scene>`), each with the Ticket; an expired code shows WeChat's own page and sends the
        account nothing (None)."""
        ticket = self.sim.ticket_of(image)
        found = self.sim.live_qr(ticket)
        if found is None:
            return None
        account = self.sim.accounts[self.openid]
        if account.following:
            fields = {"Event": "SCAN", "EventKey": found.scene, "Ticket": ticket}
        else:
            account.following = True
            fields = {"Event": "subscribe", "EventKey": f"qrscene_{found.scene}", "Ticket": ticket}
        xml = self._xml("event", fields, msg_id=False)
        return await self._send(xml, shown=Received("event", f"scan {found.scene}"))

    async def subscribe(self, template_ids: list[str], *, accept: bool = True) -> tuple[int, str]:
        """Answer a subscription popup (the subscribe component in an article or page of the account): each
        template accepted or rejected; WeChat keeps the choice and pushes subscribe_msg_popup_event (PopupScene 2:
        an article)."""
        status = "accept" if accept else "reject"
        for template_id in template_ids:
            self.sim.consent(self.openid, template_id, accept=accept)
        entries = "".join(
            f"<List><TemplateId><![CDATA[{t}]]></TemplateId><SubscribeStatusString><![CDATA[{status}]]>"
            "</SubscribeStatusString><PopupScene>2</PopupScene></List>"
            for t in template_ids
        )
        xml = self._xml("event", {"Event": "subscribe_msg_popup_event"}, msg_id=False)
        raw = f"<SubscribeMsgPopupEvent>{entries}</SubscribeMsgPopupEvent>"
        return await self._send(xml[: -len("</xml>")] + raw + "</xml>", shown=Received("event", f"订阅 {status}"))

    async def turn_off(self, template_id: str) -> tuple[int, str]:
        """Turn a subscription off in the 服务通知 settings: WeChat forgets it and pushes subscribe_msg_change_event
        with reject."""
        self.sim.consent(self.openid, template_id, accept=False)
        entry = (
            f"<List><TemplateId><![CDATA[{template_id}]]></TemplateId>"
            "<SubscribeStatusString><![CDATA[reject]]></SubscribeStatusString></List>"
        )
        xml = self._xml("event", {"Event": "subscribe_msg_change_event"}, msg_id=False)
        raw = f"<SubscribeMsgChangeEvent>{entry}</SubscribeMsgChangeEvent>"
        return await self._send(xml[: -len("</xml>")] + raw + "</xml>", shown=Received("event", "退订"))

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
            await self.sim.next_change()

    async def wait_for_text(self, text: str, timeout: float = 10.0, *, after: int = 0) -> Received:  # noqa: ASYNC109
        """The first message after the first `after` ones whose text or menu contains `text`."""
        return await self.wait_for(lambda r: text in (r.text + str(r.items) + r.tail), timeout, after=after)
