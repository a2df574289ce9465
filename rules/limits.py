"""Abuse limits: submissions per person per local day, and how fast one person may send messages.

Plain functions and one small in-memory window; nothing here knows Telegram or the database. The
message rate is deliberately per process and in memory: it protects this process from a flood and
costs nothing to forget on restart.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Hashable
from enum import Enum
from zoneinfo import ZoneInfo

from storage.errors import LimitReached

MESSAGES_PER_MINUTE = 30
RATE_WINDOW = dt.timedelta(minutes=1)


def local_day_start(now: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    """Midnight of today in the deployment's time zone, as aware UTC (where "per day" counts from)."""
    local = now.astimezone(tz)
    midnight = dt.datetime.combine(local.date(), dt.time(), tzinfo=tz)
    return midnight.astimezone(dt.UTC)


def check_daily_quota(used_today: int, per_day: int) -> None:
    """Raise `LimitReached` when a person already submitted `per_day` items today."""
    if used_today >= per_day:
        raise LimitReached(f"{used_today} of {per_day} used today")


def quota_left(used_today: int, per_day: int) -> int:
    """How many more submissions the person may make today."""
    return max(0, per_day - used_today)


class RateVerdict(Enum):
    """What to do with one incoming message."""

    OK = "ok"
    SLOW_DOWN = "slow_down"  # first message over the limit: tell the person, do not handle it
    STILL_SLOWED = "still_slowed"  # more over the limit in the same minute: already told, not handled


class MessageRate:
    """A sliding one-minute window of message times per sender (a Telegram user id, a WeChat openid)."""

    def __init__(self, limit: int = MESSAGES_PER_MINUTE, window: dt.timedelta = RATE_WINDOW) -> None:
        self.limit = limit
        self.window = window
        self._times: dict[Hashable, deque[dt.datetime]] = {}
        self._warned_until: dict[Hashable, dt.datetime] = {}

    def record(self, user_id: Hashable, now: dt.datetime) -> RateVerdict:
        """Count one message from `user_id` at `now` and say whether it may be handled."""
        times = self._times.setdefault(user_id, deque())
        while times and now - times[0] >= self.window:
            times.popleft()
        if len(times) < self.limit:
            times.append(now)
            self._warned_until.pop(user_id, None)
            return RateVerdict.OK
        warned_until = self._warned_until.get(user_id)
        if warned_until is not None and now < warned_until:
            return RateVerdict.STILL_SLOWED
        self._warned_until[user_id] = self.free_at(user_id)
        return RateVerdict.SLOW_DOWN

    def free_at(self, user_id: Hashable) -> dt.datetime:
        """When the person may send again (the oldest message in the window leaves it)."""
        times = self._times.get(user_id)
        if not times:
            return dt.datetime.min.replace(tzinfo=dt.UTC)
        return times[0] + self.window

    def forget_idle(self, now: dt.datetime) -> None:
        """Drop people whose window is empty, so memory does not grow with everyone ever seen."""
        for user_id in [uid for uid, times in self._times.items() if not times or now - times[-1] >= self.window]:
            del self._times[user_id]
            self._warned_until.pop(user_id, None)
