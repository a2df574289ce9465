"""Process updates of different chats concurrently but the updates of one chat strictly in order, and make
each update's conversation step durable before the chat moves on.

PTB's `concurrent_updates=True` alone lets two quick messages from one person race through a
ConversationHandler, so each chat (or user, for updates without a chat) gets its own lock. While the
lock is held, after the update's handlers ran, `after_update` (the application's `update_persistence`,
set by `bot.app`) writes the conversation states and drafts the update changed: a crash a moment after a
step loses nothing, instead of up to a second of steps with PTB's periodic persistence alone. Its cost
is one small write transaction per update that changed a state or a draft (unchanged drafts are not
written, `bot.persistence`); updates that change neither cost a JSON comparison.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

log = logging.getLogger(__name__)


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Concurrency across chats, order within a chat."""

    def __init__(self, max_concurrent_updates: int = 256) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: dict[int, int] = {}
        # Called after each update's handlers, inside the chat's lock (bot.app: the persistence write-through).
        self.after_update: Callable[[], Awaitable[None]] | None = None

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = _chat_key(update)
        if key is None:
            await coroutine
            await self._after()
            return
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:
                await coroutine
                await self._after()
        finally:
            # Forget the lock once nobody waits on it, so memory does not grow with every chat ever seen.
            self._users[key] -= 1
            if not self._users[key]:
                del self._users[key]
                del self._locks[key]

    async def _after(self) -> None:
        if self.after_update is None:
            return
        try:
            await self.after_update()
        except Exception:
            # PTB's periodic persistence tries again within a second; the update itself was handled.
            log.warning("could not write the conversation state after an update", exc_info=True)

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""


def _chat_key(update: object) -> int | None:
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    if update.effective_user is not None:
        return update.effective_user.id
    return None
