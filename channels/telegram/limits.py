"""Telegram's flood limits as one budget shared by direct replies and the outbox sender.

Telegram allows a bot about 30 messages a second in all, about one a second in a private chat and 20
a minute in a group, and answers 429 with `retry_after` to a bot that goes faster, for the whole bot.
`SendBudget` is that whole-bot allowance: a token bucket whose waiters are served by priority, so a
reply to someone who is chatting takes the next token before any queued digest does and bulk only
uses what replies leave. `ChatPacer` keeps each chat's own pace. `SharedRateLimiter` plugs both into
PTB for every request the bot makes; the outbox sender takes its tokens itself through its Telegram
transport (`transport.py`: it must record that a message is on the wire between getting its token and
sending) and marks its requests as prepaid.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import re
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

log = logging.getLogger(__name__)

# Priorities of the budget's waiters: lower goes first.
REPLY, URGENT, NORMAL, BULK = 0, 1, 2, 3
LANE_PRIORITY = {"urgent": URGENT, "normal": NORMAL, "bulk": BULK}

# Requests that put a message into a chat count against the limits; getUpdates, answers to button
# presses and edits do not.
_MESSAGE_ENDPOINTS = re.compile(r"^(send(?!ChatAction)[A-Za-z]+|copyMessages?|forwardMessages?)$")
# Safety margin after a retry_after, as PTB's own limiter does.
RETRY_AFTER_MARGIN = 0.1


def counts_as_message(endpoint: str) -> bool:
    """Whether a Bot API method sends a message (and so counts against the flood limits)."""
    return bool(_MESSAGE_ENDPOINTS.match(endpoint))


class SendBudget:
    """The whole bot's messages per second, handed out by priority; paused by a 429.

    `per_second=None` turns the budget off (every acquire returns at once), for a local server
    without limits.
    """

    def __init__(self, per_second: float | None = 30.0, burst: int = 5) -> None:
        self.per_second = per_second
        self.burst = float(burst)
        self._tokens = float(burst)
        self._updated: float | None = None
        self._paused_until = 0.0
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0

    @property
    def waiting(self) -> int:
        """How many requests wait for a token (for tests and the benchmark)."""
        return sum(1 for _, _, future in self._waiters if not future.done())

    async def acquire(self, priority: int) -> None:
        """Wait for one message's worth of the budget; lower `priority` is served first."""
        if self.per_second is None:
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (priority, next(self._order), future))
        self._dispatch()
        await future

    def pause(self, seconds: float) -> None:
        """Telegram said 429: nothing is sent by anyone until `seconds` have passed."""
        loop = asyncio.get_running_loop()
        self._paused_until = max(self._paused_until, loop.time() + seconds)
        self._tokens = 0.0
        self._schedule(self._paused_until)

    def _dispatch(self) -> None:
        loop = asyncio.get_running_loop()
        self._timer = None
        now = loop.time()
        assert self.per_second is not None
        if self._updated is not None:
            self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.per_second)
        self._updated = now
        while self._waiters:
            _, _, future = self._waiters[0]
            if future.done():  # the waiter was cancelled
                heapq.heappop(self._waiters)
                continue
            if now < self._paused_until:
                self._schedule(self._paused_until)
                return
            if self._tokens < 1:
                self._schedule(now + (1 - self._tokens) / self.per_second)
                return
            self._tokens -= 1
            heapq.heappop(self._waiters)
            future.set_result(None)

    def _schedule(self, when: float) -> None:
        if self._timer is not None:
            if self._timer_at <= when:
                return
            self._timer.cancel()
        self._timer_at = when
        self._timer = asyncio.get_running_loop().call_at(when, self._dispatch)


@dataclass
class _ChatBucket:
    tokens: float
    updated: float


class ChatPacer:
    """Each chat's own pace: about one message a second in a private chat, 20 a minute in a group."""

    def __init__(
        self,
        *,
        private_per_second: float = 1.0,
        private_burst: int = 3,
        group_per_minute: float = 20.0,
        group_burst: int = 20,
        enabled: bool = True,
        timer: Callable[[], float] | None = None,
    ) -> None:
        self._private = (private_per_second, float(private_burst))
        self._group = (group_per_minute / 60.0, float(group_burst))
        self._enabled = enabled
        self._timer = timer
        self._buckets: dict[int, _ChatBucket] = {}

    def _now(self) -> float:
        return self._timer() if self._timer else asyncio.get_running_loop().time()

    def _bucket(self, chat_id: int, now: float) -> tuple[_ChatBucket, float, float]:
        rate, capacity = self._private if chat_id > 0 else self._group
        bucket = self._buckets.get(chat_id)
        if bucket is None:
            if len(self._buckets) > 50_000:
                self._forget_idle(now)
            bucket = self._buckets[chat_id] = _ChatBucket(capacity, now)
        bucket.tokens = min(capacity, bucket.tokens + (now - bucket.updated) * rate)
        bucket.updated = now
        return bucket, rate, capacity

    def _forget_idle(self, now: float) -> None:
        for chat_id, bucket in list(self._buckets.items()):
            rate, capacity = self._private if chat_id > 0 else self._group
            if bucket.tokens + (now - bucket.updated) * rate >= capacity:
                del self._buckets[chat_id]

    def ready_in(self, chat_id: int) -> float:
        """Seconds until the chat may get another message (0 if now)."""
        if not self._enabled:
            return 0.0
        bucket, rate, _ = self._bucket(chat_id, self._now())
        return 0.0 if bucket.tokens >= 1 else (1 - bucket.tokens) / rate

    async def take(self, chat_id: int) -> None:
        """Wait until the chat may get another message, and count it."""
        if not self._enabled:
            return
        # The wait is known exactly from the bucket; another request may take the token meanwhile, so look again.
        while (wait := self.ready_in(chat_id)) > 0:  # noqa: ASYNC110
            await asyncio.sleep(wait)
        self._buckets[chat_id].tokens -= 1


@dataclass(frozen=True, slots=True)
class Prepaid:
    """`rate_limit_args` of a request whose budget the caller already took (the outbox sender)."""

    lane: str


class SharedRateLimiter(BaseRateLimiter[Prepaid]):
    """PTB's rate limiter for the bot's own requests, drawing on the budget the sender shares.

    A direct reply waits for its chat's pace and then takes the next token at the highest priority;
    a 429 pauses the whole budget for `retry_after` and the reply is sent again (up to `max_retries`
    times), so a flood answer delays a reply but does not lose it. Requests marked `Prepaid` pass
    straight through; on a 429 they pause the budget and the error goes back to the sender.
    """

    def __init__(
        self, budget: SendBudget | None = None, pacer: ChatPacer | None = None, *, max_retries: int = 5
    ) -> None:
        self.budget = budget or SendBudget()
        self.pacer = pacer or ChatPacer()
        self.max_retries = max_retries
        self.retry_after_count = 0

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    def on_retry_after(self, exc: RetryAfter) -> None:
        """Pause everyone, as Telegram means a 429."""
        self.retry_after_count += 1
        seconds = exc.retry_after if isinstance(exc.retry_after, int | float) else exc.retry_after.total_seconds()
        log.warning("Telegram asked to slow down: pausing all sends for %.1f s", seconds)
        self.budget.pause(float(seconds) + RETRY_AFTER_MARGIN)

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: Prepaid | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        if not counts_as_message(endpoint):
            return await callback(*args, **kwargs)
        if rate_limit_args is not None:
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                self.on_retry_after(exc)
                raise
        chat_id = _chat_id(data)
        for attempt in range(self.max_retries + 1):
            if chat_id is not None:
                await self.pacer.take(chat_id)
            await self.budget.acquire(REPLY)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                self.on_retry_after(exc)
                if attempt == self.max_retries:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover


def _chat_id(data: dict[str, Any]) -> int | None:
    value = data.get("chat_id")
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None  # an @channelname; only the whole-bot budget applies
