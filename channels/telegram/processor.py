"""Process updates of different chats concurrently but the updates of one chat strictly in order; make each
update's conversation step durable before the chat moves on; keep the updates a database outage stopped.

PTB's `concurrent_updates=True` alone lets two quick messages from one person race through a
ConversationHandler, so each chat (or user, for updates without a chat) gets its own lock.

Write-through: while the lock is held, after the update's handlers ran, `after_update` (the application's
`update_persistence`, set by `bot.app`) writes the conversation states and drafts the update changed, so a
crash a moment after a step loses nothing (PTB's periodic persistence alone wrote once a second). Its cost
is one small write transaction per update that changed a state or a draft (unchanged drafts are not
written, `channels.telegram.persistence`); updates that change neither cost a deep copy and a JSON comparison.

Database outages: when an update's handling failed because the database could not be reached, the error
handler `hold`s it. A chat with held updates keeps its order: its later updates are held behind them.
Held updates are bounded (`per_chat`, `total`); a task pings the database with backoff and, once it
answers, handles every held update again, chat by chat in order (`replay`, set by `bot.app`). They live in
memory, and in the durable inbox if they were written to it before the database went away.

Durable inbox (`channels.telegram.inbox`): each update with a chat is written to the database as it arrives, before it
is handled (the chat's order is kept: the write runs while the update waits for its chat's lock), and deleted in the
transaction of `after_update` that writes its conversation state. `resume` handles what a crash left there before
polling starts. An update that could not be written (the database is down; not tried while updates are held for
it) lives only in memory as above. Cost per update: one small insert and one delete, the delete in the state
write's transaction; rows of updates arriving together and the write-throughs of updates just handled share one
commit (`storage.db.GroupCommit`).

Presses: a button press that arrives while its chat is busy with earlier updates (or held for the database) is
answered after a few seconds unless its handler did (`answer_early`): Telegram takes an answer only for about ten
seconds after the press, and a chat's paced replies can take longer (channels/telegram/taps.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, Literal

from telegram import Bot, Update
from telegram.ext import BaseUpdateProcessor

from channels.telegram.inbox import UpdateInbox
from channels.telegram.send_journal import SendJournal
from core.clock import LoopTimer, Timer
from core.keyed_locks import KeyedLocks

log = logging.getLogger(__name__)

Held = Literal["held", "again", "full"]
TAKEN = 100_000  # update ids remembered as taken (far more than the inbox holds at once)


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Concurrency across chats, order within a chat, durable steps, updates kept through a database outage."""

    def __init__(
        self, max_concurrent_updates: int = 256, *, per_chat: int = 50, total: int = 10_000, timer: Timer | None = None
    ) -> None:
        super().__init__(max_concurrent_updates)
        self._timer = timer or LoopTimer()  # the back-off between pings of an unreachable database
        self._turns: KeyedLocks[int] = KeyedLocks()
        # Called after each update's handlers, inside the chat's lock, with the ids of the handled updates to delete
        # from the inbox (bot.app: the persistence write-through).
        self.after_update: Callable[[Sequence[int]], Awaitable[None]] | None = None
        # Where arriving updates are written before they are handled (bot.app: the database's update inbox).
        self.inbox: UpdateInbox | None = None
        # Records the Bot API requests each update's handlers make, so handling it again sends nothing twice (bot.app:
        # channels/telegram/send_journal.py).
        self.journal: SendJournal | None = None
        # Told each update's id once it is in the inbox or needs no place there (bot.app: getUpdates waits for it).
        self.settled: Callable[[int], None] | None = None
        self._journaled: set[int] = set()
        # Ids of the updates this process took to handle (the last `TAKEN`): webhook mode's leader hands every update
        # in the inbox to the processor once (channels/telegram/webhook.py).
        self._taken: dict[int, None] = {}
        self._unforgotten: list[int] = []
        self._resumed: set[int] = set()
        # Handles an update again (bot.app: the application's process_update) and pings the database.
        self.replay: Callable[[object], Coroutine[Any, Any, None]] | None = None
        self.database_ready: Callable[[], Awaitable[None]] | None = None
        # Counts each update as it arrives (bot.app: the flood guard). False: the update is handled at once, not
        # behind its chat's earlier updates, so a person flooding the bot is told now, not after the paced
        # replies to everything they sent before.
        self.admit: Callable[[object], bool] | None = None
        # Notes each update as it arrives (bot.app: the presses' chats, channels/telegram/taps.py), and answers a
        # press (after a few seconds) when its chat is busy or held: its handler may run too late for Telegram.
        self.arrived: Callable[[object], object] | None = None
        self.answer_early: Callable[[Update], None] | None = None
        self._per_chat = per_chat
        self._total = total
        self._held: dict[int, deque[Update]] = {}
        self._replaying: Update | None = None
        self._replay_failed = False
        self._recovery: asyncio.Task[None] | None = None

    @property
    def held(self) -> int:
        """How many updates wait for the database."""
        return sum(len(queue) for queue in self._held.values())

    def holding(self, update: object) -> bool:
        """Whether this update's chat already has updates waiting for the database."""
        key = _chat_key(update)
        return key is not None and key in self._held

    def hold(self, update: object) -> Held:
        """Keep an update whose handling failed because the database is out of reach: "held" (newly kept),
        "again" (it was being handled again, or is kept already: nothing new to tell) or "full"."""
        key = _chat_key(update)
        if key is None or not isinstance(update, Update):
            return "full"
        if update is self._replaying:
            self._replay_failed = True
            return "again"
        queue = self._held.get(key)
        if queue is not None and any(kept.update_id == update.update_id for kept in queue):
            return "again"
        if (queue is not None and len(queue) >= self._per_chat) or self.held >= self._total:
            log.warning(
                "database unreachable and %d updates kept already: an update of chat %s is dropped", self.held, key
            )
            return "full"
        self._held.setdefault(key, deque()).append(update)
        self._start_recovery()
        return "held"

    def _settle(self, update: object) -> None:
        """getUpdates confirms an update to Telegram only once it is in the inbox (`_keep`) or needs no place there:
        not while its write failed (it lives in memory only, `hold`), for at most `UpdatesRequest.SETTLE_WITHIN`."""
        if self.settled is not None and isinstance(update, Update):
            self.settled(update.update_id)

    def drop_held(self) -> int:
        """This instance stopped leading (channels/lease.py): forget the updates held for the database. The leader
        handles them: getUpdates did not confirm them to Telegram, as they never reached the inbox (`settled`)."""
        dropped = self.held
        self._held.clear()
        if self._recovery is not None:
            self._recovery.cancel()
        return dropped

    def _start_recovery(self) -> None:
        if self._recovery is None or self._recovery.done():
            self._recovery = asyncio.create_task(self._recover(), name="database-recovery")

    async def _recover(self) -> None:
        delay = 1.0
        while self._held:
            await self._timer.sleep(delay)
            try:
                if self.database_ready is not None:
                    await self.database_ready()
            except Exception as exc:
                log.warning("database still unreachable (%s); %d updates wait for it", type(exc).__name__, self.held)
                delay = min(delay * 2, 10.0)
                continue
            log.info("database reachable again: handling %d kept updates", self.held)
            if await self._replay_all():
                delay = 1.0
            else:
                delay = min(delay * 2, 10.0)

    async def _replay_all(self) -> bool:
        """Handle the kept updates again, each chat's in order; False if the database failed again."""
        for key in list(self._held):
            queue = self._held[key]
            async with self._turns.turn(key):
                while queue:
                    update = queue[0]
                    self._replaying, self._replay_failed = update, False
                    try:
                        if self.replay is not None:
                            with self._handling(update, again=True):
                                await self.replay(update)
                        await self._after(None if self._replay_failed else update)
                    finally:
                        self._replaying = None
                    if self._replay_failed:
                        return False
                    queue.popleft()
                del self._held[key]
        return True

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        if isinstance(update, Update) and update.update_id in self._resumed:
            # Handled from the inbox at start-up already; Telegram sent it again as its offset was not yet acknowledged.
            self._resumed.discard(update.update_id)
            self._settle(update)
            _close(coroutine)
            return
        if self.arrived is not None:
            self.arrived(update)
        if self.admit is not None and not self.admit(update):
            self._settle(update)
            await coroutine
            return
        key = _chat_key(update)
        keeping = None
        written = (
            isinstance(update, Update) and update.update_id in self._journaled
        )  # by the webhook (channels/telegram/webhook.py)
        if key is not None and isinstance(update, Update) and self.inbox is not None and not self._held and not written:
            # Written while the update waits for its chat's lock; handled only once written.
            keeping = asyncio.ensure_future(self._keep(self.inbox, update, key))
        if keeping is None:
            self._settle(update)
        try:
            await self._handle(key, update, coroutine, keeping, again=written)
        finally:
            if keeping is not None:
                await keeping

    async def _handle(
        self,
        key: int | None,
        update: object,
        coroutine: Awaitable[Any],
        keeping: Awaitable[bool] | None = None,
        *,
        again: bool = False,
    ) -> None:
        """Run the update's handlers in its chat's turn and write what they changed; `again`: it may have been handled
        before (it comes from the inbox), so the requests recorded then are not made twice."""
        if key is None:
            await coroutine
            await self._after(update)
            return
        busy = key in self._held or self._turns.busy(key)  # updates of the chat being handled or waiting
        if busy and self.answer_early is not None and isinstance(update, Update) and update.callback_query:
            self.answer_early(update)
        if self._divert(key, update, coroutine):
            return
        async with self._turns.turn(key):
            if keeping is not None and not await keeping:
                # Handled already (Telegram delivered it again: a retry after a lost answer, a takeover), or in the
                # inbox already, where its first arrival is being handled.
                log.info("update %d arrived again; handled once", getattr(update, "update_id", 0))
                _close(coroutine)
                return
            # Held updates of this chat may have appeared while this one waited: it goes behind them.
            if self._divert(key, update, coroutine):
                return
            with self._handling(update, again=again):
                await coroutine
            await self._after(None if self._is_held(key, update) else update)

    async def _keep(self, inbox: UpdateInbox, update: Update, key: int) -> bool:
        """Write the update to the inbox; False if it is known already (not to be handled again)."""
        try:
            fresh = await inbox.keep(update, key)
        except Exception as exc:
            # The update is handled all the same; if the database is down, it is kept in memory (`hold`).
            log.warning("update %d could not be written to the inbox (%s)", update.update_id, type(exc).__name__)
            return True
        self._settle(update)
        if fresh:
            self._journaled.add(update.update_id)
            self._take(update.update_id)
        return fresh

    def _take(self, update_id: int) -> bool:
        """Note that this process handles the update; False if it did already."""
        if update_id in self._taken:
            return False
        self._taken[update_id] = None
        if len(self._taken) > TAKEN:
            del self._taken[next(iter(self._taken))]
        return True

    def take_written(self, update_id: int) -> bool:
        """An update written to the inbox before it reached the processor (webhook mode, channels/telegram/webhook.py)
        is to be handled by this process; False if it was taken already (it is then not to be handed over again)."""
        if not self._take(update_id):
            return False
        self._journaled.add(update_id)
        return True

    async def resume(self, bot: Bot) -> int:
        """Handle the updates a stop left in the inbox, in order, before polling starts; returns how many."""
        if self.inbox is None or self.replay is None:
            return 0
        updates = await self.inbox.left_over(bot)
        for update in updates:
            self._resumed.add(update.update_id)
            self._journaled.add(update.update_id)
            self._take(update.update_id)
            await self._handle(_chat_key(update), update, self.replay(update), again=True)
        return len(updates)

    def _handling(self, update: object, *, again: bool) -> contextlib.AbstractContextManager[object]:
        """The requests made while the update's handlers run are recorded (`journal`)."""
        if self.journal is None or not isinstance(update, Update):
            return contextlib.nullcontext()
        user = update.effective_user
        return self.journal.handling(update.update_id, user.id if user is not None else None, again=again)

    def _is_held(self, key: int, update: object) -> bool:
        queue = self._held.get(key)
        return (
            queue is not None
            and isinstance(update, Update)
            and any(kept.update_id == update.update_id for kept in queue)
        )

    def _divert(self, key: int, update: object, coroutine: Awaitable[Any]) -> bool:
        queue = self._held.get(key)
        if queue is None or not isinstance(update, Update):
            return False
        _close(coroutine)
        if len(queue) < self._per_chat:
            queue.append(update)
        else:
            log.warning("database unreachable: chat %s has %d updates kept; a newer one is dropped", key, len(queue))
        return True

    async def _after(self, handled: object) -> None:
        """Write what the update changed and delete `handled` (if it was written) from the inbox, together with the
        deletions an earlier failed write left."""
        if self.after_update is None:
            return
        done, self._unforgotten = self._unforgotten, []
        if isinstance(handled, Update) and handled.update_id in self._journaled:
            self._journaled.discard(handled.update_id)
            done.append(handled.update_id)
        try:
            await self.after_update(done)
        except Exception:
            # PTB's periodic persistence tries again within a second; the update itself was handled, and its inbox
            # row goes with the next write.
            self._unforgotten.extend(done)
            log.warning("could not write the conversation state after an update", exc_info=True)

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Stop waiting for the database (kept updates are given up, and said so)."""
        if self._recovery is not None:
            self._recovery.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._recovery
        if self._held:
            log.warning("stopping with %d updates still waiting for the database", self.held)


def _close(coroutine: Awaitable[Any]) -> None:
    if isinstance(coroutine, Coroutine):
        coroutine.close()


def _chat_key(update: object) -> int | None:
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    if update.effective_user is not None:
        return update.effective_user.id
    return None


chat_key = _chat_key  # the chat (or person) whose updates are handled in order, for channels/telegram/webhook.py
