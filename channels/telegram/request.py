"""PTB's HTTP transport on aiohttp: every Bot API request and file download the bot makes goes through here.

PTB's default transport is httpx, and with the limits off a profile of the bot spent more of its CPU
sending replies through httpx than on the database. aiohttp (already a dependency: the simulator is an
aiohttp server) does the same work for a fraction of that. The class keeps PTB's contract: parameters
are form-encoded, files go as multipart, the four timeouts are honoured, a timeout raises
`telegram.error.TimedOut` and any other transport failure `telegram.error.NetworkError`.

A file on disk is uploaded from disk in constant memory: pass it as `InputFile(file, read_file_handle=False)`
(an open binary file the caller closes) and it is streamed in chunks, from its start on every attempt — a
reply that fails with a 5xx or a timeout is sent again by the rate limiter, and the retry uploads it whole.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from typing import IO, Any
from urllib.parse import urlencode

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TelegramError, TimedOut
from telegram.request import BaseRequest, RequestData

from channels.telegram.send_journal import SendJournal
from core.clock import LoopTimer, Timer, within

log = logging.getLogger(__name__)

_FORM = "application/x-www-form-urlencoded"


class AiohttpRequest(BaseRequest):
    """A `BaseRequest` on one `aiohttp.ClientSession`, opened by `initialize()` and closed by `shutdown()`.

    Timeouts mean what they mean for PTB's `HTTPXRequest`: `pool_timeout` is the wait for a free
    connection, `connect_timeout` opening one, `read_timeout` the wait for the answer's bytes.
    aiohttp has no separate write timeout, so the write timeout (or `media_write_timeout` for
    uploads) bounds the whole request together with the others.
    """

    __slots__ = (
        "_connect_timeout",
        "_media_write_timeout",
        "_pool_size",
        "_pool_timeout",
        "_read_timeout",
        "_session",
        "_write_timeout",
        "allowed",
        "answered",
        "journal",
    )

    def __init__(
        self,
        connection_pool_size: int = 256,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None
        # Told (method, HTTP status) of every answer, for /metrics (channels/health.py); None: nobody listens.
        self.answered: Callable[[str, int], None] | None = None
        # Asked before every request and again when getUpdates' answer arrives, with the method's name: False refuses
        # it (`NotLeading`). The lease's `Leadership.leading` for every method but getMe (bot/app.py): a standby or a
        # resumed stale leader sends nothing and takes no update. None: everything goes.
        self.allowed: Callable[[str], bool] | None = None
        # Records the requests made while an update is handled and answers those made before
        # (channels/telegram/send_journal.py, set by bot.app); None: nothing recorded.
        self.journal: SendJournal | None = None

    @property
    def read_timeout(self) -> float | None:
        """The default read timeout (PTB adds it to getUpdates' long-poll timeout)."""
        return self._read_timeout

    async def initialize(self) -> None:
        """Open the session (inside the running loop, as aiohttp wants)."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size, limit_per_host=self._pool_size),
                headers={"User-Agent": self.USER_AGENT},
                # The Bot API answers JSON that PTB parses itself: no cookies, no automatic decompression.
                cookie_jar=aiohttp.DummyCookieJar(),
                auto_decompress=False,
            )

    async def shutdown(self) -> None:
        """Close the session and its connections; safe to call twice."""
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Send one request and return (HTTP status, body); PTB turns the body into a result or an error."""
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        api_method = url.rsplit("/", 1)[-1]  # the method's name is the URL's last part (never the token)
        if self.allowed is not None and not self.allowed(api_method):
            raise NotLeading(api_method)
        files = request_data.multipart_data if request_data is not None and request_data.contains_files else None
        read = self._read_timeout if isinstance(read_timeout, DefaultValue) else read_timeout
        connect = self._connect_timeout if isinstance(connect_timeout, DefaultValue) else connect_timeout
        pool = self._pool_timeout if isinstance(pool_timeout, DefaultValue) else pool_timeout
        if isinstance(write_timeout, DefaultValue):
            write = self._media_write_timeout if files else self._write_timeout
        else:
            write = write_timeout
        timeout = _timeout(pool, connect, write, read)
        body: Any = None
        headers: dict[str, str] | None = None
        parameters = request_data.json_parameters if request_data is not None else {}
        made = await self.journal.answered_before(api_method, parameters) if self.journal is not None else None
        if made is not None and made[2] is not None:
            return 200, made[2]  # made while this update was handled before a kill, a freeze or a cut
        if made is not None and self.allowed is not None and not self.allowed(api_method):
            # It stepped down while the journal waited for the database (cut off from it): the next leader answers.
            self._unrecorded(made)
            raise NotLeading(api_method)
        if files:
            form = aiohttp.FormData()
            for name, value in parameters.items():
                form.add_field(name, value)
            for name, (filename, content, mime_type) in files.items():
                if isinstance(content, bytes):
                    form.add_field(name, content, filename=filename, content_type=mime_type)
                else:
                    form.add_field(name, _BorrowedFile(content, content_type=mime_type), filename=filename)
            body = form
        elif parameters:
            body = urlencode(parameters).encode()
            headers = {"Content-Type": _FORM}
        try:
            async with self._session.request(method, url, data=body, headers=headers, timeout=timeout) as response:
                if self.answered is not None:
                    self.answered(api_method, response.status)
                answer = await response.read()
        except TimeoutError as exc:
            self._unrecorded(made)
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            self._unrecorded(made)
            raise NetworkError(f"aiohttp.{exc.__class__.__name__}: {exc}") from exc
        except BaseException:
            self._unrecorded(made)
            raise
        if made is not None and self.journal is not None:
            if response.status == 200:
                await self.journal.record(api_method, made[0], made[1], answer)
            else:
                self.journal.failed(made[0])
        if api_method == "getUpdates" and self.allowed is not None and not self.allowed(api_method):
            # Updates that arrive after this instance stopped leading (it froze during the long poll) are not taken:
            # Telegram keeps them until the leader's offset confirms them.
            raise NotLeading(api_method)
        return response.status, answer

    def _unrecorded(self, made: tuple[str, int, bytes | None] | None) -> None:
        """The request got no answer: its occurrence is free for the retry."""
        if made is not None and self.journal is not None:
            self.journal.failed(made[0])


class NotLeading(TelegramError):  # noqa: N818 - reads as what the instance is
    """A request this instance may not make now: it does not lead (issue 30, channels/lease.py)."""

    def __init__(self, method: str) -> None:
        super().__init__(f"{method}: this instance does not lead")


class UpdatesRequest(AiohttpRequest):
    """The getUpdates transport, which also keeps each update as it came (`received`, by update id; the latest
    `RECEIVED_KEPT`): the durable inbox stores that instead of rebuilding it from PTB's objects (`Update.to_dict`
    walks every object of the update; this costs nothing but a reference).

    The next getUpdates confirms the updates fetched before (its offset): it waits until each of them was `settled`
    (written to the inbox, or found not to need it), at most `SETTLE_WITHIN` seconds. Otherwise a leader frozen or cut
    off from the database right after asking again loses them: Telegram forgot them, and the inbox never had them.
    A standby taking over gets them from Telegram instead (issue 30)."""

    __slots__ = ("_settled", "received", "timer", "unsettled")

    RECEIVED_KEPT = 1000
    SETTLE_WITHIN = 10.0

    def __init__(self, connection_pool_size: int = 1, **kwargs: Any) -> None:
        super().__init__(connection_pool_size, **kwargs)
        self.received: dict[int, dict[str, Any]] = {}
        self.unsettled: set[int] = set()
        self._settled: asyncio.Event | None = None
        self.timer: Timer = LoopTimer()  # what the wait for `settled` runs on

    def settled(self, update_id: int) -> None:
        """The update is in the inbox, or needs no place there (the processor's hook)."""
        self.unsettled.discard(update_id)
        if not self.unsettled and self._settled is not None:
            self._settled.set()

    async def do_request(self, url: str, method: str, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        if self.unsettled:
            if self._settled is None:
                self._settled = asyncio.Event()
            self._settled.clear()
            if not await within(self.timer, self._settled.wait(), self.SETTLE_WITHIN):
                log.warning(
                    "%d updates fetched %.0f s ago are not in the inbox yet", len(self.unsettled), self.SETTLE_WITHIN
                )
                self.unsettled.clear()
        return await super().do_request(url, method, *args, **kwargs)

    def parse_json_payload(self, payload: bytes) -> dict[str, Any]:  # type: ignore[override]
        data = super().parse_json_payload(payload)
        result = data.get("result")
        if isinstance(result, list):
            for item in result:
                if isinstance(item, dict) and isinstance(item.get("update_id"), int):
                    self.received[item["update_id"]] = item
                    self.unsettled.add(item["update_id"])
            while len(self.received) > self.RECEIVED_KEPT:  # updates nobody took (dropped before the inbox)
                del self.received[next(iter(self.received))]
        return data


class _BorrowedFile(aiohttp.payload.BufferedReaderPayload):
    """An open file the caller owns, streamed in chunks from its start; aiohttp must not close it after the
    request (it would, for a plain file object), because a retry of the same request reads it again."""

    _autoclose = True  # nothing for aiohttp to close: the caller does

    def __init__(self, file: IO[bytes], content_type: str) -> None:
        file.seek(0)
        super().__init__(file, content_type=content_type)

    def _close(self) -> None:
        """Leave the file open for a retry; its owner closes it."""

    async def close(self) -> None:
        """Leave the file open for a retry; its owner closes it."""


@functools.lru_cache(maxsize=64)
def _timeout(
    pool: float | None, connect: float | None, write: float | None, read: float | None
) -> aiohttp.ClientTimeout:
    """PTB's four timeouts as aiohttp's (a handful of combinations, so they are built once each)."""
    parts = (pool, connect, write, read)
    return aiohttp.ClientTimeout(
        # No write timeout in aiohttp: the sum of all four bounds the whole request instead.
        total=None if any(part is None for part in parts) else sum(p for p in parts if p is not None),
        # aiohttp's `connect` covers waiting for a pooled connection and opening a new one.
        connect=None if pool is None or connect is None else pool + connect,
        sock_connect=connect,
        sock_read=read,
    )
