"""Webhook mode (issue 30, item 2; `tongxin run --webhook`): Telegram posts each update to `WEBHOOK_URL`, a reverse
proxy ends TLS there and forwards to `WEBHOOK_LISTEN:WEBHOOK_PORT`, where every instance runs this server.

A POST is answered only after the update is committed to the durable inbox (channels/telegram/inbox.py):
python-telegram-bot's and aiogram's own webhook servers answer 200 first, and a crash between that answer and the
handling loses the update for good. Here a crash (even SIGKILL) before the commit leaves Telegram without an answer, so
it delivers the update again (at once, then with back-off); a crash after the commit leaves the update in the inbox,
handled at the next takeover. An update Telegram delivers again after a lost answer is found in the inbox or among the
handled ids (kept 25 hours, storage/inbox.py) and not handled twice.

- `X-Telegram-Bot-Api-Secret-Token` must equal `WEBHOOK_SECRET` (compared in constant time): otherwise 403, and
  nothing is read or written.
- The body is bounded (`MAX_BODY`) and must be one JSON Update with an update id; otherwise 400.
- The database unreachable: 503, so Telegram tries again later.
- The leader hands every update in the inbox to the update processor, in each chat's order: those it received at
  once (after the chat's older ones another instance received), and on PostgreSQL every second those that other
  instances received (`InboxFollower`; on SQLite there is one instance). It calls `setWebhook` (never dropping
  pending updates) when it starts to lead.
- `/healthz` and `/metrics` answer here too (channels/health.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import os
import signal
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from aiohttp import web
from telegram import Update

from channels.health import Health
from channels.telegram.processor import PerChatUpdateProcessor, chat_key
from core.clock import Timer
from storage import inbox

if TYPE_CHECKING:
    from channels.telegram.context import TongxinApp

log = logging.getLogger(__name__)

# Fault injection for the crash test: "received" SIGKILLs the process when the first update arrived, before it is
# written; "written" once it is written, before Telegram is answered.
FAULT_KILL = "TONGXIN_FAULT_KILL_WEBHOOK"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY = 1024 * 1024  # an update is a few kilobytes; a message's text at most 4096 characters
FOLLOW_EVERY = 1.0  # seconds between the leader's reads of updates other instances received


class InboxFollower:
    """Hands the updates in the inbox that this process has not taken yet to the update processor, oldest first."""

    def __init__(self, application: TongxinApp, processor: PerChatUpdateProcessor, timer: Timer) -> None:
        self._application = application
        self._processor = processor
        self._timer = timer
        self._task: asyncio.Task[None] | None = None

    async def catch_up(self, chat: int | None = None) -> int:
        """Hand over the waiting updates of `chat` (or of every chat); returns how many."""
        services = self._application.bot_data
        handed = 0
        for update_id, payload in await inbox.waiting(services.db, chat_key=chat):
            if not self._processor.take_written(update_id):
                continue
            update = Update.de_json(json.loads(payload), self._application.bot)
            await self._application.update_queue.put(update)
            handed += 1
        return handed

    async def _follow(self) -> None:
        while True:
            try:
                await self.catch_up()
            except Exception as exc:  # the database away: the next round tries again
                log.warning("webhook: could not read the update inbox (%s)", type(exc).__name__)
            await self._timer.sleep(FOLLOW_EVERY)

    def start(self) -> None:
        """Follow the inbox; on SQLite there is one instance, which hands over everything it receives at once."""
        if self._application.bot_data.db.is_sqlite:
            return
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._follow(), name="inbox-follower")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


class WebhookServer:
    """The HTTP server Telegram's webhook reaches (through the reverse proxy)."""

    def __init__(
        self,
        application: TongxinApp,
        *,
        url: str,
        secret: str,
        health: Health,
        leading: Callable[[], bool],
        timer: Timer,
    ) -> None:
        processor = application.update_processor
        assert isinstance(processor, PerChatUpdateProcessor)
        assert processor.inbox is not None
        self._application = application
        self._processor = processor
        self._inbox = processor.inbox
        self.url = url
        self.path = urlsplit(url).path or "/"
        self._secret = secret.encode()
        self._health = health
        self._leading = leading
        self.follower = InboxFollower(application, processor, timer)
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.refused = 0  # requests answered 403

    async def receive(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self._secret):
            self.refused += 1
            return web.Response(status=403, text="forbidden")
        if request.content_length is not None and request.content_length > MAX_BODY:
            return web.Response(status=413, text="too large")
        try:
            data = json.loads(await request.read())
        except (ValueError, web.HTTPRequestEntityTooLarge):
            return web.Response(status=400, text="not an update")
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int) or data["update_id"] < 0:
            return web.Response(status=400, text="not an update")
        try:
            update = Update.de_json(data, self._application.bot)
        except Exception:  # a malformed update: nothing to keep
            log.warning("webhook: update %d could not be read", data["update_id"])
            return web.Response(status=400, text="not an update")
        key = chat_key(update)
        if key is None:
            # About no chat nor person: nothing the inbox keeps (as in polling mode); handled if this instance leads.
            if self._leading():
                await self._application.update_queue.put(update)
            return web.Response(text="ok")
        _fault("received")
        try:
            await self._inbox.receive(update, key, data)
        except Exception as exc:
            log.warning(
                "webhook: update %d could not be written (%s); Telegram will send it again",
                update.update_id,
                type(exc).__name__,
            )
            return web.Response(status=503, text="try again")
        _fault("written")
        if self._leading():
            # This chat's updates other instances received go first, then this one (all of them from the inbox).
            try:
                await self.follower.catch_up(key)
            except Exception:  # kept in the inbox: the follower hands it over in a moment
                log.warning("webhook: update %d is left to the follower", update.update_id, exc_info=True)
        return web.Response(text="ok")

    async def start(self, host: str, port: int) -> None:
        """Serve the webhook path, /healthz and /metrics on `host:port` (0: a free port, then in `self.port`)."""
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_post(self.path, self.receive)
        app.router.add_get("/healthz", self._health.healthz)
        app.router.add_get("/metrics", self._health.metrics)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        self.port = int(sockets[0].getsockname()[1]) if sockets else port
        log.info("webhook: receiving on %s:%d%s", host, self.port, self.path)

    async def lead(self) -> None:
        """Starting to lead: point Telegram at the webhook (pending updates kept) and follow the inbox."""
        await self._application.bot.set_webhook(
            url=self.url,
            secret_token=self._secret.decode(),
            drop_pending_updates=False,
        )
        log.info("telegram: webhook set (%s)", _public(self.url))
        await self.follower.catch_up()
        self.follower.start()

    async def step_down(self) -> None:
        await self.follower.stop()

    async def stop(self) -> None:
        await self.follower.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


def _public(url: str) -> str:
    """The webhook's scheme and host for the log (its path may be a secret of its own)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _fault(point: str) -> None:
    if os.environ.get(FAULT_KILL) == point:
        os.kill(os.getpid(), signal.SIGKILL)
