"""Where "now" comes from. Everything asks the clock, so tests and the demo can move time forward."""

from __future__ import annotations

import datetime as dt
from typing import Protocol


class Clock(Protocol):
    """A source of the current time, always timezone-aware UTC."""

    def now(self) -> dt.datetime: ...


class SystemClock:
    """The real time."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


class ManualClock:
    """A clock that moves only when told to: `advance(timedelta)` or `set(datetime)`.

    When started from the real time it keeps ticking with it, so a demo does not freeze while
    still letting someone jump a day ahead.
    """

    def __init__(self, start: dt.datetime | None = None, *, ticking: bool = False) -> None:
        self._offset = dt.timedelta()
        self._start = start or dt.datetime.now(dt.UTC)
        if self._start.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._ticking = ticking
        self._origin = dt.datetime.now(dt.UTC)

    def now(self) -> dt.datetime:
        elapsed = dt.datetime.now(dt.UTC) - self._origin if self._ticking else dt.timedelta()
        return self._start + self._offset + elapsed

    def advance(self, delta: dt.timedelta) -> dt.datetime:
        """Move time forward and return the new now."""
        self._offset += delta
        return self.now()

    def set(self, when: dt.datetime) -> None:
        """Jump to an exact moment."""
        if when.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._start, self._offset, self._origin = when, dt.timedelta(), dt.datetime.now(dt.UTC)
