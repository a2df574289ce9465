"""Virtual time for stories: the bot's pacing, back-off and deadlines, and the simulators' flood models, wait on a
timer whose seconds pass whenever everything is waiting, so a story still proves "no 429, nothing sent before
retry_after, every chat paced" without spending those seconds on the wall clock.

`VirtualTimer` implements `core.clock.Timer`: `monotonic()` reads its own count of seconds, `sleep` and `call_at`
put a deadline on its heap. It moves only forward, and only when `VirtualTimeLoop` finds the event loop idle:
nothing ready to run, no I/O arriving for a moment (`SETTLE`), no work in an executor thread and nothing a test
registered as busy (`hold_while`: a database connection checked out, i.e. a query or a transaction under way). Then
it jumps to the earliest deadline and runs what is due then, as if those seconds had passed with nothing happening,
which is what the wall clock would have shown. Work that takes real time (a query, an HTTP round trip to the
in-process simulator, a chart in a thread) takes no virtual time, so a deadline never fires because the machine was
slow, and a flood window the simulator keeps on the same timer is judged on the same seconds the bot paced by.

The event loop's own clock and timers stay real: PTB's long poll, aiohttp's and the tests' timeouts, APScheduler
(which mixes loop time with the wall clock) run as they always do. A safety valve keeps a story from hanging when
something holds a connection while it waits on virtual time: after `BUSY_LIMIT` real seconds with nothing arriving,
the timer moves on anyway and counts it (`forced`). Work in an executor thread is always waited for: it cannot be
waiting on virtual time.

Why not the `looptime` plugin: it fakes the loop's own clock, and moves it as soon as no callback is ready, even
while a query is on its way to PostgreSQL or in aiosqlite's thread (it only waits for `run_in_executor`); a press's
four-second early answer then fires in the middle of an ordinary handler, and APScheduler, which schedules loop
timers from wall-clock datetimes, wakes too early and again and again.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import selectors
import time
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any, TypeVar, TypeVarTuple

log = logging.getLogger(__name__)

T = TypeVar("T")
Ts = TypeVarTuple("Ts")

# How long the loop waits, in real time, for I/O already on its way (an HTTP answer from the in-process simulator, a
# thread's result) before it counts as idle and virtual time moves.
SETTLE = 0.0005
# Real seconds the timer waits while something is busy (a connection checked out) with nothing arriving, before it
# moves on anyway: a transaction held open across a virtual wait must not hang a story.
BUSY_LIMIT = 0.5


class VirtualHandle:
    """A call scheduled on a `VirtualTimer`."""

    __slots__ = ("args", "callback", "cancelled", "when")

    def __init__(self, when: float, callback: Callable[..., object], args: tuple[Any, ...]) -> None:
        self.when = when
        self.callback = callback
        self.args = args
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class VirtualTimer:
    """Monotonic seconds that pass only when `advance` is called (by `VirtualTimeLoop` when the loop is idle)."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._heap: list[tuple[float, int, VirtualHandle]] = []
        self._order = itertools.count()
        self.advances = 0  # jumps made (each costs about SETTLE of real time)
        self.forced = 0  # jumps made while something was still busy (BUSY_LIMIT)

    def monotonic(self) -> float:
        return self._now

    def call_at(self, when: float, callback: Callable[[], object]) -> VirtualHandle:
        return self.schedule(when, callback)

    def schedule(self, when: float, callback: Callable[..., object], *args: Any) -> VirtualHandle:
        """Call `callback(*args)` (through the event loop) once the timer reads `when`."""
        handle = VirtualHandle(when, callback, args)
        heapq.heappush(self._heap, (when, next(self._order), handle))
        return handle

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        handle = self.schedule(self._now + seconds, _release, future)
        try:
            await future
        finally:
            handle.cancel()

    def skip(self, seconds: float) -> None:
        """Let `seconds` pass at once (a unit test stepping time by hand); nothing may fall due on the way."""
        due = self.next_deadline()
        if due is not None and due <= self._now + seconds:
            raise RuntimeError("skip() would pass a deadline: wait with sleep() instead")
        self._now += seconds

    def next_deadline(self) -> float | None:
        """The earliest deadline still wanted (None: nothing waits on this timer)."""
        while self._heap and self._heap[0][2].cancelled:
            heapq.heappop(self._heap)
        return self._heap[0][0] if self._heap else None

    def advance(self, loop: asyncio.AbstractEventLoop) -> None:
        """Move to the earliest deadline and hand everything due then to the loop."""
        when = self.next_deadline()
        if when is None:
            return
        self._now = max(self._now, when)
        self.advances += 1
        while self._heap and self._heap[0][0] <= self._now:
            handle = heapq.heappop(self._heap)[2]
            if not handle.cancelled:
                loop.call_soon(handle.callback, *handle.args)


def _release(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class _IdleSelector(selectors.DefaultSelector):
    """The loop's selector, which moves the loop's virtual timer whenever the loop would otherwise sit idle."""

    def __init__(self, loop: VirtualTimeLoop) -> None:
        super().__init__()
        self._loop = loop
        self._busy_since: float | None = None

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        timer = self._loop.timer
        if (timeout is not None and timeout <= 0) or timer.next_deadline() is None:
            return super().select(timeout)
        # Nothing is ready to run: give I/O already on its way a moment to land.
        ready: list[tuple[selectors.SelectorKey, int]] = super().select(
            SETTLE if timeout is None else min(timeout, SETTLE)
        )
        if ready:
            self._busy_since = None
            return ready
        if timeout is not None and timeout < SETTLE:
            return ready  # a real timer is due first
        if self._loop.executing():
            return ready  # a thread's work always finishes: wait for it, however long it takes
        if self._loop.busy():
            now = time.monotonic()
            if self._busy_since is None:
                self._busy_since = now
            if now - self._busy_since < BUSY_LIMIT:
                return ready
            timer.forced += 1
            log.debug("virtual time moves on although something is busy (%.2f s of real time)", now - self._busy_since)
        self._busy_since = None
        timer.advance(self._loop)
        return ready


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """asyncio's loop with a `VirtualTimer` (`timer`) that moves while the loop is idle (see the module's text)."""

    def __init__(self) -> None:
        self.timer = VirtualTimer()
        self._probes: list[Callable[[], bool]] = []
        self._executing: set[asyncio.Future[Any]] = set()
        super().__init__(_IdleSelector(self))

    def hold_while(self, probe: Callable[[], bool]) -> Callable[[], None]:
        """Keep virtual time still while `probe()` is true (work under way the loop cannot see, such as a query in
        a driver's thread or a server's process); returns a function that removes the probe."""
        self._probes.append(probe)
        return lambda: self._probes.remove(probe)

    def executing(self) -> bool:
        """Whether work is under way in an executor thread (a chart, a PDF, segmentation)."""
        return bool(self._executing)

    def busy(self) -> bool:
        """Whether a probe says work is under way (a database connection checked out)."""
        return any(probe() for probe in self._probes)

    def run_in_executor(self, executor: Executor | None, func: Callable[[*Ts], T], *args: *Ts) -> asyncio.Future[T]:
        future = super().run_in_executor(executor, func, *args)
        self._executing.add(future)
        future.add_done_callback(self._executing.discard)
        return future
