"""Telegram's flood limits as token buckets, so a bot's broadcast pacing is exercised in tests.

Telegram documents roughly 30 messages per second per bot, about one message per second per private chat
(short bursts tolerated) and 20 messages per minute per group. Exceeding them yields 429 "Too Many Requests:
retry after N". A bot that fans out reminders to hundreds of volunteers must pace itself, and the simulator
makes the failure observable. The clock is injectable so tests can advance time instead of sleeping.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field


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


@dataclass
class _Bucket:
    rate: float  # tokens per second
    capacity: float
    tokens: float
    updated: float

    def refill(self, now: float) -> None:
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def wait_time(self) -> float:
        """Seconds until one token is available (0 if one is)."""
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate


@dataclass
class FloodControl:
    limits: FloodLimits
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[str, _Bucket] = field(default_factory=dict)

    def _bucket(self, key: str, rate: float, capacity: int, now: float) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(rate, float(capacity), float(capacity), now)
        bucket.refill(now)
        return bucket

    def acquire(self, chat_id: int, is_private: bool) -> int:
        """Take one token from every applicable bucket; return 0, or the retry_after seconds if over a limit.

        Tokens are only taken when all buckets have one, so a rejected send does not eat into the next
        allowance.
        """
        if not self.limits.enabled:
            return 0
        now = self.clock()
        lim = self.limits
        buckets = [self._bucket("global", lim.global_per_second, lim.global_burst, now)]
        if is_private:
            buckets.append(self._bucket(f"chat:{chat_id}", lim.private_per_second, lim.private_burst, now))
        else:
            buckets.append(self._bucket(f"chat:{chat_id}", lim.group_per_minute / 60.0, lim.group_burst, now))
        wait = max(b.wait_time() for b in buckets)
        if wait > 0:
            return max(1, math.ceil(wait))
        for b in buckets:
            b.tokens -= 1
        return 0
