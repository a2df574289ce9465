"""The update processor: updates of one chat strictly in order, different chats concurrently."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools

from sqlalchemy import select
from telegram import Bot, Chat, Message, Update, User

from channels.telegram.inbox import UpdateInbox
from channels.telegram.persistence import DatabasePersistence
from channels.telegram.processor import PerChatUpdateProcessor
from core.clock import Timer
from storage.db import Database, GroupCommit
from storage.schema import update_inbox

NOW = dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC)


def _update(update_id: int, chat_id: int) -> Update:
    user = User(chat_id, "x", is_bot=False)
    chat = Chat(chat_id, "private")
    message = Message(update_id, dt.datetime(2026, 11, 26, tzinfo=dt.UTC), chat, from_user=user, text="hi")
    return Update(update_id, message=message)


async def test_one_chat_in_order_many_chats_at_once() -> None:
    processor = PerChatUpdateProcessor(64)
    log: list[tuple[int, str]] = []
    running: set[int] = set()
    overlap = 0

    async def handle(update: Update, delay: float) -> None:
        nonlocal overlap
        assert update.effective_chat is not None
        chat_id = update.effective_chat.id
        assert chat_id not in running, "two updates of one chat ran at once"
        running.add(chat_id)
        overlap = max(overlap, len(running))
        log.append((chat_id, f"start {update.update_id}"))
        await asyncio.sleep(delay)
        running.discard(chat_id)

    updates = [(_update(i, 1 + i % 3), 0.02 if i < 3 else 0.0) for i in range(12)]
    await asyncio.gather(*(processor.process_update(u, handle(u, d)) for u, d in updates))
    for chat_id in (1, 2, 3):
        order = [entry for chat, entry in log if chat == chat_id]
        assert order == sorted(order, key=lambda e: int(e.split()[1]))
    assert overlap > 1
    assert len(processor._turns) == 0


async def test_an_update_the_guard_turns_away_does_not_wait_for_its_chat() -> None:
    processor = PerChatUpdateProcessor(64)
    processor.admit = lambda update: isinstance(update, Update) and update.update_id != 2
    release = asyncio.Event()
    handled: list[int] = []

    async def slow(update: Update) -> None:
        await release.wait()
        handled.append(update.update_id)

    async def quick(update: Update) -> None:
        handled.append(update.update_id)

    first = asyncio.create_task(processor.process_update(_update(1, 7), slow(_update(1, 7))))
    await asyncio.sleep(0)
    # Update 2 of the same chat is over the flood limit: it is handled while update 1 still holds the chat.
    await asyncio.wait_for(processor.process_update(_update(2, 7), quick(_update(2, 7))), 1)
    assert handled == [2]
    release.set()
    await first
    assert handled == [2, 1]


class _NothingChanged:
    async def update_persistence(self) -> None:
        """The handlers of these tests change no conversation state."""


async def _inbox(db: Database) -> list[int]:
    async with db.read() as conn:
        return sorted((await conn.execute(select(update_inbox.c.update_id))).scalars())


def _with_inbox(db: Database, timer: Timer | None = None) -> tuple[PerChatUpdateProcessor, GroupCommit]:
    """A processor with the inbox, and the commit group whose next transaction deletes the rows of updates that
    changed nothing (`GroupCommit.flush` commits it now instead of within its linger)."""
    processor = PerChatUpdateProcessor(64, timer=timer)
    persistence = DatabasePersistence(db, timer=timer)
    processor.inbox = UpdateInbox(db, lambda: NOW, persistence.group)
    processor.after_update = functools.partial(persistence.write_through, _NothingChanged())
    return processor, persistence.group


async def test_an_update_is_in_the_inbox_while_it_is_handled_and_until_an_outage_it_met_is_over(
    db: Database, timer: Timer
) -> None:
    processor, group = _with_inbox(db, timer)
    seen: list[list[int]] = []
    outage = True

    async def handle(update: Update) -> None:
        seen.append(await _inbox(db))
        if outage:
            # What the error handler does when the database cannot be reached.
            assert processor.hold(update) == "held"

    async def ready() -> None:
        """The database answers again."""

    processor.replay = handle
    processor.database_ready = ready
    first = _update(1, 7)
    await processor.process_update(first, handle(first))
    assert seen == [[1]]
    # Held for the database: its row stays (a crash now would not lose it).
    assert await _inbox(db) == [1]
    outage = False
    assert processor._recovery is not None
    await asyncio.wait_for(processor._recovery, 30)
    await group.flush()
    assert await _inbox(db) == []
    await processor.process_update(_update(2, 7), handle(_update(2, 7)))
    assert seen[-1] == [2]
    await group.flush()  # its row goes with the next transaction, or after the linger
    assert await _inbox(db) == []


async def test_start_up_handles_what_the_inbox_kept_in_order_and_not_again_when_telegram_resends_it(
    db: Database,
) -> None:
    bot = Bot("123456:TEST")
    first, _ = _with_inbox(db)
    for update_id in (2, 1):
        update = _update(update_id, 7)
        await first.inbox.keep(update, 7)  # type: ignore[union-attr]
    handled: list[int] = []

    async def handle(update: Update) -> None:
        handled.append(update.update_id)

    again, group = _with_inbox(db)
    again.replay = handle
    assert await again.resume(bot) == 2
    assert handled == [1, 2]
    await group.flush()
    assert await _inbox(db) == []
    # Telegram had not yet been told that update 2 was fetched: it comes again, and is not handled twice.
    await again.process_update(_update(2, 7), handle(_update(2, 7)))
    await again.process_update(_update(3, 7), handle(_update(3, 7)))
    assert handled == [1, 2, 3]
