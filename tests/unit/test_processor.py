"""The update processor: updates of one chat strictly in order, different chats concurrently."""

from __future__ import annotations

import asyncio

from telegram import Chat, Message, Update, User

from bot.processor import PerChatUpdateProcessor


def _update(update_id: int, chat_id: int) -> Update:
    user = User(chat_id, "x", is_bot=False)
    chat = Chat(chat_id, "private")
    return Update(update_id, message=Message(update_id, None, chat, from_user=user, text="hi"))  # type: ignore[arg-type]


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
    assert processor._locks == {}


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
