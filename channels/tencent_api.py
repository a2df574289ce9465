"""What the clients of Tencent's two APIs share — WeChat's service account (`channels.wechat.api`) and WeCom's
self-built application (`channels.wecom.api`): JSON calls answered with an `errcode`, an access token that is
cached and, when the API no longer accepts it (40001, 40014, 42001), fetched again once and the call made once more.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import aiohttp

from channels.delivery import Refused, SlowDown, Unavailable, Unreachable

T = TypeVar("T")
TOKEN_INVALID = frozenset({40001, 40014, 42001})
BUSY = -1
MAX_MEDIA_BYTES = 10 * 1024 * 1024


class ApiError(Exception):
    """The API answered with a non-zero errcode (or not at all: errcode -1)."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"{errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


def failure(exc: ApiError, *, api: str, unreachable: frozenset[int], rate_limited: frozenset[int]) -> Exception:
    """An API's refusal as the outbox sender understands it: the person cannot be reached (`unreachable` codes), slow
    down (`rate_limited`), the API is away (`BUSY`), else refused for good. `api` names it in the reason."""
    reason = f"{api} {exc.errcode}: {exc.errmsg}"[:300]
    if exc.errcode in unreachable:
        return Unreachable(reason)
    if exc.errcode in rate_limited:
        return SlowDown(reason)
    if exc.errcode == BUSY:
        return Unavailable(reason)
    return Refused(reason)


class TokenApi:
    """An API reached with an access token; subclasses say how the token is fetched (`_fetch_token`)."""

    def __init__(self, base_url: str, *, now: Callable[[], dt.datetime], timeout: float = 10.0) -> None:
        self._base = base_url.rstrip("/")
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

    async def _fetch_token(self) -> dict[str, Any]:
        """The token endpoint's answer (`access_token`, `expires_in`)."""
        raise NotImplementedError

    async def token(self, *, fresh: bool = False) -> str:
        """The access token, fetched when missing, expiring within 5 minutes, or `fresh` asked for."""
        async with self._token_lock:
            now = self._now()
            if not fresh and self._token and self._token_until and now < self._token_until:
                return self._token
            data = await self._fetch_token()
            self._token = str(data["access_token"])
            lifetime = int(data.get("expires_in", 7200))
            self._token_until = now + dt.timedelta(seconds=max(60, lifetime - 300))
            return self._token

    async def _call(
        self, method: str, path: str, *, params: dict[str, str], body: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode()
        return await self._request(method, path, params=params, data=data)

    async def _request(self, method: str, path: str, *, params: dict[str, str], data: Any) -> dict[str, Any]:
        """One request (JSON bytes, or a multipart form) and its JSON answer; a non-zero errcode is an error."""
        # The APIs never redirect: a 3xx is an error, not followed (the query carries the secret or the token, and a
        # redirect loop ends in an exception whose text is the whole URL). Errors name the path, never the URL.
        try:
            async with self._http().request(
                method, self._base + path, params=params, data=data, allow_redirects=False
            ) as response:
                if response.status >= 300:
                    raise ApiError(BUSY, f"HTTP {response.status} on {path}")
                payload = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise ApiError(BUSY, f"{type(exc).__name__} on {path}") from exc
        if not isinstance(payload, dict):
            raise ApiError(BUSY, "unreadable answer")
        errcode = int(payload.get("errcode", 0) or 0)
        if errcode:
            raise ApiError(errcode, str(payload.get("errmsg", "")))
        return payload

    async def upload(self, kind: str, filename: str, content: bytes | Path, content_type: str) -> str:
        """A temporary medium (`POST /cgi-bin/media/upload?type=`, the same on both APIs: WeChat's 新增临时素材,
        WeCom's path/90253 "上传临时素材"): multipart, the file in the field `media` under `filename`; its media_id,
        valid 3 days. A file on disk is streamed, not read whole."""
        return await self._renewing(lambda token: self._upload(token, kind, filename, content, content_type))

    async def _upload(self, token: str, kind: str, filename: str, content: bytes | Path, content_type: str) -> str:
        with content.open("rb") if isinstance(content, Path) else io.BytesIO(content) as file:
            form = aiohttp.FormData()
            form.add_field("media", file, filename=filename, content_type=content_type)
            params = {"access_token": token, "type": kind}
            answer = await self._request("POST", "/cgi-bin/media/upload", params=params, data=form)
        return str(answer["media_id"])

    async def _renewing(self, call: Callable[[str], Awaitable[T]]) -> T:
        """`call(token)`; when the API no longer accepts the token (revoked, expired) it is fetched again and the
        call made once more. Every call with a token goes through here."""
        try:
            return await call(await self.token())
        except ApiError as exc:
            if exc.errcode not in TOKEN_INVALID:
                raise
            return await call(await self.token(fresh=True))

    async def _api(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST with the token (renewed once if refused)."""
        return await self._renewing(lambda token: self._call("POST", path, params={"access_token": token}, body=body))

    async def download_media(self, media_id: str) -> bytes:
        """A temporary media file's bytes (`GET /cgi-bin/media/get`, the same on both APIs: WeChat's 获取临时素材,
        WeCom's path/90254 "获取临时素材"; they expire after 3 days, so download at once). A JSON answer is an error;
        past `MAX_MEDIA_BYTES` it is refused (40006)."""
        return await self._renewing(lambda token: self._download(token, media_id))

    async def _download(self, token: str, media_id: str) -> bytes:
        params = {"access_token": token, "media_id": media_id}
        path = "/cgi-bin/media/get"
        try:
            async with self._http().get(self._base + path, params=params, allow_redirects=False) as response:
                if response.status >= 300:
                    raise ApiError(BUSY, f"HTTP {response.status} on {path}")
                if response.content_type in ("application/json", "text/plain"):
                    payload = await response.json(content_type=None)
                    raise ApiError(int(payload.get("errcode", BUSY)), str(payload.get("errmsg", "")))
                content = await response.content.read(MAX_MEDIA_BYTES + 1)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise ApiError(BUSY, f"{type(exc).__name__} on {path}") from exc
        if len(content) > MAX_MEDIA_BYTES:
            raise ApiError(40006, "media too large")
        return content
