"""Telegram's flood limits as one pacing policy shared by direct replies and the outbox sender.

Telegram allows a bot about 30 messages a second in all, about one a second in a private chat (a short
burst tolerated) and 20 a minute in a group, and answers 429 with `retry_after` to a bot that goes faster.
Nobody outside Telegram knows the exact shape of its limiter (a token bucket, a sliding window, with the
network bunching requests on the way), so the policy assumes the strictest reasonable one:

- `SendBudget` is the whole bot's allowance. Its grants are spaced evenly (never a burst, which a sliding
  window of "30 in any second" would refuse), handed out by priority (a reply to someone chatting takes
  the next grant before any queued digest; bulk only uses what replies leave), and its rate adapts:
  a 429 trims it (and teaches it a ceiling just under the rate that drew it), 429s in quick succession
  cut it hard, and a quiet spell lets it creep back up to the ceiling, which itself is probed upwards
  after a long quiet spell. So the sender settles just under the real cap, whatever its shape.
- `ChatPacer` keeps each chat's own pace as a sliding window (at most 3 messages in any 3.1 s in a
  private chat, 20 in any 61 s in a group), which also satisfies a token bucket of the same rate and
  burst. A multi-message reply is spaced, not refused.
- A 429 pauses only the chat it answered when that chat had just had messages (its own limit); a 429 on a
  chat that had none recently can only be the bot's global limit, and pauses everyone (`classify`).

`SharedRateLimiter` plugs both into PTB for every request the bot makes, and retries a reply that failed
with a server error, a timeout or a network error with backoff for up to two minutes (the handler waits,
so the replies of one chat stay in order). The outbox sender takes its turns itself through its Telegram
transport (`transport.py`: it must record that a message is on the wire between getting its turn and
sending) and marks its requests as prepaid.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import re
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Literal

from telegram.error import BadRequest, NetworkError, RetryAfter
from telegram.ext import BaseRateLimiter

log = logging.getLogger(__name__)

# Priorities of the budget's waiters: lower goes first.
REPLY, URGENT, NORMAL, BULK = 0, 1, 2, 3
LANE_PRIORITY = {"urgent": URGENT, "normal": NORMAL, "bulk": BULK}

# Requests that put a message into a chat count against the limits; getUpdates, answers to button
# presses and edits do not.
_MESSAGE_ENDPOINTS = re.compile(r"^(send(?!ChatAction)[A-Za-z]+|copyMessages?|forwardMessages?)$")
# What a person sees as the bot's answer: retried through a Telegram outage (getUpdates and the start-up
# calls are not: PTB's updater and `bot.startup` have their own patience).
_REPLY_ENDPOINTS = re.compile(
    r"^(send[A-Za-z]+|copyMessages?|forwardMessages?|edit[A-Za-z]+|answerCallbackQuery|deleteMessages?)$"
)
# Safety margin after a retry_after, as PTB's own limiter does.
RETRY_AFTER_MARGIN = 0.1
# How long a reply is retried through server errors, timeouts and network errors.
REPLY_RETRY_SECONDS = 120.0

FloodScope = Literal["chat", "global"]


def counts_as_message(endpoint: str) -> bool:
    """Whether a Bot API method sends a message (and so counts against the flood limits)."""
    return bool(_MESSAGE_ENDPOINTS.match(endpoint))


def is_reply(endpoint: str) -> bool:
    """Whether a Bot API method is part of an answer a person waits for (retried through outages)."""
    return bool(_REPLY_ENDPOINTS.match(endpoint))


class SendBudget:
    """The whole bot's messages per second, evenly spaced, handed out by priority, adapting to 429s.

    `per_second` is the nominal cap (Telegram's 30); the budget starts at `headroom` of it and probes up to
    `top` of it after quiet spells. `None` turns
    the budget off (every acquire returns at once), for a local server without limits.
    """

    # A 429 within this long of the last cut came from grants made before it: it teaches nothing new.
    ECHO = 0.5
    # A 429 with none this long before it is isolated: noise, not the rate.
    ISOLATED = 15.0
    # Outcomes of the last few seconds tell a 429 at the edge of the cap (trim) from a cap far below (cut).
    OUTCOMES = 3.0
    FAR_BELOW = 0.2
    TRIM, CUT = 0.985, 0.7
    # Quiet spells after which the rate creeps back towards the ceiling (fast while far below it), and after
    # which the ceiling itself is probed, in case Telegram allows more again.
    CREEP_EVERY, CREEP, FAST_CREEP = 1.0, 1.005, 1.05
    PROBE_EVERY, PROBE = 30.0, 1.005

    def __init__(
        self, per_second: float | None = 30.0, *, headroom: float = 0.97, top: float = 0.985, floor: float = 1.0
    ) -> None:
        self.per_second = per_second
        self.floor = floor
        self.top = (per_second or 0.0) * max(top, headroom)
        self.ceiling = (per_second or 0.0) * headroom
        self.rate = self.ceiling
        self.cuts = 0
        self._next_at = 0.0
        self._paused_until = 0.0
        self._last_cut = float("-inf")
        self._last_flood = float("-inf")
        self._last_creep = 0.0
        self._last_probe = 0.0
        self._outcomes: deque[tuple[float, bool]] = deque()
        self._started: deque[float] = deque()
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0

    @property
    def waiting(self) -> int:
        """How many requests wait for a grant (for tests and the benchmark)."""
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
        """Telegram said 429 for the whole bot: nothing is sent by anyone until `seconds` have passed."""
        loop = asyncio.get_running_loop()
        self._paused_until = max(self._paused_until, loop.time() + seconds)
        self._schedule(self._paused_until)

    async def gate(self) -> None:
        """Right after a grant, as close to the request as the caller can (the outbox sender still records
        the row as on the wire after it, so a crash never strands a row that waited here): hold the message while
        `per_second` messages already left in the last `per_second / rate` seconds. Grants are spaced evenly, but
        a busy loop can bunch their takers; this keeps any window of that length within the cap, so mostly the
        network's own jitter is left for the adaptive rate to absorb."""
        if self.per_second is None:
            return
        loop = asyncio.get_running_loop()
        count = max(1, int(self.per_second))
        while True:
            now = loop.time()
            span = count / self.rate
            while self._started and self._started[0] <= now - span:
                self._started.popleft()
            if len(self._started) < count:
                self._started.append(now)
                return
            await asyncio.sleep(self._started[-count] + span - now)

    def note(self, accepted: bool) -> None:
        """Telegram accepted a message (or answered 429): what `slow_down` judges the cap by."""
        if self.per_second is None:
            return
        now = asyncio.get_running_loop().time()
        self._outcomes.append((now, accepted))
        while self._outcomes and self._outcomes[0][0] < now - self.OUTCOMES:
            self._outcomes.popleft()

    def slow_down(self) -> None:
        """A global 429. Many recent refusals mean a cap far below the rate: cut it hard. A 429 soon after another
        means the rate sits just over the cap: trim it and learn a ceiling just under it. An isolated 429 is the
        network bunching requests, not the rate: the pause is enough (trimming for it would ratchet the rate
        down a little more with every bit of noise)."""
        if self.per_second is None:
            return
        now = asyncio.get_running_loop().time()
        if now - self._last_flood < self.ECHO:
            return
        isolated = now - self._last_flood >= self.ISOLATED
        self._last_flood = now
        refused = sum(1 for _, accepted in self._outcomes if not accepted)
        share = refused / len(self._outcomes) if self._outcomes else 1.0
        before = self.rate
        if share > self.FAR_BELOW:
            self.ceiling = max(self.floor, min(self.ceiling, before * self.TRIM))
            self.rate = max(self.floor, before * self.CUT)
        elif isolated:
            log.info("a 429 at %.1f/s, the first in a while: pausing, not slowing down", before)
            return
        else:
            self.ceiling = max(self.floor, min(self.ceiling, before * self.TRIM))
            self.rate = self.ceiling
        self._last_cut = self._last_creep = self._last_probe = now
        self.cuts += 1
        log.info("sending rate %.1f/s after a 429 (ceiling %.1f/s)", self.rate, self.ceiling)

    def _adapt(self, now: float) -> None:
        if now - self._last_cut >= self.PROBE_EVERY and now - self._last_probe >= self.PROBE_EVERY:
            self.ceiling = min(self.top, self.ceiling * self.PROBE)
            self._last_probe = now
        if self.rate < self.ceiling and now - self._last_creep >= self.CREEP_EVERY:
            step = self.FAST_CREEP if self.rate < 0.9 * self.ceiling else self.CREEP
            self.rate = min(self.ceiling, self.rate * step)
            self._last_creep = now

    def _dispatch(self) -> None:
        loop = asyncio.get_running_loop()
        self._timer = None
        now = loop.time()
        self._adapt(now)
        interval = 1.0 / self.rate
        while self._waiters:
            _, _, future = self._waiters[0]
            if future.done():  # the waiter was cancelled
                heapq.heappop(self._waiters)
                continue
            if now < self._paused_until:
                self._schedule(self._paused_until)
                return
            if now < self._next_at:
                self._schedule(self._next_at)
                return
            # Evenly spaced: a grant that comes late (the loop was busy) is made up by the next one coming that
            # much sooner, so a busy loop costs no throughput, yet no second holds more than its share (and the
            # gate keeps the requests themselves within any window); after an idle spell, no catching up.
            late = now - self._next_at
            self._next_at = (self._next_at if late <= interval else now) + interval
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
class _ChatWindow:
    sent: deque[float]
    paused_until: float = 0.0


class ChatPacer:
    """Each chat's own pace, as a sliding window: at most `private_burst` messages in any
    `private_burst / private_per_second` seconds (plus a margin for the network) in a private chat, and
    `group_burst` in `group_burst / group_per_minute` minutes in a group. A chat's 429 pauses that chat."""

    def __init__(
        self,
        *,
        private_per_second: float = 1.0,
        private_burst: int = 3,
        group_per_minute: float = 20.0,
        group_burst: int = 20,
        margin: float = 0.1,
        enabled: bool = True,
        timer: Callable[[], float] | None = None,
    ) -> None:
        self._private = (private_burst, private_burst / private_per_second + margin)
        self._group = (group_burst, group_burst / group_per_minute * 60.0 + 10 * margin)
        self._enabled = enabled
        self._timer = timer
        self._chats: dict[int, _ChatWindow] = {}

    def _now(self) -> float:
        return self._timer() if self._timer else asyncio.get_running_loop().time()

    def _window(self, chat_id: int, now: float) -> tuple[_ChatWindow, int, float]:
        count, span = self._private if chat_id > 0 else self._group
        chat = self._chats.get(chat_id)
        if chat is None:
            if len(self._chats) > 50_000:
                self._forget_idle(now)
            chat = self._chats[chat_id] = _ChatWindow(deque())
        while chat.sent and chat.sent[0] <= now - span:
            chat.sent.popleft()
        return chat, count, span

    def _forget_idle(self, now: float) -> None:
        for chat_id, chat in list(self._chats.items()):
            _, span = self._private if chat_id > 0 else self._group
            if chat.paused_until <= now and (not chat.sent or chat.sent[-1] <= now - span):
                del self._chats[chat_id]

    def ready_in(self, chat_id: int) -> float:
        """Seconds until the chat may get another message (0 if now)."""
        if not self._enabled:
            return 0.0
        now = self._now()
        chat, count, span = self._window(chat_id, now)
        wait = max(0.0, chat.paused_until - now)
        if len(chat.sent) >= count:
            wait = max(wait, chat.sent[-count] + span - now)
        return wait

    def record(self, chat_id: int) -> None:
        """Count a message to the chat now."""
        if self._enabled:
            now = self._now()
            self._window(chat_id, now)[0].sent.append(now)

    def recently_sent(self, chat_id: int, within: float = 1.5) -> int:
        """How many messages went to the chat in the last `within` seconds (by this pacer's count)."""
        chat = self._chats.get(chat_id)
        if chat is None:
            return 0
        now = self._now()
        return sum(1 for at in chat.sent if at > now - within)

    def pause(self, chat_id: int, seconds: float) -> None:
        """The chat's own 429: nothing more to it until `seconds` have passed."""
        if self._enabled:
            now = self._now()
            chat = self._window(chat_id, now)[0]
            chat.paused_until = max(chat.paused_until, now + seconds)

    async def take(self, chat_id: int) -> None:
        """Wait until the chat may get another message, and count it."""
        if not self._enabled:
            return
        # The wait is known exactly from the window; another request may take the turn meanwhile, so look again.
        while (wait := self.ready_in(chat_id)) > 0:  # noqa: ASYNC110
            await asyncio.sleep(wait)
        self.record(chat_id)


async def take_turn(
    pacer: ChatPacer, budget: SendBudget, chat_id: int | None, priority: int, *, record: bool = True
) -> None:
    """Wait for the chat's pace, then for a grant of the budget and its gate, and count the message against both.

    The chat is counted after the grant (which a digest may wait seconds for), so its window holds the times
    its messages left; if another request to the chat took its turn meanwhile, wait for the chat again (that
    grant is spent, a rare small loss). `record=False` (the outbox sender): the chat is counted only when a
    message really goes out (`SharedRateLimiter`), so a row found superseded or an edit takes none of it.
    """
    while True:
        if chat_id is not None:
            while (wait := pacer.ready_in(chat_id)) > 0:  # noqa: ASYNC110
                await asyncio.sleep(wait)
        await budget.acquire(priority)
        if chat_id is None or pacer.ready_in(chat_id) == 0:
            break
    if chat_id is not None and record:
        pacer.record(chat_id)
    await budget.gate()


@dataclass(frozen=True, slots=True)
class Prepaid:
    """`rate_limit_args` of a request whose budget the caller already took (the outbox sender)."""

    lane: str


class SharedRateLimiter(BaseRateLimiter[Prepaid]):
    """PTB's rate limiter for the bot's own requests, drawing on the budget the sender shares.

    A direct reply waits for its chat's pace and then takes the next grant at the highest priority. A 429
    pauses its chat or the whole bot (`classify`) and the reply is sent again (up to `max_retries` times), so
    a flood answer delays a reply but does not lose it; a server error, timeout or network error is retried
    with backoff for up to `retry_for` seconds. Requests marked `Prepaid` pass straight through; on a 429
    they pause what it concerns and the error goes back to the sender, which has its own retries.
    """

    def __init__(
        self,
        budget: SendBudget | None = None,
        pacer: ChatPacer | None = None,
        *,
        max_retries: int = 5,
        retry_for: float = REPLY_RETRY_SECONDS,
        first_backoff: float = 0.5,
    ) -> None:
        self.budget = budget or SendBudget()
        self.pacer = pacer or ChatPacer()
        self.max_retries = max_retries
        self.retry_for = retry_for
        self.first_backoff = first_backoff
        self.retry_after_count = 0
        self.global_pauses = 0
        self.chat_pauses = 0

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    def classify(self, chat_id: int | None) -> FloodScope:
        """Whose limit a 429 on `chat_id` is about: the chat's own, if it had just had messages; else the bot's."""
        if chat_id is not None and self.pacer.recently_sent(chat_id) >= 2:
            return "chat"
        return "global"

    def on_retry_after(self, exc: RetryAfter, chat_id: int | None = None) -> FloodScope:
        """Pause the chat or everyone for `retry_after`, as Telegram means a 429; a global one also slows the rate."""
        self.retry_after_count += 1
        seconds = exc.retry_after if isinstance(exc.retry_after, int | float) else exc.retry_after.total_seconds()
        pause = float(seconds) + RETRY_AFTER_MARGIN
        scope = self.classify(chat_id)
        if scope == "chat" and chat_id is not None:
            self.chat_pauses += 1
            log.info("Telegram asked to slow down in chat %s: pausing that chat for %.1f s", chat_id, pause)
            self.pacer.pause(chat_id, pause)
        else:
            self.global_pauses += 1
            self.budget.note(accepted=False)
            log.warning("Telegram asked the bot to slow down: pausing all sends for %.1f s", pause)
            self.budget.pause(pause)
            self.budget.slow_down()
        return scope

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: Prepaid | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        chat_id = _chat_id(data)
        message = counts_as_message(endpoint)
        if rate_limit_args is not None:
            if message and chat_id is not None:
                self.pacer.record(chat_id)
            try:
                result = await callback(*args, **kwargs)
            except RetryAfter as exc:
                self.on_retry_after(exc, chat_id)
                raise
            if message:
                self.budget.note(accepted=True)
            return result
        if not message and not is_reply(endpoint):
            return await callback(*args, **kwargs)
        loop = asyncio.get_running_loop()
        give_up_at = loop.time() + self.retry_for
        backoff = self.first_backoff
        floods = 0
        while True:
            if message:
                await take_turn(self.pacer, self.budget, chat_id, REPLY)
            try:
                result = await callback(*args, **kwargs)
            except RetryAfter as exc:
                self.on_retry_after(exc, chat_id)
                floods += 1
                if floods > self.max_retries:
                    raise
            except BadRequest:
                raise  # the request itself is wrong: sending it again cannot help
            except NetworkError as exc:  # 5xx, timeouts, connection errors
                if loop.time() + backoff > give_up_at:
                    raise
                log.info("%s to chat %s failed (%s); trying again in %.1f s", endpoint, chat_id, exc.message, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 15.0)
            else:
                if message:
                    self.budget.note(accepted=True)
                return result


def _chat_id(data: dict[str, Any]) -> int | None:
    value = data.get("chat_id")
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None  # an @channelname; only the whole-bot budget applies
