"""Leadership (issue 30): any number of instances run; the one holding the lease (storage/lease.py) leads — it
polls Telegram, sweeps and sends the outbox — and the others stand by, ready to take over.

On PostgreSQL:
- A standby reads the lease row every `poll_every` seconds and takes it once it expired (or was resigned), with the
  next epoch. It then installs the fence (`Database.fence`: every write transaction of this process checks the
  epoch first, `storage.lease.check`) and starts what a leader runs (`bot.app.running`: the inbox left-overs, the
  `on_lead` callbacks, polling, the sweep and the outbox sender).
- The leader renews every `renew_every` seconds for `ttl` seconds of database time. Its own deadline is monotonic:
  the moment its last successful renewal *started* plus `ttl` minus `margin` — the database's expiry is later
  than that whatever the renewal's round trip took. It starts stepping down `stop_within` seconds before the
  deadline if no renewal succeeded by then, and `leading()` is False from the first moment of stepping down and
  at the deadline in any case, even if the process was frozen and nothing ran since: the Bot API requests check
  it (channels/telegram/request.py), so a resumed stale leader sends no getUpdates and no message. Its writes are
  refused by the fence because the epoch moved on, so it claims and commits nothing.
- A clean stop (SIGTERM) stops what it leads and the application, then resigns (the lease expires now): a standby
  polling every `poll_every` takes over within that.

On SQLite there is one instance: it takes the lease at start (a new epoch each start, recorded in the row) and
leads until it stops; no renewals, no fence.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import math
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

from channels.telegram.request import NotLeading
from core.clock import LoopTimer, Timer, within
from storage import lease
from storage.db import Database

log = logging.getLogger(__name__)

Callback = Callable[[], Awaitable[None]]
T = TypeVar("T")

TTL = 8.0  # seconds of database time a renewal holds the lease
RENEW_EVERY = 2.0
MARGIN = 1.0  # the monotonic deadline falls this long before the database's expiry, at the latest
STOP_WITHIN = 2.0  # what stepping down may take: started this long before the deadline
STEP_DOWN_LIMIT = 30.0  # seconds a step-down after a lost lease may take before it is cut short
POLL_EVERY = 0.1  # a standby looks at the lease this often: a resigned lease is taken within that
SINGLE_TTL = 10 * 365 * 24 * 3600.0  # SQLite's one instance: the lease lasts until it stops


class _RefusedByTheLease(logging.Filter):
    """PTB's updater confirms its offset with one more getUpdates when it stops; after a step-down the request is
    refused on purpose (Telegram keeps those updates for the next leader), which is no error worth a traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], NotLeading))


_REFUSED = _RefusedByTheLease()


class LeaseLost(Exception):  # noqa: N818 - reads as what happened
    """This instance led and lost the lease: `python -m bot run` exits and is started again as a standby."""


class Leadership:
    """Takes, renews and gives up the lease for one process; `start(lead, step_down)` runs it until `stop()`."""

    def __init__(
        self,
        db: Database,
        *,
        name: str = lease.NAME,
        holder: str | None = None,
        ttl: float = TTL,
        renew_every: float = RENEW_EVERY,
        margin: float = MARGIN,
        stop_within: float = STOP_WITHIN,
        poll_every: float = POLL_EVERY,
        timer: Timer | None = None,
    ) -> None:
        self._db = db
        # The event loop's own time, also in the stories: the lease runs against the database's real clock.
        self._timer = timer or LoopTimer()
        # Here, not at import: the logging set-up of `python -m bot` may replace the loggers' filters before.
        logging.getLogger("telegram.ext.Updater").addFilter(_REFUSED)
        self.name = name
        self.holder = holder or db.instance
        self.single = db.is_sqlite
        self.ttl, self.renew_every, self.margin = ttl, renew_every, margin
        self.stop_within, self.poll_every = stop_within, poll_every
        # Run at every takeover, after the fence is set and the inbox's left-overs were handled, before polling
        # (e.g. webhook mode's setWebhook), and when this instance stops leading.
        self.on_lead: list[Callback] = []
        self.on_step_down: list[Callback] = []
        # Told (role, epoch) whenever either changes (channels/health.py).
        self.changed: Callable[[str, int], None] | None = None
        self.epoch = 0
        self._leading = False
        self._deadline = -math.inf  # monotonic
        self._renewed_at = -math.inf  # monotonic start of the last successful renewal (or takeover)
        self._lead: Callback | None = None
        self._step_down: Callback | None = None
        self._task: asyncio.Task[None] | None = None
        self._leading_task: asyncio.Task[None] | None = None
        self._stopping = False
        self._abandoned: set[asyncio.Future[Any]] = set()  # lease statements left to end by themselves
        self._conn: AsyncConnection | None = None  # the lease's connection between rounds (PostgreSQL)
        self._failures = 0
        self._resigning: int | None = None
        # Set once this instance lost the lease it held (it stopped leading without being asked to).
        self.lost = asyncio.Event()  # the epoch a clean stop gives up once the application has stopped

    # -- what everyone asks ----------------------------------------------------------------------------

    @property
    def role(self) -> str:
        return "leader" if self.leading() else "standby"

    def leading(self) -> bool:
        """Whether this instance may act as the leader now: it holds the lease and its monotonic deadline has not
        passed (read from the clock each time: right after a freeze it is False before anything else ran)."""
        return self._leading and (self.single or self._timer.monotonic() < self._deadline)

    # -- running ---------------------------------------------------------------------------------------

    async def start(self, lead: Callback, step_down: Callback) -> None:
        """Take part: on SQLite take the lease and `lead()` now; on PostgreSQL try to take it now (leading at
        once when it is free) and keep renewing or watching it in a task."""
        self._lead, self._step_down = lead, step_down
        self._stopping = False
        if self.single:
            async with self._db.write(fenced=False) as conn:
                current = await lease.read(conn, self.name)
                if current is not None:  # the one instance before this one (resigned or crashed)
                    await lease.resign(conn, current.holder, current.epoch, self.name)
                epoch = await lease.acquire(conn, self.holder, SINGLE_TTL, self.name)
            assert epoch is not None
            self._became_leader(epoch, self._timer.monotonic())
            await lead()
            return
        await self._try_to_take()
        if self._leading and self._leading_task is not None:
            await asyncio.shield(self._leading_task)  # the first instance is up and leading when start returns
        self._task = asyncio.create_task(self._run(), name="leadership")

    async def stop(self) -> None:
        """A clean stop, first part: stop polling, sweeping and sending (the sender finishes what is on the wire).
        The epoch's requests and writes stay allowed until `resign`, so the updates still being handled are answered
        and the last state the application writes as it shuts down is kept."""
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.close()
        if self._leading:
            self._resigning = self.epoch
            await self._stop_leading(bounded=False)

    async def resign(self) -> None:
        """A clean stop, last part (after the application wrote its last state): the lease expires now, so a
        standby takes over at its next poll."""
        epoch, self._resigning = self._resigning, None
        if epoch is None:
            return
        # Until now replies to the updates still being handled went out (the lease is still ours); no longer.
        self._leading = False
        self._tell()
        try:
            async with self._db.write(fenced=False) as conn:
                await lease.resign(conn, self.holder, epoch, self.name)
            log.info("lease: resigned epoch %d", epoch)
        except Exception:
            log.warning("lease: could not resign epoch %d; a standby takes over when it expires", epoch, exc_info=True)

    # -- the loop (PostgreSQL) -------------------------------------------------------------------------

    async def _run(self) -> None:
        while not self._stopping:
            try:
                if self._leading:
                    await self._keep()
                else:
                    await self._timer.sleep(self.poll_every)
                    await self._try_to_take()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("lease: the leadership loop failed a round; going on")
                await self._timer.sleep(self.poll_every)

    async def _bounded(self, operation: Callable[[AsyncConnection], Awaitable[T]], seconds: float) -> T:
        """Run `operation` in a transaction of its own, on a connection of its own (`Database.unpooled`): no wait for
        the pool. Past `seconds` it is left to finish or fail by itself (asyncpg's command timeout) and TimeoutError
        raised: cancelling a statement half-way can leave its connection unusable, and waiting for that can hang.

        The connection is kept for the next round once a round succeeded on it (a standby looks every `poll_every`:
        a new connection each time cost a server process and a handshake, tens of milliseconds under load, which a
        clean stop's handover waited for); a round that failed, or was left to finish by itself, ends its connection
        without a word to the server (`invalidate`), and the next round opens a new one."""

        async def run() -> T:
            conn, self._conn = self._conn, None  # in use: nobody else takes it meanwhile
            if conn is None or conn.closed or conn.invalidated:
                conn = await self._db.unpooled().connect()
            try:
                async with conn.begin():
                    result = await operation(conn)
            except BaseException:
                with contextlib.suppress(Exception):
                    await conn.invalidate()
                    await conn.close()
                raise
            if self._conn is None and not self._stopping:
                self._conn = conn
            else:  # a round left to finish by itself came back after a newer one
                await conn.close()
            return result

        task = asyncio.ensure_future(run())
        if not await within(self._timer, asyncio.shield(task), max(0.0, seconds)):
            self._abandoned.add(task)
            task.add_done_callback(self._abandoned.discard)
            task.add_done_callback(lambda t: t.cancelled() or t.exception())  # retrieved: no "never retrieved"
            raise TimeoutError
        return task.result()

    async def _try_to_take(self) -> None:
        started = self._timer.monotonic()
        try:
            epoch = await self._bounded(
                functools.partial(lease.acquire, holder=self.holder, ttl=self.ttl, name=self.name),
                self.ttl - self.margin - self.stop_within,
            )
        except Exception as exc:  # the database is away: stand by and try again
            self._failures += 1
            if self._failures in (1, 10) or self._failures % 100 == 0:
                log.warning("lease: cannot take or read the lease (%s, %d times)", type(exc).__name__, self._failures)
            return
        self._failures = 0
        if epoch is not None:
            self._became_leader(epoch, started)
            log.warning(
                "lease: this instance (%s) leads, epoch %d (taken in %.0f ms)",
                self.holder,
                epoch,
                1000 * (self._timer.monotonic() - started),
            )
            assert self._lead is not None
            self._leading_task = asyncio.create_task(self._start_leading(self._lead), name="leading")

    def _became_leader(self, epoch: int, started: float) -> None:
        self.epoch = epoch
        self._renewed_at = started
        self._deadline = started + self.ttl - self.margin
        self._leading = True
        if not self.single:
            self._db.fence = functools.partial(lease.check, epoch=epoch, name=self.name)
        self._tell()

    async def _start_leading(self, lead: Callback) -> None:
        try:
            await lead()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("lease: starting to lead failed; stepping down")
            asyncio.get_running_loop().call_soon(lambda: asyncio.ensure_future(self._stop_leading(bounded=True)))

    async def _keep(self) -> None:
        """Renew on time; step down when the time to stop before the deadline has come without a renewal."""
        await self._timer.sleep(max(0.0, self._renewed_at + self.renew_every - self._timer.monotonic()))
        if not self._leading:
            return
        started = self._timer.monotonic()
        budget = self._deadline - self.stop_within - started
        renewed: bool | None = None
        if budget > 0:
            try:
                renewed = await self._bounded(
                    functools.partial(lease.renew, holder=self.holder, epoch=self.epoch, ttl=self.ttl, name=self.name),
                    budget,
                )
            except Exception as exc:
                log.warning("lease: renewal of epoch %d failed (%s)", self.epoch, type(exc).__name__)
        if renewed:
            self._renewed_at = started
            self._deadline = started + self.ttl - self.margin
        elif renewed is False:
            log.warning("lease: epoch %d was lost (it expired or another instance took it); stepping down", self.epoch)
            await self._stop_leading(bounded=True)
        elif self._timer.monotonic() >= self._deadline - self.stop_within:
            log.warning("lease: no renewal of epoch %d in time; stepping down before its deadline", self.epoch)
            await self._stop_leading(bounded=True)
        else:
            self._renewed_at = started - self.renew_every + self.poll_every  # try again soon

    async def _stop_leading(self, *, bounded: bool) -> None:
        """Stop everything this instance leads; `bounded`: give up on what is not stopped by the deadline (the
        Bot API and the database refuse it from then on anyway)."""
        if not self._leading:
            return
        if bounded:
            self._leading = False  # from now on no request goes out (channels/telegram/request.py)
            self._tell()
        starting, self._leading_task = self._leading_task, None
        if starting is not None and not starting.done():
            starting.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await starting
        if self._step_down is None:
            return
        try:
            # Unbounded on a clean stop. After a lost lease the Bot API requests and the writes are refused from the
            # deadline on anyway; the limit only keeps a step-down stuck on a vanished database from keeping the
            # instance out for good.
            if not bounded:
                await self._step_down()
            elif not await within(self._timer, self._step_down(), STEP_DOWN_LIMIT):
                log.warning("lease: stepping down took longer than %.0f s; cut short", STEP_DOWN_LIMIT)
        except Exception:
            log.exception("lease: stepping down did not finish cleanly")
        if bounded:
            log.warning("lease: this instance stands by (epoch %d ended)", self.epoch)
            # `python -m bot run` exits then, to start again as a fresh standby (systemd and compose restart it): a
            # process that led and lost the lease keeps no state of that term into the next.
            self.lost.set()

    def _tell(self) -> None:
        if self.changed is not None:
            self.changed("leader" if self._leading else "standby", self.epoch)
