"""The WeChat API client: access token, customer-service messages (text, image, msgmenu), template notices,
media download/upload and the custom menu, against `WECHAT_API_URL` (WeChat's, or the simulator's).

Errors come back as `WeChatError(errcode, errmsg)`; `channels.wechat.transport` tells the sender what each means.
An expired or revoked token (40001, 40014, 42001) is fetched again once, transparently.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import aiohttp

log = logging.getLogger(__name__)

TOKEN_INVALID = frozenset({40001, 40014, 42001})
T = TypeVar("T")
OUT_OF_WINDOW = 45015  # "response out of time limit or subscription is canceled"
OUT_OF_COUNT = 45047  # "out of response count limit"
NOT_SUBSCRIBED = frozenset({43004, 43019, 40003})  # unfollowed / blacklisted / openid unknown
RATE_LIMITED = frozenset({45009, 45011})
BUSY = -1
MAX_MEDIA_BYTES = 10 * 1024 * 1024


class WeChatError(Exception):
    """WeChat answered with a non-zero errcode (or not at all: errcode -1)."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"{errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


class WeChatApi:
    """One service account's API; `close()` at shutdown."""

    def __init__(
        self,
        base_url: str,
        app_id: str,
        secret: str,
        *,
        now: Callable[[], dt.datetime],
        timeout: float = 10.0,
    ) -> None:
        self._base = base_url.rstrip("/")
        self._app_id = app_id
        self._secret = secret
        self._now = now
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None
        self._token: str | None = None
        self._token_until: dt.datetime | None = None
        self._token_lock = asyncio.Lock()

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    async def close(self) -> None:
        """Close the HTTP session."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    # -- token -----------------------------------------------------------------------------------------------------

    async def token(self, *, fresh: bool = False) -> str:
        """The access token, fetched when missing, expiring within 5 minutes, or `fresh` asked for."""
        async with self._token_lock:
            now = self._now()
            if not fresh and self._token and self._token_until and now < self._token_until:
                return self._token
            data = await self._call(
                "GET",
                "/cgi-bin/token",
                params={"grant_type": "client_credential", "appid": self._app_id, "secret": self._secret},
            )
            self._token = str(data["access_token"])
            lifetime = int(data.get("expires_in", 7200))
            self._token_until = now + dt.timedelta(seconds=max(60, lifetime - 300))
            return self._token

    async def _call(
        self, method: str, path: str, *, params: dict[str, str], body: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode()
        # WeChat's API never redirects: a 3xx is an error, not followed (the query carries the secret or the token,
        # and a redirect loop ends in an exception whose text is the whole URL). Errors name the path, never the URL.
        try:
            async with self._http().request(
                method, self._base + path, params=params, data=data, allow_redirects=False
            ) as response:
                if response.status >= 300:
                    raise WeChatError(BUSY, f"HTTP {response.status} on {path}")
                payload = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise WeChatError(BUSY, f"{type(exc).__name__} on {path}") from exc
        if not isinstance(payload, dict):
            raise WeChatError(BUSY, "unreadable answer")
        errcode = int(payload.get("errcode", 0) or 0)
        if errcode:
            raise WeChatError(errcode, str(payload.get("errmsg", "")))
        return payload

    async def _renewing(self, call: Callable[[str], Awaitable[T]]) -> T:
        """`call(token)`; when WeChat no longer accepts the token (revoked, expired) it is fetched again and the call
        made once more. Every call with a token goes through here: messages, the menu, media both ways."""
        try:
            return await call(await self.token())
        except WeChatError as exc:
            if exc.errcode not in TOKEN_INVALID:
                raise
            return await call(await self.token(fresh=True))

    async def _api(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST with the token (renewed once if refused)."""
        return await self._renewing(lambda token: self._call("POST", path, params={"access_token": token}, body=body))

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

    async def create_menu(self, menu: dict[str, Any]) -> None:
        """Set the account's custom menu (at most 3 buttons of 5 each)."""
        await self._api("/cgi-bin/menu/create", menu)

    # -- media -------------------------------------------------------------------------------------------------------

    async def download_media(self, media_id: str) -> bytes:
        """A temporary media file's bytes (they expire after 3 days, so download at once)."""
        return await self._renewing(lambda token: self._download(token, media_id))

    async def _download(self, token: str, media_id: str) -> bytes:
        params = {"access_token": token, "media_id": media_id}
        path = "/cgi-bin/media/get"
        try:
            async with self._http().get(self._base + path, params=params, allow_redirects=False) as response:
                if response.status >= 300:
                    raise WeChatError(BUSY, f"HTTP {response.status} on {path}")
                if response.content_type in ("application/json", "text/plain"):
                    payload = await response.json(content_type=None)
                    raise WeChatError(int(payload.get("errcode", BUSY)), str(payload.get("errmsg", "")))
                content = await response.content.read(MAX_MEDIA_BYTES + 1)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise WeChatError(BUSY, f"{type(exc).__name__} on {path}") from exc
        if len(content) > MAX_MEDIA_BYTES:
            raise WeChatError(40006, "media too large")
        return content

    async def upload_image(self, content: bytes, filename: str = "photo.jpg") -> str:
        """Upload a temporary image; its media_id (valid 3 days)."""
        return await self._renewing(lambda token: self._upload(token, content, filename))

    async def _upload(self, token: str, content: bytes, filename: str) -> str:
        form = aiohttp.FormData()
        form.add_field("media", content, filename=filename, content_type="image/jpeg")
        params = {"access_token": token, "type": "image"}
        path = "/cgi-bin/media/upload"
        try:
            async with self._http().post(
                self._base + path, params=params, data=form, allow_redirects=False
            ) as response:
                if response.status >= 300:
                    raise WeChatError(BUSY, f"HTTP {response.status} on {path}")
                payload = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise WeChatError(BUSY, f"{type(exc).__name__} on {path}") from exc
        if int(payload.get("errcode", 0) or 0):
            raise WeChatError(int(payload["errcode"]), str(payload.get("errmsg", "")))
        return str(payload["media_id"])
