"""The WeChat API client: access token, customer-service messages (text, image, msgmenu), template notices,
subscription notices (and the account's subscription templates), media download/upload, the custom menu and
conditional menus, user tags and parametric QR codes, against
`WECHAT_API_URL` (WeChat's, or the simulator's; the QR images on `WECHAT_QR_URL`, mp.weixin.qq.com).

Errors come back as `WeChatError(errcode, errmsg)`; `channels.wechat.transport` tells the sender what each means.
An expired or revoked token (40001, 40014, 42001) is fetched again once, transparently.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

from channels.tencent_api import BUSY as BUSY  # re-exported: the transport tells a busy WeChat by it
from channels.tencent_api import MAX_MEDIA_BYTES, ApiError, TokenApi

# WeChat's errors are the shared API error (the name kept for the channel's callers).
WeChatError = ApiError

log = logging.getLogger(__name__)

OUT_OF_WINDOW = 45015  # "response out of time limit or subscription is canceled"
OUT_OF_COUNT = 45047  # "out of response count limit"
NOT_ACCEPTED = 43101  # a subscription notice the person did not accept, or turned off ("user refuse to accept the msg")
TEMPLATE_UNKNOWN = 40037  # a template id the account does not have
FIELD_REFUSED = 47003  # a subscription notice's value its keyword does not take
NOT_SUBSCRIBED = frozenset({43004, 43019, 40003})  # unfollowed / blacklisted / openid unknown
RATE_LIMITED = frozenset({45009, 45011})
# Parametric QR codes (生成带参数的二维码): a scene string of 1–64 characters; a temporary code lives at most 30 days.
QR_SCENE_MAX = 64
QR_MAX_SECONDS = 2_592_000
INVALID_TICKET = 404  # showqrcode answers an unknown or expired ticket with HTTP 404 (no errcode)
TAG_BATCH = 50  # openids per batchtagging / batchuntagging call (40032 past it)


class WeChatApi(TokenApi):
    """One service account's API; `close()` at shutdown."""

    def __init__(
        self,
        base_url: str,
        app_id: str,
        secret: str,
        *,
        now: Callable[[], dt.datetime],
        timeout: float = 10.0,
        qr_url: str | None = None,
    ) -> None:
        super().__init__(base_url, now=now, timeout=timeout)
        self._qr_base = (qr_url or base_url).rstrip("/")
        self._app_id = app_id
        self._secret = secret

    # -- token -----------------------------------------------------------------------------------------------------

    async def _fetch_token(self) -> dict[str, Any]:
        params = {"grant_type": "client_credential", "appid": self._app_id, "secret": self._secret}
        return await self._call("GET", "/cgi-bin/token", params=params)

    # -- messages ----------------------------------------------------------------------------------------------------

    async def send_custom(self, message: dict[str, Any]) -> None:
        """A customer-service message (`touser`, `msgtype` and its body; see `channels.wechat.render`)."""
        await self._api("/cgi-bin/message/custom/send", message)

    async def send_template(self, openid: str, template_id: str, url: str, fields: dict[str, str]) -> None:
        """A template notice: short fields and a link to a detail page."""
        await self._api(
            "/cgi-bin/message/template/send",
            {
                "touser": openid,
                "template_id": template_id,
                "url": url,
                "data": {name: {"value": value} for name, value in fields.items()},
            },
        )

    async def send_subscription(self, openid: str, template_id: str, fields: dict[str, str]) -> None:
        """A subscription notice (订阅通知 / 发送订阅通知, `bizsend`) of a template the person accepted; 43101 when
        they did not (or withdrew), 47003 when a field breaks its keyword's rule."""
        body = {"touser": openid, "template_id": template_id, "data": {k: {"value": v} for k, v in fields.items()}}
        await self._api("/cgi-bin/message/subscribe/bizsend", body)

    async def subscription_templates(self) -> list[dict[str, Any]]:
        """The account's subscription templates (订阅通知 / 获取已有模板列表, `wxaapi/newtmpl/gettemplate`): each with
        its priTmplId, title, content and type (2 one-time, 3 long-term)."""
        path = "/wxaapi/newtmpl/gettemplate"
        data = await self._renewing(lambda token: self._call("GET", path, params={"access_token": token}))
        listing = data.get("data") or []
        return [dict(entry) for entry in listing if isinstance(entry, dict)]

    async def create_menu(self, menu: dict[str, Any]) -> None:
        """Set the account's custom menu (at most 3 buttons of 5 each)."""
        await self._api("/cgi-bin/menu/create", menu)

    # -- media -------------------------------------------------------------------------------------------------------

    async def upload_image(self, content: bytes, filename: str = "photo.jpg") -> str:
        """Upload a temporary image; its media_id (valid 3 days)."""
        return await self.upload("image", filename, content, "image/jpeg")

    # -- parametric QR codes (账号管理 / 生成带参数的二维码) -------------------------------------------------------

    async def create_qr(self, scene: str, *, expire_seconds: int | None = None) -> QrCode:
        """A QR code carrying `scene` (1–64 characters): temporary (`QR_STR_SCENE`, at most `QR_MAX_SECONDS`) when
        `expire_seconds` is given, else permanent (`QR_LIMIT_STR_SCENE`, at most 100,000 per account)."""
        if not 1 <= len(scene) <= QR_SCENE_MAX:
            raise ValueError("a QR scene string has 1 to 64 characters")
        body: dict[str, Any] = {"action_info": {"scene": {"scene_str": scene}}}
        if expire_seconds is None:
            body["action_name"] = "QR_LIMIT_STR_SCENE"
        else:
            body["action_name"] = "QR_STR_SCENE"
            body["expire_seconds"] = max(1, min(QR_MAX_SECONDS, expire_seconds))
        data = await self._api("/cgi-bin/qrcode/create", body)
        seconds = data.get("expire_seconds")
        return QrCode(str(data["ticket"]), str(data.get("url", "")), int(seconds) if seconds else None)

    async def qr_image(self, ticket: str) -> bytes:
        """The image of a QR code (`showqrcode` on `qr_url`, no token; an unknown or expired ticket: HTTP 404)."""
        path = "/cgi-bin/showqrcode"
        try:
            async with self._http().get(
                self._qr_base + path, params={"ticket": ticket}, allow_redirects=False
            ) as response:
                if response.status >= 300:
                    raise WeChatError(BUSY if response.status >= 500 else INVALID_TICKET, f"HTTP {response.status}")
                content = await response.content.read(MAX_MEDIA_BYTES + 1)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise WeChatError(BUSY, f"{type(exc).__name__} on {path}") from exc
        if len(content) > MAX_MEDIA_BYTES:
            raise WeChatError(40006, "QR image too large")
        return content

    # -- user tags (用户管理 / 用户标签管理) -------------------------------------------------------------------------

    async def tags(self) -> dict[str, int]:
        """The account's tags, name → id."""
        data = await self._renewing(
            lambda token: self._call("GET", "/cgi-bin/tags/get", params={"access_token": token})
        )
        return {str(t["name"]): int(t["id"]) for t in data.get("tags") or []}

    async def create_tag(self, name: str) -> int:
        """A new tag's id (45157: the name is taken; 45056: the account has 100 tags)."""
        data = await self._api("/cgi-bin/tags/create", {"tag": {"name": name}})
        return int(data["tag"]["id"])

    async def tag_users(self, tag_id: int, openids: list[str]) -> None:
        """Put a tag on followers, at most `TAG_BATCH` per call."""
        for start in range(0, len(openids), TAG_BATCH):
            body = {"openid_list": openids[start : start + TAG_BATCH], "tagid": tag_id}
            await self._api("/cgi-bin/tags/members/batchtagging", body)

    async def untag_users(self, tag_id: int, openids: list[str]) -> None:
        """Take a tag off followers, at most `TAG_BATCH` per call."""
        for start in range(0, len(openids), TAG_BATCH):
            body = {"openid_list": openids[start : start + TAG_BATCH], "tagid": tag_id}
            await self._api("/cgi-bin/tags/members/batchuntagging", body)

    async def user_tags(self, openid: str) -> list[int]:
        """The tags a follower has."""
        data = await self._api("/cgi-bin/tags/getidlist", {"openid": openid})
        return [int(t) for t in data.get("tagid_list") or []]

    # -- menus (自定义菜单 / 个性化菜单) -----------------------------------------------------------------------------

    async def menus(self) -> dict[str, Any]:
        """The default menu and the conditional menus (`menu/get`: {"menu": …, "conditionalmenu": [...]})."""
        path = "/cgi-bin/menu/get"
        return await self._renewing(lambda token: self._call("GET", path, params={"access_token": token}))

    async def add_conditional_menu(self, menu: dict[str, Any], tag_id: int) -> str:
        """A menu shown to the followers carrying `tag_id`; its menuid."""
        data = await self._api("/cgi-bin/menu/addconditional", {**menu, "matchrule": {"tag_id": str(tag_id)}})
        return str(data["menuid"])

    async def delete_conditional_menu(self, menu_id: str) -> None:
        """Remove one conditional menu."""
        await self._api("/cgi-bin/menu/delconditional", {"menuid": menu_id})

    async def try_match(self, openid: str) -> dict[str, Any]:
        """The menu this follower sees (`menu/trymatch`)."""
        return await self._api("/cgi-bin/menu/trymatch", {"user_id": openid})


@dataclass(frozen=True, slots=True)
class QrCode:
    """A parametric QR code: its ticket (for the image), the URL it encodes, its lifetime (None: permanent)."""

    ticket: str
    url: str
    expire_seconds: int | None
