"""The one sender: delivers the outbox within Telegram's limits, urgent first, and records every outcome.

It runs as one task for the life of the bot. Each round reads a small batch of due rows (urgent,
then normal, then bulk; during quiet hours only urgent) and starts a delivery per row, at most
`concurrency` at a time and one at a time per person. A delivery waits for the person's chat pace and
a token of the budget it shares with direct replies (bulk waits behind every reply), records that the
message is on the wire, sends it, and records how it went:

  superseded (the condition the row was written under no longer holds: not sent) · sent ·
  slow down (Telegram: 429) → the chat or the whole bot pauses, the row waits again (not counted as an attempt) ·
  unavailable (5xx/timeout) → retried with exponential backoff up to `max_attempts` (8: about four
  minutes of a Telegram outage) · unreachable
  (403) → the person is marked unreachable and their pending bulk dropped · refused (400) → failed,
  not retried.

The channel's side (turns within its flood limits, rendering, the request, its errors) is a transport
(`channels.delivery.Transport`; Telegram's is `channels.telegram.transport`), so this loop is the same
for every channel. Rows name people by person id: each batch looks up the recipients' accounts on the
transports' channels (`identities`, in the order the transports were given: Telegram first, then WeChat; a person
with none of them: the row fails, "the recipient has no Telegram identity"), and the transaction that takes a row
resolves its stored photo (`Notice.media`) to the chosen channel's reference to it. A channel may hold a row back
(`Held`: WeChat outside a person's customer-service window, for a lane that waits): it waits, not counted;
held past the channel's `expire_after` (WeChat: 7 days after it was queued) it is dropped as "expired: …".

Nothing lives only in memory: a restart reads the same rows again (see `storage.outbox.recover_interrupted`
for the ones that were on the wire).

Fault injection for the crash test: with TONGXIN_FAULT_KILL_SENDING=LANE (e.g. bulk) the process SIGKILLs itself
right after the channel took the first row of that lane, before the row is marked sent: it stays `sending`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import signal
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal

from actions.messages import notice_from_payload
from actions.notices import render_live
from channels.delivery import DeliveryError, Held, SlowDown, Transport, Unavailable, Unreachable
from core.clock import within
from rules.quiet_hours import in_quiet_hours
from storage import media, outbox, people, users
from storage.lease import Fenced
from storage.outbox import Lane, OutboxMessage

if TYPE_CHECKING:
    from channels.telegram.context import BotData

log = logging.getLogger(__name__)

FAULT_KILL_SENDING = "TONGXIN_FAULT_KILL_SENDING"
ALL_LANES: tuple[Lane, ...] = ("urgent", "normal", "bulk")
Phase = Literal["waiting", "sending"]
LIVE_RENDERS = 2
RESERVED_SLOTS = 4
LIVE_FRESH = dt.timedelta(minutes=1)


def waited(live: dict[str, Any], now: dt.datetime) -> bool:
    """Whether a live notice must be rendered again before it is sent: always, unless it was rendered from
    the database moments ago (`written_at` within `LIVE_FRESH`) — a 1,000-person digest then goes out as
    fast as any other bulk, while one that waited out the quiet hours, a backlog or a restart says what
    is true when it arrives."""
    written = live.get("written_at")
    return written is None or now - dt.datetime.fromisoformat(str(written)) > LIVE_FRESH


def backoff(attempts: int) -> dt.timedelta:
    """How long to wait before sending again after `attempts` transient failures: 2, 4, 8 … 300 s."""
    return dt.timedelta(seconds=min(300, 2**attempts))


class OutboxSender:
    """Delivers the outbox; `start()` once at bot start, `stop()` at shutdown."""

    def __init__(
        self,
        services: BotData,
        transport: Transport | Sequence[Transport],
        *,
        batch_size: int = 60,
        concurrency: int = 32,
        poll_seconds: float = 1.0,
        max_attempts: int = 8,
    ) -> None:
        # Every channel the bot runs; a person is reached on the first of them they have an account on.
        self._transports: tuple[Transport, ...] = tuple(transport) if isinstance(transport, Sequence) else (transport,)
        self._transport = self._transports[0]
        self._services = services
        self._batch_size = batch_size
        self._poll_seconds = poll_seconds
        self._max_attempts = max_attempts
        self._slots = asyncio.Semaphore(concurrency)
        # Bulk rows wait for their turn holding a slot; they may hold all but a few, so an urgent or normal row
        # (a claim, a progress edit) starts at once instead of queueing for a slot behind a digest.
        self._bulk_slots = asyncio.Semaphore(max(1, concurrency - RESERVED_SLOTS))
        # Live notices (digests) rendered at once: few, so a burst of renders does not crowd out the
        # writes that mark rows sent (which would keep more rows "on the wire" at a crash).
        self._rendering = asyncio.Semaphore(LIVE_RENDERS)
        # New rows wake the sender at once; finished deliveries wake it to look at the next person's row.
        self._queued = services.env.queued
        self._freed = asyncio.Event()
        self._in_flight: set[int] = set()
        self._busy: set[int] = set()
        self._deliveries: dict[asyncio.Task[None], Phase] = {}
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.sent = 0
        self._kill_sending = os.environ.get(FAULT_KILL_SENDING) or None

    # -- lifecycle -----------------------------------------------------------------------------------

    async def start(self) -> None:
        """Settle what a crash left on the wire, then start delivering."""
        async with self._services.db.write() as conn:
            unknown = await outbox.recover_interrupted(conn)
        if unknown:
            log.warning("%d messages were on the wire when the bot last stopped; not sending them again", unknown)
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="outbox-sender")

    async def stop(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Stop taking rows, let the messages already on the wire finish, and give up the rest."""
        self._stopping = True
        self.wake()
        if self._task is not None:
            await self._task
            self._task = None
        for task, phase in list(self._deliveries.items()):
            if phase == "waiting":
                task.cancel()
        if self._deliveries:
            await within(self._services.timer, asyncio.wait(list(self._deliveries)), timeout)

    def wake(self) -> None:
        """Look at the outbox now (new rows, or the clock moved)."""
        self._queued.set()

    # -- the loop ------------------------------------------------------------------------------------

    async def _run(self) -> None:
        while not self._stopping:
            try:
                started = await self._start_due()
            except Exception:
                log.exception("the outbox sender failed a round; trying again")
                started = 0
            if not started and not self._stopping:
                await self._idle()

    async def _idle(self) -> None:
        queued = asyncio.create_task(self._queued.wait())
        freed = asyncio.create_task(self._freed.wait())
        try:
            await asyncio.wait({queued, freed}, timeout=self._poll_seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            queued.cancel()
            freed.cancel()

    def _lanes(self, now: dt.datetime) -> tuple[Lane, ...]:
        settings = self._services.settings
        if in_quiet_hours(now, settings.quiet_hours_start, settings.quiet_hours_end, settings.tz):
            return ("urgent",)
        return ALL_LANES

    async def _start_due(self) -> int:
        """Start deliveries for one batch of due rows; returns how many were started."""
        self._queued.clear()
        self._freed.clear()
        now = self._services.clock.now()
        async with self._services.db.read() as conn:
            rows = await outbox.due(
                conn, now=now, lanes=self._lanes(now), limit=self._batch_size, exclude=self._in_flight
            )
            # Recipients are person ids; a channel reaches them at their account on it (identities), the first
            # channel they have an account on wins.
            recipients = {row.recipient_id for row in rows}
            addresses: dict[int, tuple[Transport, str]] = {}
            for transport in self._transports:
                found = await people.identities_of(conn, recipients - addresses.keys(), transport.channel)
                addresses.update({person: (transport, address) for person, address in found.items()})
        started = 0
        for row in rows:
            if self._stopping:
                break
            if row.recipient_id in self._busy:
                continue
            if row.lane == "bulk" and row.unreachable:
                async with self._services.db.write() as conn:
                    await outbox.drop(conn, row.id, reason="unreachable")
                continue
            route = addresses.get(row.recipient_id)
            if route is None:
                no_address = f"the recipient has no {' or '.join(t.name for t in self._transports)} identity"
                async with self._services.db.write() as conn:
                    await outbox.mark_failed(conn, row.id, error=no_address)
                continue
            if row.lane == "bulk" and not await self._bulk_slot():
                break  # something new arrived, perhaps urgent: look again before more bulk
            await self._slots.acquire()
            self._in_flight.add(row.id)
            self._busy.add(row.recipient_id)
            task = asyncio.create_task(self._deliver(row, *route), name=f"outbox-{row.id}")
            self._deliveries[task] = "waiting"
            task.add_done_callback(self._deliveries.pop)
            started += 1
            if self._queued.is_set():
                break  # something new arrived, perhaps urgent: look again before more bulk
        return started

    async def _bulk_slot(self) -> bool:
        """Wait for a bulk slot, or until something new is queued (False: the slot is not taken)."""
        if self._queued.is_set():
            return False
        slot = asyncio.ensure_future(self._bulk_slots.acquire())
        queued = asyncio.ensure_future(self._queued.wait())
        try:
            await asyncio.wait({slot, queued}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            queued.cancel()
            if not slot.done():
                slot.cancel()
        return slot.done() and not slot.cancelled()

    # -- one delivery --------------------------------------------------------------------------------

    async def _deliver(self, row: OutboxMessage, transport: Transport, address: str) -> None:
        try:
            await self._deliver_row(row, transport, address)
        except asyncio.CancelledError:
            raise
        except Fenced:
            # Another instance leads now (channels/lease.py): nothing of this delivery was recorded; the new leader
            # settles the row (`storage.outbox.recover_interrupted`).
            log.info("outbox row %s: this instance no longer leads; left to the leader", row.id)
        except Exception:
            log.exception("delivering outbox row %s failed unexpectedly", row.id)
        finally:
            self._in_flight.discard(row.id)
            self._busy.discard(row.recipient_id)
            self._slots.release()
            if row.lane == "bulk":
                self._bulk_slots.release()
            else:
                # The person may have more urgent rows, skipped while this one went: look again now.
                self._queued.set()
            self._freed.set()

    async def _deliver_row(self, row: OutboxMessage, transport: Transport, address: str) -> None:
        services = self._services
        try:
            notice = notice_from_payload(row.payload)
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            async with services.db.write() as conn:
                await outbox.mark_failed(conn, row.id, error=f"unreadable payload: {exc}")
            return
        # An edit of an earlier message (a contact card withdrawn when a claim ends) adds no message to the chat, so it
        # takes no turn: Telegram's flood limits do not count edits, and pacing it like a message left the old card,
        # phone and buttons live for seconds behind the replies to a busy chat. It still waits out a flood wait
        # Telegram asked for: tried again at once, a refused edit went round the sender hundreds of times a second.
        await transport.take_turn(address, row.lane, adds_message=notice.replaces is None)
        current = asyncio.current_task()
        assert current is not None
        self._deliveries[current] = "sending"
        if "live" in row.payload and waited(row.payload["live"], services.clock.now()):
            # Rendered from the database now, not when it was queued (digests); read before the row is
            # taken, so the short transaction that takes it does not hold the writer while it renders.
            async with self._rendering, services.db.read() as conn:
                live = await render_live(conn, row.payload["live"], row.recipient_id, services.clock.now())
            if live is None:
                async with services.db.write() as conn:
                    await outbox.skip_sending(conn, row.id, reason="nothing to say any more")
                return
            notice = live
        async with services.db.write() as conn:
            taken = await outbox.take_for_sending(conn, row, admin_ids=services.settings.admin_ids)
            if taken == "sending" and notice.media is not None:
                # A stored photo: shown by the channel's reference to it; none left (erased): the text goes alone.
                notice = replace(notice, photo=await media.file_ref(conn, notice.media, transport.channel))
        if taken != "sending":
            if taken == "superseded":
                log.info("outbox row %s (%s) superseded before sending", row.id, row.dedupe_key)
            return
        language = row.language or services.settings.default_language
        try:
            sent = await transport.send(address, language, notice, row.lane)
        except Held as exc:
            # The channel may not carry it now (WeChat: outside the person's window, a lane that waits);
            # held longer than the channel allows, it is no longer news: given up, marked so.
            age = services.clock.now() - row.created_at if row.created_at is not None else None
            if exc.expire_after is not None and age is not None and age >= exc.expire_after:
                async with services.db.write() as conn:
                    await outbox.drop(conn, row.id, reason=f"expired: {exc.reason}")
                log.info("outbox row %s (%s) expired while held: %s", row.id, row.dedupe_key, exc.reason)
            else:
                await self._record(row, retry_in=exc.retry_in, error=exc.reason, count_attempt=False)
        except SlowDown as exc:
            # The transport already paused the whole bot; the row simply waits for its next turn.
            await self._record(row, retry_in=dt.timedelta(), error=exc.reason, count_attempt=False)
        except Unreachable as exc:
            async with services.db.write() as conn:
                await users.mark_unreachable(conn, row.recipient_id)
                dropped = await outbox.drop_bulk_for(conn, row.recipient_id, reason="unreachable")
                await outbox.mark_failed(conn, row.id, error=exc.reason)
            log.info("user %s blocked the bot: unreachable, %d bulk messages dropped", row.recipient_id, dropped)
        except Unavailable as exc:
            attempts = row.attempts + 1
            if attempts >= self._max_attempts:
                async with services.db.write() as conn:
                    await outbox.mark_failed(conn, row.id, error=f"gave up after {attempts}: {exc.detail}")
            else:
                await self._record(row, retry_in=backoff(attempts), error=exc.reason)
        except DeliveryError as exc:  # refused for good, or a failure the channel cannot classify
            async with services.db.write() as conn:
                await outbox.mark_failed(conn, row.id, error=exc.reason)
            log.warning("outbox row %s (%s) not delivered: %s", row.id, row.dedupe_key, exc.reason)
        else:
            if row.lane == self._kill_sending:
                os.kill(os.getpid(), signal.SIGKILL)
            async with services.db.write() as conn:
                kept = await outbox.mark_sent(conn, row.id, now=services.clock.now(), message_ids=sent or None)
            if kept:
                self.sent += 1
                return
            # /deleteme erased someone this notice is about while it was on the wire: take it back.
            withdrawn = bool(sent) and await transport.withdraw(address, sent or ())
            async with services.db.write() as conn:
                await outbox.mark_withdrawn(conn, row.id, now=services.clock.now(), withdrawn=withdrawn)
            log.info("outbox row %s: a subject was erased while it was sent; withdrawn: %s", row.id, withdrawn)

    async def _record(
        self, row: OutboxMessage, *, retry_in: dt.timedelta, error: str, count_attempt: bool = True
    ) -> None:
        async with self._services.db.write() as conn:
            await outbox.retry_later(
                conn,
                row.id,
                not_before=self._services.clock.now() + retry_in,
                error=error,
                count_attempt=count_attempt,
            )
