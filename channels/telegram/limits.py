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
  after a long quiet spell, up to the cap itself: the gate, not the rate, keeps the margin.
- `StartWindow` is the final gate, right before a reply's request and before the outbox sender marks a row as
  on the wire (nothing starts during a global pause either): a request starts only once the 30th request
  before it is a second behind it — counted from that request's answer when it came back (it reached Telegram
  before its answer left, however the network or a busy loop delayed it), else from its start plus `NETWORK`
  (`SAFE_WINDOW`: never more than 30 unanswered starts in any 1.05 s). So 31 requests never reach a strict "30
  in any second" window together, and the bot still sends 30 in about 1.03 s. At most `AHEAD` grants wait for
  the gate, so a reply is not queued there behind a second of bulk.
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
import functools
import heapq
import itertools
import logging
import re
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Literal

from telegram.error import BadRequest, NetworkError, RetryAfter
from telegram.ext import BaseRateLimiter

from channels.telegram.taps import Taps, is_expired
from core.clock import Cancellable, LoopTimer, Timer

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
# Telegram's limiter may be a strict "30 in any 1 s" window, and the network delays each request by up to
# NETWORK seconds, so two requests started 1.05 s apart may arrive only 1.0 s apart: with nothing else known,
# at most the bot's per-second cap of requests may start in any SAFE_WINDOW seconds, the highest rate that can
# never draw a 429 from such a limiter (30/1.05 = 28.6/s, 95.2% of the cap). Each 429 pauses every send for
# about a second, so going faster costs far more than it gains. A request whose answer came back is known to
# have arrived by then: the gate counts the window from that answer instead (`StartWindow`).
NETWORK = 0.05
SAFE_WINDOW = 1.0 + NETWORK
# A request never starts on the exact edge of a window: the same instant reached by two sums of floats can differ
# by a hair, and with an answer that came back at once (no network between) that hair was a 429.
EDGE = 1e-6

FloodScope = Literal["chat", "global"]
# What a Bot API call returns.
Result = bool | dict[str, Any] | list[dict[str, Any]]


def counts_as_message(endpoint: str) -> bool:
    """Whether a Bot API method sends a message (and so counts against the flood limits)."""
    return bool(_MESSAGE_ENDPOINTS.match(endpoint))


def is_reply(endpoint: str) -> bool:
    """Whether a Bot API method is part of an answer a person waits for (retried through outages)."""
    return bool(_REPLY_ENDPOINTS.match(endpoint))


@dataclass(slots=True)
class Start:
    """One request's start in a `StartWindow`, and when its answer came back (None while on the wire)."""

    at: float
    answered: float | None = None
    left: bool = False  # older than the window's last `count` starts


class StartWindow:
    """The gate's record of request starts: a request may start `span - NETWORK` seconds after the answers to the
    `count`-th request before it and to every earlier one came back (each arrived before its answer, however
    the network or a busy loop delayed it), and, while that `count`-th request is still unanswered, `span`
    seconds after its start (allowing NETWORK for its way). Times are the caller's."""

    def __init__(self, count: int, span: float) -> None:
        self.count = count
        self.span = span
        self._starts: deque[Start] = deque()
        self._answered_before = float("-inf")  # the latest answer to a start older than the last `count`

    def wait(self, now: float, span: float | None = None) -> float:
        """Seconds until one more request may start at `now` (0 if now); `span` overrides the window's length."""
        if len(self._starts) < self.count:
            return 0.0
        span = self.span if span is None else span
        oldest = self._starts[0]  # the `count`-th start before the next one
        # Where the answer came back, the request arrived before it: count from the answer, whatever delayed
        # it (the network, a busy loop). Where it has not, count from its start, allowing NETWORK for its way.
        free_at = oldest.at + span if oldest.answered is None else oldest.answered + span - NETWORK
        return max(0.0, free_at + EDGE - now, self._answered_before + span - NETWORK + EDGE - now)

    def start(self, now: float) -> Start:
        """Count a request starting at `now`; pass what this returns to `answered` when its answer comes."""
        start = Start(now)
        self._starts.append(start)
        if len(self._starts) > self.count:
            old = self._starts.popleft()
            old.left = True
            if old.answered is not None:
                self._answered_before = max(self._answered_before, old.answered)
        return start

    def answered(self, start: Start, now: float) -> None:
        """The request's answer (any answer, an error too) came back at `now`."""
        start.answered = now
        if start.left:
            self._answered_before = max(self._answered_before, now)


class SendBudget:
    """The whole bot's messages per second, evenly spaced, handed out by priority, adapting to 429s.

    `per_second` is the nominal cap (Telegram's 30); the budget starts at `headroom` of it and probes up to
    `top` of it after quiet spells (at most the cap: the gate holds the requests themselves to what Telegram
    can take). `None` turns the budget off (every acquire returns at once), for a local server without limits.
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
    # Grants the loop made late while requests waited are made up, at most this many seconds' worth.
    CATCH_UP = 0.25
    # At most this many grants wait for the gate (between a grant and its request the outbox sender writes
    # the row): enough to keep the gate busy, few enough that a reply granted next never queues at the gate
    # behind a second of bulk. A grant that never reaches the gate (a row found superseded) is forgotten after
    # GRANT_EXPIRES seconds.
    AHEAD, GRANT_EXPIRES = 6, 1.0

    def __init__(
        self,
        per_second: float | None = 30.0,
        *,
        headroom: float = 1.0,
        top: float = 1.0,
        floor: float = 1.0,
        timer: Timer | None = None,
    ) -> None:
        self.timer = timer or LoopTimer()
        self.per_second = per_second
        self.floor = floor
        cap = per_second or 0.0
        self.top = cap * min(1.0, max(top, headroom))
        self.ceiling = cap * min(1.0, headroom)
        self.rate = self.ceiling
        self.cuts = 0
        self._next_at = 0.0
        self._paused_until = 0.0
        self._last_cut = float("-inf")
        self._last_flood = float("-inf")
        self._last_creep = 0.0
        self._last_probe = 0.0
        self._outcomes: deque[tuple[float, bool]] = deque()
        self._starts = StartWindow(max(1, int(cap)), SAFE_WINDOW)
        self._granted: deque[float] = deque()  # grants not through the gate yet
        self._at_gate: list[tuple[int, int, asyncio.Future[Start]]] = []
        self._gate_timer: Cancellable | None = None
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._timer: Cancellable | None = None
        self._timer_at = 0.0

    @property
    def waiting(self) -> int:
        """How many requests wait for a grant (for tests and the benchmark)."""
        return sum(1 for _, _, future in self._waiters if not future.done())

    async def acquire(self, priority: int) -> None:
        """Wait for one message's worth of the budget; lower `priority` is served first."""
        if self.per_second is None:
            return
        if not self.waiting:  # idle until now: grants missed while nobody waited are not made up
            self._next_at = max(self._next_at, self.timer.monotonic())
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (priority, next(self._order), future))
        self._dispatch()
        await future

    def paused_for(self) -> float:
        """Seconds left of a global pause (0 if none)."""
        return max(0.0, self._paused_until - self.timer.monotonic())

    def pause(self, seconds: float) -> None:
        """Telegram said 429 for the whole bot: nothing is sent by anyone until `seconds` have passed."""
        self._paused_until = max(self._paused_until, self.timer.monotonic() + seconds)
        self._next_at = max(self._next_at, self._paused_until)  # no burst of grants after the pause
        self._schedule(self._paused_until)

    async def gate(self, priority: int = BULK) -> Start | None:
        """The last step before a message's request leaves (for the outbox sender, before it records its row as on
        the wire, so a crash never strands a row that waited here): wait while a global pause lasts, and until
        `StartWindow` lets one more request start (the window is longer when the rate was cut:
        `per_second / rate`). Requests waiting here go by `priority` too, so a reply is the next to leave.
        Grants come at most at the cap and only `AHEAD` wait here, so the wait is short. Pass the result to
        `answered` when the answer comes back."""
        if self.per_second is None:
            return None
        future: asyncio.Future[Start] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._at_gate, (priority, next(self._order), future))
        self._open_gate()
        return await future

    def _open_gate(self) -> None:
        """Let through the requests waiting at the gate that may start now, in order of priority."""
        if self._gate_timer is not None:
            self._gate_timer.cancel()
            self._gate_timer = None
        while self._at_gate:
            future = self._at_gate[0][2]
            if future.done():  # the waiter was cancelled
                heapq.heappop(self._at_gate)
                continue
            now = self.timer.monotonic()
            span = max(SAFE_WINDOW, self._starts.count / self.rate)
            wait = max(self._paused_until - now, self._starts.wait(now, span))
            if wait > 0:
                self._gate_timer = self.timer.call_at(now + wait, self._open_gate)
                return
            heapq.heappop(self._at_gate)
            future.set_result(self._starts.start(now))
            if self._granted:
                self._granted.popleft()
                if self._waiters:
                    self._dispatch()

    def answered(self, start: Start | None) -> None:
        """The answer to a request that passed the gate came back (whatever it said): the gate may open sooner."""
        if start is not None:
            self._starts.answered(start, self.timer.monotonic())
            if self._at_gate:
                self._open_gate()

    def note(self, accepted: bool) -> None:
        """Telegram accepted a message (or answered 429): what `slow_down` judges the cap by."""
        if self.per_second is None:
            return
        now = self.timer.monotonic()
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
        now = self.timer.monotonic()
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
        self._timer = None
        now = self.timer.monotonic()
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
            while self._granted and self._granted[0] <= now - self.GRANT_EXPIRES:
                self._granted.popleft()
            if len(self._granted) >= self.AHEAD:  # the gate passes the next, and grants again
                self._schedule(self._granted[0] + self.GRANT_EXPIRES)
                return
            # Evenly spaced: grants that come late while requests were waiting (the loop was busy) are made up
            # by the next ones coming that much sooner, up to CATCH_UP seconds' worth, so a busy loop costs no
            # throughput (the gate keeps the requests themselves within any window); after an idle spell
            # (`acquire` found nobody waiting), no catching up.
            self._next_at = max(self._next_at, now - self.CATCH_UP) + interval
            heapq.heappop(self._waiters)
            self._granted.append(now)
            future.set_result(None)

    def _schedule(self, when: float) -> None:
        if self._timer is not None:
            if self._timer_at <= when:
                return
            self._timer.cancel()
        self._timer_at = when
        self._timer = self.timer.call_at(when, self._dispatch)


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
        timer: Timer | None = None,
    ) -> None:
        self._private = (private_burst, private_burst / private_per_second + margin)
        self._group = (group_burst, group_burst / group_per_minute * 60.0 + 10 * margin)
        self._enabled = enabled
        self.timer = timer or LoopTimer()
        self._chats: dict[int, _ChatWindow] = {}

    def _now(self) -> float:
        return self.timer.monotonic()

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

    def restamp(self, chat_id: int) -> None:
        """The chat's latest message left only now (it waited at the budget's gate after its turn): count it
        from now. Moving a time later never lets a chat have more than its pace."""
        chat = self._chats.get(chat_id)
        if self._enabled and chat is not None and chat.sent:
            chat.sent[-1] = max(chat.sent[-1], self._now())

    def recently_sent(self, chat_id: int, within: float = 1.5) -> int:
        """How many messages went to the chat in the last `within` seconds (by this pacer's count)."""
        chat = self._chats.get(chat_id)
        if chat is None:
            return 0
        now = self._now()
        return sum(1 for at in chat.sent if at > now - within)

    def paused_for(self, chat_id: int) -> float:
        """Seconds left of the chat's own pause (0 if none)."""
        chat = self._chats.get(chat_id)
        return max(0.0, chat.paused_until - self._now()) if self._enabled and chat is not None else 0.0

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
        while (wait := self.ready_in(chat_id)) > 0:
            await self.timer.sleep(wait)
        self.record(chat_id)


async def take_turn(
    pacer: ChatPacer, budget: SendBudget, chat_id: int | None, priority: int, *, record: bool = True
) -> None:
    """Wait for the chat's pace, then for a grant of the budget, and count the message against both (the
    budget's final gate comes right before the request, in `SharedRateLimiter`).

    The chat is counted after the grant (which a digest may wait seconds for), so its window holds the times
    its messages left; if another request to the chat took its turn meanwhile, wait for the chat again (that
    grant is spent, a rare small loss). `record=False` (the outbox sender): the chat is counted only when a
    message really goes out (`SharedRateLimiter`), so a row found superseded or an edit takes none of it.
    """
    while True:
        if chat_id is not None:
            while (wait := pacer.ready_in(chat_id)) > 0:
                await pacer.timer.sleep(wait)
        await budget.acquire(priority)
        if chat_id is None or pacer.ready_in(chat_id) == 0:
            break
    if chat_id is not None and record:
        pacer.record(chat_id)


async def wait_out_pauses(pacer: ChatPacer, budget: SendBudget, chat_id: int | None) -> None:
    """Wait while a 429's pause lasts, the whole bot's or the chat's: for requests that take no turn (edits,
    deletions), which Telegram may refuse with a flood wait all the same and which must not be tried again before
    it ends."""
    while (wait := max(budget.paused_for(), pacer.paused_for(chat_id) if chat_id is not None else 0.0)) > 0:
        await budget.timer.sleep(wait)


@dataclass(frozen=True, slots=True)
class Prepaid:
    """`rate_limit_args` of a request whose budget the caller already took (the outbox sender), and the gate too
    when `start` is given (else the request passes the gate here)."""

    lane: str
    start: Start | None = None


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
        timer: Timer | None = None,
    ) -> None:
        # One timer for every wait of the bot's requests: pace, budget, back-off and the presses' early answers.
        self.timer = timer or (budget.timer if budget is not None else LoopTimer())
        self.budget = budget or SendBudget(timer=self.timer)
        self.pacer = pacer or ChatPacer(timer=self.timer)
        if self.budget.timer is not self.timer or self.pacer.timer is not self.timer:
            raise ValueError("the budget, the pacer and the limiter must wait on one timer")
        self.max_retries = max_retries
        self.retry_for = retry_for
        self.first_backoff = first_backoff
        self.retry_after_count = 0
        self.global_pauses = 0
        self.chat_pauses = 0
        # The presses seen and answered (channels.telegram.processor notes them as they arrive;
        # channels/telegram/taps.py).
        self.taps = Taps(timer=self.timer)

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
            start = rate_limit_args.start
            if message:
                if start is None:
                    start = await self.budget.gate(LANE_PRIORITY.get(rate_limit_args.lane, BULK))
                if chat_id is not None:
                    self.pacer.record(chat_id)
            try:
                result = await callback(*args, **kwargs)
            except RetryAfter as exc:
                self.on_retry_after(exc, chat_id)
                raise
            finally:
                self.budget.answered(start)
            if message:
                self.budget.note(accepted=True)
            return result
        if not message and not is_reply(endpoint):
            return await callback(*args, **kwargs)
        send = functools.partial(callback, *args, **kwargs)
        if endpoint == "answerCallbackQuery":
            return await self._answer(send, endpoint, data)
        return await self._retrying(send, endpoint, chat_id, message)

    async def _answer(self, send: Callable[[], Awaitable[Result]], endpoint: str, data: dict[str, Any]) -> Result:
        """A press's first answer goes to Telegram; a later one does not, nor does a refusal as too old fail the
        handler: an alert it carried reaches the chat as a message (`taps.py`)."""
        if not self.taps.first_answer(str(data.get("callback_query_id"))):
            self.taps.unsent(data)
            return True
        try:
            return await self._retrying(send, endpoint, None, False)
        except BadRequest as exc:
            if not is_expired(exc):
                raise
            log.info("a press was answered too late for Telegram (%s)", exc.message)
            self.taps.unsent(data)
            return True

    async def _retrying(
        self, send: Callable[[], Awaitable[Result]], endpoint: str, chat_id: int | None, message: bool
    ) -> Result:
        """A reply sent in its turn, sent again after a 429 (up to `max_retries`) and through server errors,
        timeouts and network errors for up to `retry_for` seconds."""
        give_up_at = self.timer.monotonic() + self.retry_for
        backoff = self.first_backoff
        floods = 0
        while True:
            start = None
            if message:
                await take_turn(self.pacer, self.budget, chat_id, REPLY)
                start = await self.budget.gate(REPLY)
                if chat_id is not None:
                    self.pacer.restamp(chat_id)
            else:
                await wait_out_pauses(self.pacer, self.budget, chat_id)
            try:
                try:
                    result = await send()
                finally:
                    self.budget.answered(start)
            except RetryAfter as exc:
                self.on_retry_after(exc, chat_id)
                floods += 1
                if floods > self.max_retries:
                    raise
            except BadRequest:
                raise  # the request itself is wrong: sending it again cannot help
            except NetworkError as exc:  # 5xx, timeouts, connection errors
                if self.timer.monotonic() + backoff > give_up_at:
                    raise
                log.info("%s to chat %s failed (%s); trying again in %.1f s", endpoint, chat_id, exc.message, backoff)
                await self.timer.sleep(backoff)
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
