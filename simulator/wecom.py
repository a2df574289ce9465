"""WeCom's (企业微信) side of a self-built application (自建应用), for tests: no maintained WeCom simulator exists.
Written from WeCom's server-side API documentation, developer.work.weixin.qq.com (paths below are
`/document/path/<n>`).

`WeComSimulator` is both halves of WeCom:
- the API the bot calls (`api_url`):
  - `GET /cgi-bin/gettoken?corpid&corpsecret` (path/91039 "获取access_token"): a token valid `expires_in` 7200 s;
    a wrong secret 40001, an unknown corp id 40013. A token WeCom revoked answers 42001 ("access_token已过期") and
    one it never issued 40014 (path/96213 "全局错误码").
  - `POST /cgi-bin/message/send` (path/90236 "发送应用消息"): `touser` (members joined by `|`, at most 1000),
    `msgtype` and its body, `agentid` (this application's, else 301002). Text content at most 2048 bytes (else
    44004 for empty, 40058 past it). Template cards (模板卡片消息) of the button-interaction kind (按钮交互型,
    path/90236 and the card structures of path/101032 "模板卡片类型"): `task_id` required, at most 128 bytes of
    digits, letters and `_-@`, never used before by the application (else 40058 here); `main_title.title` required,
    at most 26 characters, its `desc` at most 44; `source.desc` at most 13; `sub_title_text` at most 160; a
    `button_list` of 1 to 6 buttons, each with a `text` of at most 10 characters, a `style` 1 to 4 when given, and a
    `key` of at most 1024 bytes. The answer carries a `response_code` for such a card. Members the application
    does not know are named in `invaliduser`; when no
    recipient is valid, 81013.
  - `POST /cgi-bin/message/update_template_card` (path/94888 "更新模版卡片消息"): a `response_code` from
    `message/send` or from a press's callback, usable ONCE and only within 72 hours (else refused, 40058 here);
    `button.replace_name` turns the buttons of the named members' cards into one unpressable button with that text
    (at most 10 characters, as a button's text; `userids` at most 1000).
  - `GET /cgi-bin/media/get?access_token&media_id` (path/90254 "获取临时素材"): the bytes of a file a member sent
    (kept 3 days); an unknown or expired media id answers JSON 40007.
  - `POST /cgi-bin/menu/create?access_token&agentid` (path/90231 "创建菜单"): the application's one menu, for every
    member: `button` 1 to 3 first-level buttons (else 40016), each either a `sub_button` list of 1 to 5 (40016) or
    an action; a name not empty and at most 16 bytes on the first level, 40 bytes below (40018); `type` `click`
    (a `key` of at most 128 bytes, 40019) or `view` (a `url` of at most 256 bytes, 40020), others 40017 here; an
    `agentid` not this application's 301002. A click reaches the bot as a `click` event with the key (path/90240).
  - `POST /cgi-bin/media/upload?access_token&type` (path/90253 "上传临时素材"): multipart, the file in the field
    `media` with its filename (the name the member sees on a file message); every file larger than 5 bytes; an
    image (`image`) a JPG or PNG of at most 2 MB (the limit the page gave for years; it now says 10 MB: the stricter
    is kept), a `file` at most 20 MB, anything else 40005/40006 here; the media id lives 3 days. Image messages
    (`msgtype` `image`) and file messages (`file`) carry such a `media_id` (path/90236); an unknown or expired one,
    or an image message whose medium is not an image, is refused with 40007.
  - `GET /cgi-bin/agent/get?access_token&agentid` (path/90227 "获取指定的应用详情"): the application's visible
    range (可见范围): `allow_userinfos.user[].userid` (members named one by one) and `allow_partys.partyid` (whole
    departments); an agentid not this application's 301002.
  - `GET /cgi-bin/user/simplelist?access_token&department_id` (path/90200 "获取部门成员"): the members of one
    department, `userlist[]` of `userid`, `name`, `department` ("应用须拥有指定部门的查看权限": a department outside
    the visible range 60011 "无权限", an unknown one 60003 "部门不存在", a missing or non-numeric id 40058). Only the
    department's own members (sub-departments are asked one by one, path/90200; none are modelled). A member
    outside the visible range is not the application's: `message/send` names them in `invaliduser`.
  - Sending limits (path/90312 "频率限制", 发送应用消息频率): an application may send one member at most 30
    messages a minute ("超过部分会被丢弃不下发": WeCom drops them; here they are refused with 45009 and recorded,
    stricter than WeCom), and at most the corporation's seat limit × 200 recipients a day (`seats`, 45009 past it).
- the callbacks (path/90238 "接收消息与事件", path/90930 "回调配置" for the signature and the AES scheme, which is
  WeChat's safe mode with the corp id as receiver): members' messages and presses on template cards
  (`template_card_event`, path/90240 "模板卡片事件推送": `EventKey` the button's key, `TaskId`, `CardType`,
  `ResponseCode`), image messages (`MsgType` image with `PicUrl` and `MediaId`, path/90239 "消息格式"),
  encrypted and signed (`msg_signature`, `timestamp`, `nonce`), posted to the bot's URL; the URL
  check is a `GET` with an encrypted `echostr`. A card whose buttons were replaced cannot be pressed.

Every breach is recorded in `refusals` (a test asserts it stays empty). Time is `now()` (the bot's clock).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

import aiohttp
import xmltodict
from aiohttp import web
from wechatpy.crypto import _get_signature
from wechatpy.enterprise.crypto import WeChatCrypto

from simulator.wechat import Refusal  # the same record of a refused request

TOKEN_LIFETIME = 7200
TEXT_BYTES = 2048
TASK_ID = re.compile(r"[0-9A-Za-z_@-]{1,128}")
BUTTONS_MAX = 6
BUTTON_TEXT_MAX = 10
TITLE_MAX = 26
TITLE_DESC_MAX = 44
SOURCE_DESC_MAX = 13
SUB_TITLE_MAX = 160
MEDIA_LIFETIME = dt.timedelta(days=3)
BUTTON_KEY_BYTES = 1024
RESPONSE_CODE_LIFETIME = dt.timedelta(hours=72)
PER_MEMBER_MINUTE = 30
PER_SEAT_DAY = 200
RECIPIENTS_MAX = 1000
INVALID_PARAMETER = 40058
RATE_LIMITED = 45009
MENU_BUTTONS_MAX = 3
MENU_SUB_BUTTONS_MAX = 5
MENU_NAME_BYTES = 16
MENU_SUB_NAME_BYTES = 40
MENU_KEY_BYTES = 128
MENU_URL_BYTES = 256
UPLOAD_MIN_BYTES = 6  # "所有文件size必须大于5个字节"
UPLOAD_MAX_BYTES = {"image": 2 * 1024 * 1024, "file": 20 * 1024 * 1024}
UPLOAD_LIFETIME = dt.timedelta(days=3)
INVALID_MEDIA_ID = 40007
ROOT_DEPARTMENT = 1  # the corporation itself (path/90200's example)
NO_PRIVILEGE = 60011  # 指定的成员/部门/标签参数无权限 (path/96213)
NO_DEPARTMENT = 60003  # 部门不存在 (path/96213)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Card:
    """A template card as a member sees it: its buttons (text, key) until an update replaced them."""

    task_id: str
    title: str
    buttons: list[tuple[str, str]]
    replaced: str | None = None
    body: str = ""


@dataclass
class Received:
    """An application message a member received."""

    kind: str  # text | template_card
    text: str = ""
    card: Card | None = None
    at: dt.datetime | None = None


@dataclass
class Code:
    """A response code: which card it updates, for whom, since when, and whether it was used."""

    task_id: str
    issued_at: dt.datetime
    used: bool = False


@dataclass
class Upload:
    """A temporary medium the bot uploaded (media/upload): its type, the filename members see, its bytes."""

    kind: str
    filename: str
    content: bytes
    at: dt.datetime


def _menu_button_refusal(button: Any, name_bytes: int, *, sub: bool = False) -> tuple[int, str] | None:
    """Why WeCom would refuse this menu button (path/90231), or None."""
    if not isinstance(button, dict):
        return 40017, "a button is an object"
    name = str(button.get("name") or "")
    if not name or len(name.encode()) > name_bytes:
        return 40018, f"name: not empty, at most {name_bytes} bytes"
    if not sub and "sub_button" in button:
        return None
    kind = button.get("type")
    if kind == "click":
        key = str(button.get("key") or "")
        if not key or len(key.encode()) > MENU_KEY_BYTES:
            return 40019, "key: not empty, at most 128 bytes"
    elif kind == "view":
        url = str(button.get("url") or "")
        if not url or len(url.encode()) > MENU_URL_BYTES:
            return 40020, "url: not empty, at most 256 bytes"
    else:
        return 40017, f"type {kind!r} not modelled (click, view)"
    return None


@dataclass
class Member:
    userid: str
    inbox: list[Received] = field(default_factory=list)
    sent_at: list[dt.datetime] = field(default_factory=list)


class WeComSimulator:
    """The API server and the callback sender; `start()` / `stop()`."""

    def __init__(
        self,
        *,
        corp_id: str = "ww_sim_corp",
        agent_id: int = 1000002,
        secret: str = "sim-wecom-secret",
        token: str = "sim-wecom-token",
        aes_key: str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopq",
        seats: int = 200,
        now: Callable[[], dt.datetime] = _utcnow,
    ) -> None:
        self.corp_id = corp_id
        self.agent_id = agent_id
        self.secret = secret
        self.token = token
        self.aes_key = aes_key
        self.seats = seats
        self.now = now
        self.crypto = WeChatCrypto(token, aes_key, corp_id)
        self.callback_url: str | None = None
        self.members: dict[str, Member] = {}
        self.refusals: list[Refusal] = []
        self.tokens: set[str] = set()
        self.expired: set[str] = set()
        self.token_calls = 0
        self.task_ids: set[str] = set()
        self.codes: dict[str, Code] = {}
        self.uploads: dict[str, Upload] = {}  # media/upload: media id → what the bot uploaded
        self.menu: dict[str, Any] | None = None  # the application's menu, as menu/create last set it
        self.media: dict[str, tuple[bytes, dt.datetime]] = {}  # media id → (bytes, uploaded at)
        self.listeners: list[Callable[[str], None]] = []  # told the userid whenever a member's inbox changed
        # The corporation's address book: department id → {userid: name}; the application sees the departments in
        # `visible_departments` and the members in `visible_userids` (its 可见范围, path/90227).
        self.departments: dict[int, dict[str, str]] = {ROOT_DEPARTMENT: {}}
        self.visible_departments: set[int] = {ROOT_DEPARTMENT}
        self.visible_userids: set[str] = set()
        self._day_count: dict[dt.date, int] = {}
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None
        self.port: int | None = None

    # -- lifecycle --------------------------------------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        """Where the bot's WECOM_API_URL should point."""
        return f"http://127.0.0.1:{self.port}"

    def settings(self, callback_port: int = 0, admins: str = "") -> dict[str, object]:
        """The bot settings that connect it to this simulator."""
        return {
            "wecom_corp_id": self.corp_id,
            "wecom_agent_id": self.agent_id,
            "wecom_secret": self.secret,
            "wecom_token": self.token,
            "wecom_aes_key": self.aes_key,
            "wecom_api_url": self.api_url,
            "wecom_host": "127.0.0.1",
            "wecom_port": callback_port,
            "wecom_admin_userids": admins,
        }

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Serve the API."""
        app = web.Application(client_max_size=UPLOAD_MAX_BYTES["file"] * 2)  # media/upload takes 20 MB files
        app.router.add_get("/cgi-bin/gettoken", self._gettoken)
        app.router.add_post("/cgi-bin/message/send", self._send)
        app.router.add_post("/cgi-bin/message/update_template_card", self._update_card)
        app.router.add_post("/cgi-bin/menu/create", self._menu_create)
        app.router.add_post("/cgi-bin/media/upload", self._media_upload)
        app.router.add_get("/cgi-bin/media/get", self._media_get)
        app.router.add_get("/cgi-bin/agent/get", self._agent_get)
        app.router.add_get("/cgi-bin/user/simplelist", self._user_simplelist)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        sockets = getattr(site._server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else port
        self._http = aiohttp.ClientSession()

    async def stop(self) -> None:
        """Stop serving."""
        if self._http is not None:
            await self._http.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def member(self, name: str, userid: str, department: int = ROOT_DEPARTMENT) -> WeComMember:
        """A member of the corporation within the application's visible range (in `department`, which the
        application then sees)."""
        self.departments.setdefault(department, {})[userid] = name
        self.visible_departments.add(department)
        self.members.setdefault(userid, Member(userid))
        return WeComMember(self, name, userid)

    def outsider(self, name: str, userid: str, department: int) -> None:
        """A member of the corporation in a department the application does not see: not the application's."""
        if department in self.visible_departments:
            raise ValueError(f"department {department} is within the application's visible range")
        self.departments.setdefault(department, {})[userid] = name

    def expire_tokens(self) -> None:
        """WeCom revokes every token issued so far (calls with one answer 42001)."""
        self.expired |= self.tokens
        self.tokens = set()

    # -- API side ---------------------------------------------------------------------------------------------------

    def _refuse(self, path: str, errcode: int, reason: str, body: dict[str, Any]) -> web.Response:
        self.refusals.append(Refusal(path, errcode, reason, body))
        return web.json_response({"errcode": errcode, "errmsg": reason})

    def _token_refusal(self, path: str, request: web.Request) -> web.Response | None:
        token = request.query.get("access_token", "")
        if token in self.tokens:
            return None
        if token in self.expired:
            # Not a breach: a token may expire at any time, and the caller is expected to fetch a new one.
            return web.json_response({"errcode": 42001, "errmsg": "access_token expired"})
        return self._refuse(path, 40014, "invalid access_token", {})

    async def _gettoken(self, request: web.Request) -> web.Response:
        self.token_calls += 1
        query = request.query
        if query.get("corpid") != self.corp_id:
            return self._refuse("/cgi-bin/gettoken", 40013, "invalid corpid", {})
        if query.get("corpsecret") != self.secret:
            return self._refuse("/cgi-bin/gettoken", 40001, "invalid credential", {})
        token = secrets.token_hex(16)
        self.tokens.add(token)
        return web.json_response({"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": TOKEN_LIFETIME})

    async def _json(self, request: web.Request) -> dict[str, Any]:
        try:
            body = json.loads((await request.read()).decode())
        except ValueError:
            return {}
        return body if isinstance(body, dict) else {}

    async def _send(self, request: web.Request) -> web.Response:
        path = "/cgi-bin/message/send"
        if (refused := self._token_refusal(path, request)) is not None:
            return refused
        body = await self._json(request)
        if body.get("agentid") != self.agent_id:
            return self._refuse(path, 301002, "agentid does not match the token's application", body)
        userids = [u for u in str(body.get("touser") or "").split("|") if u]
        if not userids or len(userids) > RECIPIENTS_MAX:
            return self._refuse(path, INVALID_PARAMETER, "touser: 1 to 1000 members", body)
        msgtype = body.get("msgtype")
        content = body.get(str(msgtype))
        if not isinstance(content, dict):
            return self._refuse(path, INVALID_PARAMETER, "no message body", body)
        received: Received
        if msgtype == "text":
            text = str(content.get("content") or "")
            if not text:
                return self._refuse(path, 44004, "empty content", body)
            if len(text.encode()) > TEXT_BYTES:
                return self._refuse(path, INVALID_PARAMETER, "text over 2048 bytes", body)
            received = Received("text", text)
        elif msgtype == "template_card":
            card_or_refusal = self._card(path, content, body)
            if isinstance(card_or_refusal, web.Response):
                return card_or_refusal
            received = Received("template_card", card_or_refusal.title, card_or_refusal)
        elif msgtype in ("image", "file"):
            media_id = str(content.get("media_id") or "")
            upload = self.uploads.get(media_id)
            if upload is None or self.now() - upload.at >= UPLOAD_LIFETIME or upload.kind != msgtype:
                return self._refuse(path, INVALID_MEDIA_ID, f"invalid media_id for an {msgtype} message", body)
            received = Received(str(msgtype), media_id)  # the text is the media id: `uploads` holds the file
        else:
            return self._refuse(path, INVALID_PARAMETER, f"msgtype {msgtype!r} not modelled", body)
        now = self.now()
        valid = [u for u in userids if u in self.members]
        invalid = [u for u in userids if u not in self.members]
        if not valid:
            return self._refuse(path, 81013, "user & party & tag all invalid", body)
        day = now.date()
        if self._day_count.get(day, 0) + len(valid) > self.seats * PER_SEAT_DAY:
            return self._refuse(path, RATE_LIMITED, "the application's recipients of the day are spent", body)
        for userid in valid:
            member = self.members[userid]
            member.sent_at = [t for t in member.sent_at if now - t < dt.timedelta(minutes=1)]
            if len(member.sent_at) >= PER_MEMBER_MINUTE:
                return self._refuse(path, RATE_LIMITED, f"over 30 messages a minute to {userid}", body)
        self._day_count[day] = self._day_count.get(day, 0) + len(valid)
        answer: dict[str, Any] = {
            "errcode": 0,
            "errmsg": "ok",
            "invaliduser": "|".join(invalid),
            "msgid": secrets.token_hex(8),
        }
        if received.card is not None:
            self.task_ids.add(received.card.task_id)
            code = secrets.token_urlsafe(24)
            self.codes[code] = Code(received.card.task_id, now)
            answer["response_code"] = code
        for userid in valid:
            member = self.members[userid]
            member.sent_at.append(now)
            copy = Received(received.kind, received.text, _copy(received.card), at=now)
            member.inbox.append(copy)
            self._changed(userid)
        return web.json_response(answer)

    def _card(self, path: str, content: dict[str, Any], body: dict[str, Any]) -> Card | web.Response:
        if content.get("card_type") != "button_interaction":
            return self._refuse(path, INVALID_PARAMETER, "card_type not modelled", body)
        task_id = str(content.get("task_id") or "")
        if not TASK_ID.fullmatch(task_id):
            return self._refuse(path, INVALID_PARAMETER, "task_id: 1-128 bytes of 0-9 A-Z a-z _ - @", body)
        if task_id in self.task_ids:
            return self._refuse(path, INVALID_PARAMETER, "task_id used before by this application", body)
        buttons = content.get("button_list")
        if not isinstance(buttons, list) or not 1 <= len(buttons) <= BUTTONS_MAX:
            return self._refuse(path, INVALID_PARAMETER, "button_list: 1 to 6 buttons", body)
        shown: list[tuple[str, str]] = []
        for button in buttons:
            if not isinstance(button, dict):
                return self._refuse(path, INVALID_PARAMETER, "a button is an object", body)
            text, key = str(button.get("text") or ""), str(button.get("key") or "")
            if not text or not key or len(key.encode()) > BUTTON_KEY_BYTES:
                return self._refuse(
                    path, INVALID_PARAMETER, "a button needs a text and a key of at most 1024 bytes", body
                )
            if len(text) > BUTTON_TEXT_MAX:
                return self._refuse(path, INVALID_PARAMETER, "a button's text: at most 10 characters", body)
            if button.get("style") is not None and button.get("style") not in (1, 2, 3, 4):
                return self._refuse(path, INVALID_PARAMETER, "a button's style: 1 to 4", body)
            shown.append((text, key))
        main_title = content.get("main_title")
        title = str(main_title.get("title") or "") if isinstance(main_title, dict) else ""
        if not title or len(title) > TITLE_MAX:
            return self._refuse(path, INVALID_PARAMETER, "main_title.title: required, at most 26 characters", body)
        if isinstance(main_title, dict) and len(str(main_title.get("desc") or "")) > TITLE_DESC_MAX:
            return self._refuse(path, INVALID_PARAMETER, "main_title.desc: at most 44 characters", body)
        source = content.get("source")
        if source is not None and (
            not isinstance(source, dict) or len(str(source.get("desc") or "")) > SOURCE_DESC_MAX
        ):
            return self._refuse(path, INVALID_PARAMETER, "source.desc: at most 13 characters", body)
        sub_title = content.get("sub_title_text")
        if sub_title is not None and (not isinstance(sub_title, str) or len(sub_title) > SUB_TITLE_MAX):
            return self._refuse(path, INVALID_PARAMETER, "sub_title_text: at most 160 characters", body)
        return Card(task_id, title, shown, body=str(sub_title or ""))

    async def _update_card(self, request: web.Request) -> web.Response:
        path = "/cgi-bin/message/update_template_card"
        if (refused := self._token_refusal(path, request)) is not None:
            return refused
        body = await self._json(request)
        if body.get("agentid") != self.agent_id:
            return self._refuse(path, 301002, "agentid does not match the token's application", body)
        code = self.codes.get(str(body.get("response_code") or ""))
        now = self.now()
        if code is None:
            return self._refuse(path, INVALID_PARAMETER, "unknown response_code", body)
        if code.used:
            return self._refuse(path, INVALID_PARAMETER, "response_code already used (one update each)", body)
        if now - code.issued_at >= RESPONSE_CODE_LIFETIME:
            return self._refuse(path, INVALID_PARAMETER, "response_code older than 72 hours", body)
        replace = str((body.get("button") or {}).get("replace_name") or "")
        if not replace:
            return self._refuse(
                path, INVALID_PARAMETER, "button.replace_name is required (the only update modelled)", body
            )
        if len(replace) > BUTTON_TEXT_MAX:
            return self._refuse(path, INVALID_PARAMETER, "button.replace_name: at most 10 characters", body)
        if not isinstance(body.get("userids"), list) or not 1 <= len(body["userids"]) <= RECIPIENTS_MAX:
            return self._refuse(path, INVALID_PARAMETER, "userids: 1 to 1000 members", body)
        code.used = True
        userids = [str(u) for u in body.get("userids") or []]
        for userid in userids:
            for received in self.members.get(userid, Member(userid)).inbox:
                if received.card is not None and received.card.task_id == code.task_id:
                    received.card.replaced = replace
            self._changed(userid)
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    def _changed(self, userid: str) -> None:
        for listener in list(self.listeners):
            listener(userid)

    async def _media_get(self, request: web.Request) -> web.Response:
        path = "/cgi-bin/media/get"
        if (refused := self._token_refusal(path, request)) is not None:
            return refused
        found = self.media.get(request.query.get("media_id", ""))
        if found is None or self.now() - found[1] >= MEDIA_LIFETIME:
            return self._refuse(path, 40007, "invalid media_id", {"media_id": request.query.get("media_id", "")})
        return web.Response(body=found[0], content_type="image/jpeg")

    async def _agent_get(self, request: web.Request) -> web.Response:
        path = "/cgi-bin/agent/get"
        if (refused := self._token_refusal(path, request)) is not None:
            return refused
        if request.query.get("agentid") != str(self.agent_id):
            return self._refuse(path, 301002, "agentid is not this application's", dict(request.query))
        return web.json_response(
            {
                "errcode": 0,
                "errmsg": "ok",
                "agentid": self.agent_id,
                "name": "同心工作台",
                "allow_userinfos": {"user": [{"userid": u} for u in sorted(self.visible_userids)]},
                "allow_partys": {"partyid": sorted(self.visible_departments)},
                "allow_tags": {"tagid": []},
                "close": 0,
            }
        )

    async def _user_simplelist(self, request: web.Request) -> web.Response:
        path = "/cgi-bin/user/simplelist"
        if (refused := self._token_refusal(path, request)) is not None:
            return refused
        word = request.query.get("department_id", "")
        if not word.isdecimal():
            return self._refuse(
                path, INVALID_PARAMETER, "department_id: required, a department's id", dict(request.query)
            )
        department = int(word)
        if department not in self.departments:
            return self._refuse(path, NO_DEPARTMENT, "department not found", dict(request.query))
        if department not in self.visible_departments:
            return self._refuse(path, NO_PRIVILEGE, "no privilege to access the department", dict(request.query))
        users = [
            {"userid": userid, "name": name, "department": [department]}
            for userid, name in self.departments[department].items()
        ]
        return web.json_response({"errcode": 0, "errmsg": "ok", "userlist": users})

    async def _menu_create(self, request: web.Request) -> web.Response:
        path = "/cgi-bin/menu/create"
        if (refused := self._token_refusal(path, request)) is not None:
            return refused
        body = await self._json(request)
        if request.query.get("agentid") != str(self.agent_id):
            return self._refuse(path, 301002, "agentid is not this application's", body)
        buttons = body.get("button")
        if not isinstance(buttons, list) or not 1 <= len(buttons) <= MENU_BUTTONS_MAX:
            return self._refuse(path, 40016, "button: 1 to 3 first-level buttons", body)
        for button in buttons:
            if (reason := _menu_button_refusal(button, MENU_NAME_BYTES)) is not None:
                return self._refuse(path, reason[0], reason[1], body)
            subs = button.get("sub_button")
            if subs is None:
                continue
            if not isinstance(subs, list) or not 1 <= len(subs) <= MENU_SUB_BUTTONS_MAX:
                return self._refuse(path, 40016, "sub_button: 1 to 5 buttons", body)
            for sub in subs:
                if (reason := _menu_button_refusal(sub, MENU_SUB_NAME_BYTES, sub=True)) is not None:
                    return self._refuse(path, reason[0], reason[1], body)
        self.menu = body
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def _media_upload(self, request: web.Request) -> web.Response:
        path = "/cgi-bin/media/upload"
        if (refused := self._token_refusal(path, request)) is not None:
            return refused
        kind = request.query.get("type", "")
        if kind not in UPLOAD_MAX_BYTES:
            return self._refuse(path, 40005, f"type {kind!r} not modelled (image, file)", {})
        try:
            form = await request.post()
        except ValueError:
            return self._refuse(path, 40005, "not multipart/form-data", {})
        field = form.get("media")
        if not isinstance(field, web.FileField):
            return self._refuse(path, 40005, "no file in the field 'media'", {})
        content = field.file.read(UPLOAD_MAX_BYTES[kind] + 1)
        if not UPLOAD_MIN_BYTES <= len(content) <= UPLOAD_MAX_BYTES[kind]:
            return self._refuse(path, 40006, f"{kind}: more than 5 bytes, at most {UPLOAD_MAX_BYTES[kind]}", {})
        if kind == "image" and not content.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8")):
            return self._refuse(path, 40005, "image: JPG or PNG only", {})
        media_id = secrets.token_urlsafe(24)
        now = self.now()
        self.uploads[media_id] = Upload(kind, field.filename or "", content, now)
        answer = {"errcode": 0, "errmsg": "ok", "type": kind, "media_id": media_id}
        return web.json_response({**answer, "created_at": str(int(now.timestamp()))})

    # -- callback side ----------------------------------------------------------------------------------------------

    def signed(self, xml: str, *, nonce: str | None = None, timestamp: int | None = None) -> tuple[dict[str, str], str]:
        """The query and body WeCom posts for this XML (encrypted, signed)."""
        stamp = str(timestamp if timestamp is not None else int(self.now().timestamp()))
        nonce = nonce or secrets.token_hex(5)
        body = self.crypto.encrypt_message(xml, nonce, stamp)
        signature = str(xmltodict.parse(body)["xml"]["MsgSignature"])
        return {"msg_signature": signature, "timestamp": stamp, "nonce": nonce}, body

    async def post(self, query: dict[str, str], body: str) -> tuple[int, str]:
        """Post one callback to the bot as it is."""
        if self.callback_url is None or self._http is None:
            raise RuntimeError("start the simulator and point callback_url at the bot first")
        async with self._http.post(self.callback_url, params=query, data=body.encode()) as response:
            return response.status, await response.text()

    async def verify_url(self) -> tuple[int, str, str]:
        """WeCom's check of the callback URL: a GET with an encrypted echostr; (status, answer, the plain echostr)."""
        assert self.callback_url is not None
        assert self._http is not None
        plain = secrets.token_hex(8)
        stamp, nonce = str(int(self.now().timestamp())), secrets.token_hex(5)
        encrypted = str(xmltodict.parse(self.crypto.encrypt_message(plain, nonce, stamp))["xml"]["Encrypt"])

        query = {
            "msg_signature": _get_signature(self.token, stamp, nonce, encrypted),
            "timestamp": stamp,
            "nonce": nonce,
            "echostr": encrypted,
        }
        async with self._http.get(self.callback_url, params=query) as response:
            return response.status, await response.text(), plain


def _copy(card: Card | None) -> Card | None:
    return None if card is None else Card(card.task_id, card.title, list(card.buttons), body=card.body)


class WeComMember:
    """A member of the corporation using the application, as tests drive them."""

    def __init__(self, sim: WeComSimulator, name: str, userid: str) -> None:
        self.sim = sim
        self.name = name
        self.userid = userid

    @property
    def inbox(self) -> list[Received]:
        """Everything the application sent this member, oldest first."""
        return self.sim.members[self.userid].inbox

    def xml(self, kind: str, fields: dict[str, str]) -> str:
        parts = [
            f"<ToUserName><![CDATA[{self.sim.corp_id}]]></ToUserName>",
            f"<FromUserName><![CDATA[{self.userid}]]></FromUserName>",
            f"<CreateTime>{int(self.sim.now().timestamp())}</CreateTime><MsgType><![CDATA[{kind}]]></MsgType>",
        ]
        parts += [f"<{name}>{escape(value)}</{name}>" for name, value in fields.items()]
        parts.append(f"<AgentID>{self.sim.agent_id}</AgentID>")
        return "<xml>" + "".join(parts) + "</xml>"

    async def click(self, key: str) -> tuple[int, str]:
        """Tap a `click` item of the application's menu (it must be in the menu the bot set)."""
        menu = self.sim.menu or {}
        keys = [b.get("key") for top in menu.get("button", []) for b in [top, *top.get("sub_button", [])]]
        if key not in keys:
            raise AssertionError(f"the application's menu has no item {key!r}: {keys}")
        return await self.sim.post(*self.sim.signed(self.xml("event", {"Event": "click", "EventKey": key})))

    def upload(self, received: Received) -> Upload:
        """The file or image of an image or file message the member received."""
        return self.sim.uploads[received.text]

    async def send_text(self, text: str) -> tuple[int, str]:
        """Type a message in the application."""
        fields = {"Content": text, "MsgId": str(secrets.randbelow(10**15))}
        return await self.sim.post(*self.sim.signed(self.xml("text", fields)))

    async def send_image(self, content: bytes) -> tuple[int, str]:
        """Send a photo in the application: WeCom keeps its bytes under a media id and posts an image message."""
        media_id = secrets.token_urlsafe(16)
        self.sim.media[media_id] = (content, self.sim.now())
        fields = {
            "PicUrl": f"{self.sim.api_url}/pic/{media_id}",
            "MediaId": media_id,
            "MsgId": str(secrets.randbelow(10**15)),
        }
        return await self.sim.post(*self.sim.signed(self.xml("image", fields)))

    def card(self, title: str) -> Card:
        """The newest card whose title contains `title`."""
        for received in reversed(self.inbox):
            if received.card is not None and title in received.card.title:
                return received.card
        raise AssertionError(f"{self.name} has no card {title!r}; inbox: {[r.text[:40] for r in self.inbox]}")

    def press_xml(self, card: Card, label: str) -> str:
        """The callback a press on the card's button `label` becomes (the card must still have its buttons)."""
        if card.replaced is not None:
            raise AssertionError(f"the card shows {card.replaced!r}: its buttons can no longer be pressed")
        key = next(k for text, k in card.buttons if label in text)
        code = secrets.token_urlsafe(24)
        self.sim.codes[code] = Code(card.task_id, self.sim.now())
        fields = {
            "Event": "template_card_event",
            "EventKey": key,
            "TaskId": card.task_id,
            "CardType": "button_interaction",
            "ResponseCode": code,
        }
        return self.xml("event", fields)

    async def press(self, card: Card, label: str) -> tuple[int, str]:
        """Press a button of a card."""
        return await self.sim.post(*self.sim.signed(self.press_xml(card, label)))

    async def wait_for(self, predicate: Callable[[Received], bool], timeout: float = 10.0) -> Received:  # noqa: ASYNC109
        """The first message received that matches (already there or arriving)."""
        deadline = time.monotonic() + timeout
        while True:
            for received in self.inbox:
                if predicate(received):
                    return received
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name} never received it; last: {[r.text[:60] for r in self.inbox[-5:]]}")
            await asyncio.sleep(0.05)

    async def wait_for_text(self, text: str, timeout: float = 10.0) -> Received:  # noqa: ASYNC109
        """The first text message containing `text`."""
        return await self.wait_for(lambda r: r.kind == "text" and text in r.text, timeout)

    async def wait_for_card(self, title: str, timeout: float = 10.0) -> Card:  # noqa: ASYNC109
        """The first card whose title contains `title`."""
        received = await self.wait_for(lambda r: r.card is not None and title in r.card.title, timeout)
        assert received.card is not None
        return received.card
