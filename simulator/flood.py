"""Telegram's flood limits in more than one shape, so a bot's pacing is exercised against each in tests.

Telegram documents roughly 30 messages per second per bot, about one message per second per private chat
(short bursts tolerated) and 20 messages per minute per group (Bots FAQ, "My bot is hitting limits, how do I avoid
this?", https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this). Exceeding them yields 429
"Too Many Requests: retry after N" with `parameters.retry_after` (Bot API, "ResponseParameters"), and a bot must not
send again to that chat before then (`BotApiSimulator.early_requests` records one that does). Nobody outside Telegram
knows the exact algorithm, so the simulator offers two shapes (the stories use the stricter, "window"):

- ``"bucket"``: token buckets (30/s with a burst of 30; 1/s per private chat with a burst of 3; 20/min per
  group with a burst of 20) — forgiving of bursts;
- ``"window"``: strict sliding windows — at most 30 sends in *any* 1 s for the bot, at most 3 in any 3 s in
  a private chat (one a second, a burst of 3), at most 20 in any 60 s in a group.

``jitter`` (seconds) delays every request by a random 0…jitter before the server looks at it, as a network
does, so requests sent evenly arrive bunched. The clock is injectable so tests can advance time instead of
sleeping.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

Shape = Literal["bucket", "window"]


@dataclass
class FloodLimits:
    """Limits for message-sending methods; set ``enabled=False`` to turn flood control off."""

    enabled: bool = True
    global_per_second: float = 30.0
    global_burst: int = 30
    private_per_second: float = 1.0
    private_burst: int = 3
    group_per_minute: float = 20.0
    group_burst: int = 20
    shape: Shape = "bucket"
    jitter: float = 0.0


@dataclass
class _Bucket:
    rate: float  # tokens per second
    capacity: float
    tokens: float
    updated: float

    def refill(self, now: float) -> None:
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def wait_time(self, now: float) -> float:
        """Seconds until one token is available (0 if one is)."""
        self.refill(now)
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def take(self, now: float) -> None:
        self.tokens -= 1


@dataclass
class _Window:
    count: int  # at most this many sends …
    span: float  # … in any window of this many seconds
    sent: deque[float] = field(default_factory=deque)

    def wait_time(self, now: float) -> float:
        while self.sent and self.sent[0] <= now - self.span:
            self.sent.popleft()
        return 0.0 if len(self.sent) < self.count else self.sent[-self.count] + self.span - now

    def take(self, now: float) -> None:
        self.sent.append(now)


@dataclass
class FloodControl:
    limits: FloodLimits
    clock: Callable[[], float] = time.monotonic
    _limiters: dict[str, _Bucket | _Window] = field(default_factory=dict)

    def _limiter(self, key: str, rate: float, capacity: int, now: float) -> _Bucket | _Window:
        limiter = self._limiters.get(key)
        if limiter is None:
            if self.limits.shape == "window":
                limiter = _Window(capacity, capacity / rate)
            else:
                limiter = _Bucket(rate, float(capacity), float(capacity), now)
            self._limiters[key] = limiter
        return limiter

    def acquire(self, chat_id: int, is_private: bool) -> int:
        """Count one send against every applicable limit; return 0, or the retry_after seconds if over one.

        A send is only counted when every limit allows it, so a rejected send does not eat into the next
        allowance.
        """
        if not self.limits.enabled:
            return 0
        now = self.clock()
        lim = self.limits
        window = lim.shape == "window"
        limiters = [
            self._limiter(
                "global", lim.global_per_second, int(lim.global_per_second) if window else lim.global_burst, now
            )
        ]
        if is_private:
            limiters.append(self._limiter(f"chat:{chat_id}", lim.private_per_second, lim.private_burst, now))
        else:
            limiters.append(self._limiter(f"chat:{chat_id}", lim.group_per_minute / 60.0, lim.group_burst, now))
        wait = max(limiter.wait_time(now) for limiter in limiters)
        if wait > 0:
            return max(1, math.ceil(wait))
        for limiter in limiters:
            limiter.take(now)
        return 0
