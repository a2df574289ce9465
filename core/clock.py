"""Where "now" comes from, and where waiting happens.

Everything asks the clock for the date, so tests and the demo can move it forward; everything that waits (pacing,
back-off, deadlines) asks a timer, so tests can let that time pass without waiting for it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

T = TypeVar("T")


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


class Cancellable(Protocol):
    """What `Timer.call_at` returns: a scheduled call that can be called off."""

    def cancel(self) -> None: ...


class Timer(Protocol):
    """Where waiting happens: monotonic seconds, sleeping, and calls at a monotonic time.

    Everything that paces, backs off or waits for a deadline asks a timer instead of the event loop, so the
    tests can run the same code on virtual time (`simulator.virtual_time`) that passes whenever everything is
    waiting. `Clock` is the date people see; a timer's seconds only count how long to wait.
    """

    def monotonic(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...

    def call_at(self, when: float, callback: Callable[[], object]) -> Cancellable: ...


class LoopTimer:
    """The event loop's own time: what the bot runs on."""

    def monotonic(self) -> float:
        return asyncio.get_running_loop().time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    def call_at(self, when: float, callback: Callable[[], object]) -> Cancellable:
        return asyncio.get_running_loop().call_at(when, callback)


async def within(timer: Timer, awaitable: Awaitable[T], seconds: float) -> bool:
    """Wait for `awaitable` for at most `seconds` of `timer`'s time; True if it finished (it is cancelled if not,
    as `asyncio.wait_for` does: shield it to let it go on)."""
    task = asyncio.ensure_future(awaitable)
    deadline = asyncio.ensure_future(timer.sleep(seconds))
    try:
        await asyncio.wait({task, deadline}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        deadline.cancel()
    if task.done():
        task.result()  # what it raised, raised here
        return True
    task.cancel()
    return False
