"""The one sender: delivers the outbox within Telegram's limits, urgent first, and records every outcome.

It runs as one task for the life of the bot. Each round reads a small batch of due rows (urgent,
then normal, then bulk; during quiet hours only urgent) and starts a delivery per row, at most
`concurrency` at a time and one at a time per person. A delivery waits for the person's chat pace and
a token of the budget it shares with direct replies (bulk waits behind every reply), records that the
message is on the wire, sends it, and records how it went:

  superseded (the condition the row was written under no longer holds: not sent) · sent ·
  429 → the whole bot pauses `retry_after`, the row waits again (not counted as an attempt) ·
  5xx/timeout → retried with exponential backoff up to `max_attempts` · 403 → the person is marked
  unreachable and their pending bulk dropped · 400 → failed, not retried.

Nothing lives only in memory: a restart reads the same rows again (see `storage.outbox.recover_interrupted`
for the ones that were on the wire).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal

from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from actions.messages import Notice, notice_from_payload
from actions.notices import render_live
from channels.telegram.render import render_notice
from scheduler.calendar import in_quiet_hours
from scheduler.limits import LANE_PRIORITY, Prepaid, SharedRateLimiter
from storage import media, outbox, people, users
from storage.outbox import Lane, OutboxMessage

if TYPE_CHECKING:
    from bot.app import TongxinApp

log = logging.getLogger(__name__)

ALL_LANES: tuple[Lane, ...] = ("urgent", "normal", "bulk")
Phase = Literal["waiting", "sending"]


def backoff(attempts: int) -> dt.timedelta:
    """How long to wait before sending again after `attempts` transient failures: 2, 4, 8 … 300 s."""
    return dt.timedelta(seconds=min(300, 2**attempts))


class OutboxSender:
    """Delivers the outbox; `start()` once at bot start, `stop()` at shutdown."""

    def __init__(
        self,
        application: TongxinApp,
        *,
        batch_size: int = 60,
        concurrency: int = 32,
        poll_seconds: float = 1.0,
        max_attempts: int = 5,
    ) -> None:
        limiter = application.bot.rate_limiter
        if not isinstance(limiter, SharedRateLimiter):
            raise RuntimeError("the outbox sender needs the bot built with SharedRateLimiter")
        self._limiter = limiter
        self._bot = application.bot
        self._services = application.bot_data
        self._batch_size = batch_size
        self._poll_seconds = poll_seconds
        self._max_attempts = max_attempts
        self._slots = asyncio.Semaphore(concurrency)
        # New rows wake the sender at once; finished deliveries wake it to look at the next person's row.
        self._queued = application.bot_data.env.queued
        self._freed = asyncio.Event()
        self._in_flight: set[int] = set()
        self._busy: set[int] = set()
        self._deliveries: dict[asyncio.Task[None], Phase] = {}
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.sent = 0

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
            await asyncio.wait(list(self._deliveries), timeout=timeout)

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
            await self._slots.acquire()
            self._in_flight.add(row.id)
            self._busy.add(row.recipient_id)
            task = asyncio.create_task(self._deliver(row), name=f"outbox-{row.id}")
            self._deliveries[task] = "waiting"
            task.add_done_callback(self._deliveries.pop)
            started += 1
            if self._queued.is_set():
                break  # something new arrived, perhaps urgent: look again before more bulk
        return started

    # -- one delivery --------------------------------------------------------------------------------

    async def _deliver(self, row: OutboxMessage) -> None:
        try:
            await self._deliver_row(row)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("delivering outbox row %s failed unexpectedly", row.id)
        finally:
            self._in_flight.discard(row.id)
            self._busy.discard(row.recipient_id)
            self._slots.release()
            self._freed.set()

    async def _deliver_row(self, row: OutboxMessage) -> None:
        services = self._services
        try:
            notice = notice_from_payload(row.payload)
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            async with services.db.write() as conn:
                await outbox.mark_failed(conn, row.id, error=f"unreadable payload: {exc}")
            return
        priority = LANE_PRIORITY[row.lane]
        await self._take_turn(row.recipient_id, priority)
        current = asyncio.current_task()
        assert current is not None
        self._deliveries[current] = "sending"
        async with services.db.write() as conn:
            # The recipient is a person id; Telegram wants their chat, found through their Telegram identity.
            chat_id = await people.telegram_id_of(conn, row.recipient_id)
            if chat_id is None:
                await outbox.mark_failed(conn, row.id, error="the recipient has no Telegram identity")
                return
            taken = await outbox.take_for_sending(conn, row, admin_ids=services.settings.admin_ids)
            if taken == "sending" and "live" in row.payload:
                # Rendered from the database now, not when it was queued (digests).
                live = await render_live(conn, row.payload["live"], row.recipient_id, services.clock.now())
                if live is None:
                    await outbox.skip_sending(conn, row.id, reason="nothing to say any more")
                    return
                notice = live
            if taken == "sending" and notice.media is not None:
                # A stored photo: shown by its Telegram reference; none left (erased): the text goes alone.
                notice = replace(notice, photo=await media.file_ref(conn, notice.media, people.TELEGRAM))
        if taken != "sending":
            if taken == "superseded":
                log.info("outbox row %s (%s) superseded before sending", row.id, row.dedupe_key)
            return
        try:
            await self._send(row, chat_id, notice, priority)
        except RetryAfter as exc:
            # The limiter already paused the whole bot; the row simply waits for its next turn.
            await self._record(row, retry_in=dt.timedelta(), error=f"429: {exc.message}", count_attempt=False)
        except Forbidden as exc:
            async with services.db.write() as conn:
                await users.mark_unreachable(conn, row.recipient_id)
                dropped = await outbox.drop_bulk_for(conn, row.recipient_id, reason="unreachable")
                await outbox.mark_failed(conn, row.id, error=f"403: {exc.message}")
            log.info("user %s blocked the bot: unreachable, %d bulk messages dropped", row.recipient_id, dropped)
        except BadRequest as exc:
            async with services.db.write() as conn:
                await outbox.mark_failed(conn, row.id, error=f"400: {exc.message}")
            log.warning("outbox row %s (%s) refused by Telegram: %s", row.id, row.dedupe_key, exc.message)
        except NetworkError as exc:  # 5xx and timeouts
            attempts = row.attempts + 1
            if attempts >= self._max_attempts:
                async with services.db.write() as conn:
                    await outbox.mark_failed(conn, row.id, error=f"gave up after {attempts}: {exc.message}")
            else:
                await self._record(row, retry_in=backoff(attempts), error=f"{type(exc).__name__}: {exc.message}")
        except TelegramError as exc:
            async with services.db.write() as conn:
                await outbox.mark_failed(conn, row.id, error=f"{type(exc).__name__}: {exc.message}")
        else:
            async with services.db.write() as conn:
                await outbox.mark_sent(conn, row.id, now=services.clock.now())
            self.sent += 1

    async def _take_turn(self, chat_id: int, priority: int) -> None:
        await self._limiter.pacer.take(chat_id)
        await self._limiter.budget.acquire(priority)

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

    async def _send(self, row: OutboxMessage, chat_id: int, notice: Notice, priority: int) -> None:
        services = self._services
        language = row.language or services.settings.default_language
        text, markup = render_notice(services.catalogues, language, notice)
        prepaid = Prepaid(row.lane)
        kwargs: dict[str, Any] = {"reply_markup": markup, "parse_mode": ParseMode.HTML, "rate_limit_args": prepaid}
        if notice.replaces is not None:
            try:
                await self._bot.edit_message_text(text, chat_id=chat_id, message_id=notice.replaces, **kwargs)
            except BadRequest as exc:
                # Already showing this text (a resend after a crash) or the message is gone: nothing to redo.
                if "not modified" not in exc.message.lower():
                    raise
            return
        if notice.photo:
            await self._bot.send_photo(chat_id, notice.photo, caption=text[:1024], **kwargs)
        else:
            await self._bot.send_message(chat_id, text, **kwargs)
        if notice.location:
            try:
                await self._take_turn(row.recipient_id, priority)
                await self._bot.send_location(chat_id, notice.location[0], notice.location[1], rate_limit_args=prepaid)
            except TelegramError:
                # The notice itself arrived; a lost map pin is not worth sending the text twice.
                log.warning("map pin of outbox row %s was not delivered", row.id, exc_info=True)
