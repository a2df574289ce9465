"""Webhook delivery as Telegram does it, for the Bot API simulator (`BotApiSimulator.webhook_delivery`).

Sources:
- core.telegram.org/bots/api#setwebhook: "Whenever there is an update for the bot, we will send an HTTPS POST
  request to the specified URL, containing a JSON-serialized Update. In case of an unsuccessful request (a request
  with response HTTP status code different from 2XY), we will repeat the request and give up after a reasonable
  amount of attempts."; the header "X-Telegram-Bot-Api-Secret-Token" carries `secret_token`; `max_connections`
  (1-100, default 40) caps simultaneous connections; `drop_pending_updates` drops all pending updates; "Ports
  currently supported for webhooks: 443, 80, 88, 8443"; `secret_token`: 1-256 characters, A-Z, a-z, 0-9, _ and -.
- core.telegram.org/bots/api#getwebhookinfo: `pending_update_count`, `last_error_date`, `last_error_message`.
- The open-source Bot API server (github.com/tdlib/telegram-bot-api, telegram-bot-api/WebhookActor.cpp), as issue
  30 states its behaviour: updates go out one at a time per chat, in order; a failed delivery is retried at once,
  then after 2, 4, 8, 16 and 32 s, then every 60-120 s; the server waits at most 60 s for an answer; `setWebhook`
  with a changed secret (or URL, or connection limit) restarts delivery and resets the back-off.

Telegram reaches the bot over HTTPS; a deployment terminates TLS at a reverse proxy in front of the bot's plain HTTP
port. The simulator keeps Telegram's rule that the URL is `https://` on an allowed port, and `routes` plays the
proxy: it maps the public URL to the local address the bot listens on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import aiohttp

from core.clock import within

if TYPE_CHECKING:
    from .server import BotApiSimulator

log = logging.getLogger(__name__)

ANSWER_WITHIN = 60.0  # seconds Telegram waits for a webhook's answer
FIRST_RETRIES = (0.0, 2.0, 4.0, 8.0, 16.0, 32.0)  # after the 1st, 2nd, ... failure of one delivery
LATER_RETRY = (60.0, 120.0)  # then every 60-120 s
ALLOWED_PORTS = frozenset({443, 80, 88, 8443})
DEFAULT_MAX_CONNECTIONS = 40


def retry_delay(failures: int, rng: Callable[[float, float], float] = random.uniform) -> float:
    """Seconds before the next try of a delivery that failed `failures` times (1: at once)."""
    if failures <= len(FIRST_RETRIES):
        return FIRST_RETRIES[failures - 1]
    return rng(*LATER_RETRY)


def queue_key(update: dict[str, Any]) -> int:
    """The chat an update belongs to: updates of one chat are delivered one at a time, in order."""
    for kind in ("message", "edited_message", "channel_post", "edited_channel_post"):
        if kind in update:
            return int(update[kind]["chat"]["id"])
    query = update.get("callback_query")
    if query is not None:
        message = query.get("message")
        return int(message["chat"]["id"]) if message else int(query["from"]["id"])
    return 0


def update_type(update: dict[str, Any]) -> str:
    return next(k for k in update if k != "update_id")


@dataclass
class Delivery:
    """One POST of an update to the webhook, and how it ended."""

    update_id: int
    chat: int
    started: float  # the simulator's timer
    secret: str | None
    update: dict[str, Any] = field(default_factory=dict)  # what was posted
    status: int | None = None  # HTTP status; None: no answer (timeout, connection refused)
    error: str = ""
    ended: float | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass
class _Queue:
    failures: int = 0
    retry_at: float = float("-inf")
    busy: bool = False
    wake: Any = None  # the timer handle that wakes the loop at retry_at


@dataclass
class WebhookDelivery:
    """Delivers the simulator's pending updates to the webhook while one is set."""

    sim: BotApiSimulator
    routes: dict[str, str] = field(default_factory=dict)
    deliveries: list[Delivery] = field(default_factory=list)
    last_error_date: int | None = None
    last_error_message: str | None = None
    _queues: dict[int, _Queue] = field(default_factory=dict)
    _task: asyncio.Task[None] | None = None
    _posts: set[asyncio.Task[None]] = field(default_factory=set)
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _session: aiohttp.ClientSession | None = None

    def route(self, public_url: str, local_url: str) -> None:
        """Telegram's POSTs to `public_url` reach `local_url` (what the reverse proxy in front of the bot does)."""
        self.routes[public_url] = local_url

    def target(self, url: str) -> str:
        return self.routes.get(url, url)

    def wake(self) -> None:
        self._wake.set()

    def restart(self) -> None:
        """A new webhook (or none): in-flight POSTs are abandoned (their updates stay pending), back-off resets."""
        self._stop_posts()
        self._queues.clear()
        if self.sim.webhook.get("url") and (self._task is None or self._task.done()):
            self._task = asyncio.create_task(self._run(), name="sim-webhook-delivery")
        self.wake()

    def _stop_posts(self) -> None:
        for task in self._posts:
            task.cancel()
        self._posts.clear()
        for queue in self._queues.values():
            if queue.wake is not None:
                queue.wake.cancel()

    async def stop(self) -> None:
        self._stop_posts()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _run(self) -> None:
        while self.sim.webhook.get("url"):
            self._wake.clear()
            self._dispatch()
            await self._wake.wait()

    def _dispatch(self) -> None:
        """Start a POST for the oldest pending update of each chat that is not busy nor waiting to retry."""
        sim = self.sim
        sim.expire_updates()
        webhook = sim.webhook
        limit = int(webhook.get("max_connections") or DEFAULT_MAX_CONNECTIONS)
        allowed = webhook.get("allowed_updates") or []
        now = sim.timer.monotonic()
        seen: set[int] = set()
        for update in list(sim.pending_updates):
            if allowed and update_type(update) not in allowed:
                sim.drop_update(update["update_id"])  # an update of a kind the bot did not ask for never goes out
                continue
            key = queue_key(update)
            if key in seen:
                continue
            seen.add(key)
            queue = self._queues.setdefault(key, _Queue())
            if queue.busy or queue.retry_at > now:
                continue
            if sum(q.busy for q in self._queues.values()) >= limit:
                return
            queue.busy = True
            task = asyncio.create_task(self._post(update, key, queue, dict(webhook)))
            self._posts.add(task)
            task.add_done_callback(self._posts.discard)

    async def _post(self, update: dict[str, Any], key: int, queue: _Queue, webhook: dict[str, Any]) -> None:
        sim = self.sim
        secret = webhook.get("secret_token")
        delivery = Delivery(update["update_id"], key, sim.timer.monotonic(), secret, dict(update))
        self.deliveries.append(delivery)
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None))
        session = self._session

        async def post() -> None:
            async with session.post(self.target(webhook["url"]), json=update, headers=headers) as response:
                delivery.status = response.status
                await response.read()

        try:
            if not await within(sim.timer, post(), ANSWER_WITHIN):
                delivery.error = "Read timeout expired"
        except Exception as exc:  # refused, reset, a broken answer: all failures to Telegram
            delivery.error = f"Connection failed: {type(exc).__name__}"
        delivery.ended = sim.timer.monotonic()
        queue.busy = False
        if delivery.ok:
            queue.failures, queue.retry_at = 0, float("-inf")
            sim.drop_update(update["update_id"])
        else:
            if delivery.status is not None:
                delivery.error = f"Wrong response from the webhook: {delivery.status}"
            self.last_error_date = int(sim.clock())
            self.last_error_message = delivery.error
            queue.failures += 1
            queue.retry_at = delivery.ended + retry_delay(queue.failures)
            queue.wake = sim.timer.call_at(queue.retry_at, self.wake)
        sim.activity()
        self.wake()
