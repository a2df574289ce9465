"""PTB persistence in our own database: conversation states and per-user drafts survive a restart.

Only `user_data` and conversations are kept; chat and bot data are not used by the bot. PTB
calls `update_*` from its periodic persistence job (every `update_interval` seconds) and at
shutdown; besides, the update processor (`channels.telegram.processor`) has them written after every update, before
the chat's next update is handled, through `write_through`: the changed states and drafts and the deletion of the
handled update from the durable inbox (`channels.telegram.inbox`) in one transaction, so a kill leaves either both or
neither. An update that changed no state has its inbox row deleted within a quarter of a second (`_forget_later`).

Fault injection for the crash test: with TONGXIN_FAULT_KILL_AFTER_HANDLERS=N the process SIGKILLs itself after the
handlers of the N-th update that changed a conversation state ran, before that state is written.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from copy import deepcopy
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncConnection
from telegram.ext import BasePersistence, PersistenceInput
from telegram.ext._utils.types import CDCData, ConversationDict, ConversationKey

from core.clock import SystemClock
from storage import inbox
from storage.db import Database, GroupCommit, LingerTimer, Write
from storage.schema import conversation_states, user_data

FAULT_KILL_AFTER_HANDLERS = "TONGXIN_FAULT_KILL_AFTER_HANDLERS"


class _Application(Protocol):
    async def update_persistence(self) -> None: ...


@dataclass
class _Batch:
    """The writes one `write_through` collects, and what to remember once they are committed."""

    writes: list[Write] = field(default_factory=list)
    committed: list[Callable[[], None]] = field(default_factory=list)
    conversations: int = 0


# Set while `write_through` collects: the update_* methods then add their writes to it instead of committing each.
_BATCH: ContextVar[_Batch | None] = ContextVar("persistence_batch", default=None)


class DatabasePersistence(BasePersistence[dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """Conversations and user_data in the `conversation_states` and `user_data` tables."""

    def __init__(self, db: Database, update_interval: float = 1.0, *, timer: LingerTimer | None = None) -> None:
        super().__init__(
            store_data=PersistenceInput(bot_data=False, chat_data=False, user_data=True, callback_data=False),
            update_interval=update_interval,
        )
        self._db = db
        # `timer`: what the inbox deletions of updates that changed nothing linger on (`_forget_later`); without
        # one they are committed at once, as the tests that count rows expect.
        self.group = GroupCommit(db, timer=timer)
        # Handled updates that changed nothing, whose inbox rows go together within the linger (`_forget_later`).
        self._handled: list[int] = []
        # What was last written per user: PTB offers every user's data after every update, and most
        # updates change none of it, so unchanged data is not written again.
        self._written: dict[int, str] = {}
        self._kill_after = int(os.environ.get(FAULT_KILL_AFTER_HANDLERS) or 0)
        # When handled updates are recorded as handled (bot.app: the bot's clock).
        self.now: Callable[[], dt.datetime] = SystemClock().now

    async def write_through(self, application: _Application, handled: Sequence[int] = ()) -> None:
        """Write what the updates handled so far changed (conversation states, drafts) and delete the `handled`
        updates from the inbox, in one transaction. Raises if the database cannot be reached."""
        batch = _Batch()
        token = _BATCH.set(batch)
        try:
            # PTB's gather runs each update_* in a task of its own, which inherits the batch.
            await application.update_persistence()
        finally:
            _BATCH.reset(token)
        if batch.conversations and self._kill_after:
            self._kill_after -= 1
            if not self._kill_after:
                os.kill(os.getpid(), signal.SIGKILL)
        if not batch.writes:
            if handled:
                self._forget_later(handled)
            return

        async def write(conn: AsyncConnection) -> None:
            for each in batch.writes:
                await each(conn)
            if handled:
                await inbox.forget(conn, handled, self.now())

        # With the other chats' writes and inbox rows that arrive meanwhile: one commit for many under load.
        await self.group.write(write)
        for committed in batch.committed:
            committed()

    def _forget_later(self, handled: Sequence[int]) -> None:
        """Nothing changed: the updates' inbox rows are deleted once `GroupCommit.linger` is over, those of every
        update handled meanwhile in one statement, with the transaction under way then (the next update's inbox row,
        usually) or in one of their own; nobody waits for it. A kill before then hands them to the next start-up,
        which answers them again: at least once, as before, with a window of a quarter of a second instead of a few
        milliseconds, for one commit per update instead of two and one deletion per linger instead of one each."""
        if not self._handled:
            taken: list[int] = []

            async def forget(conn: AsyncConnection) -> None:
                # The ids gathered until the transaction starts; the same ones if it is tried again.
                if not taken:
                    taken.extend(self._handled)
                    self._handled = []
                await inbox.forget(conn, taken, self.now())

            self.group.ride(forget)
        self._handled.extend(handled)

    async def _write(self, write: Write, committed: Callable[[], None] | None = None) -> None:
        batch = _BATCH.get()
        if batch is not None:
            batch.writes.append(write)
            if committed is not None:
                batch.committed.append(committed)
            return
        async with self._db.write() as conn:
            await write(conn)
        if committed is not None:
            committed()

    async def get_user_data(self) -> dict[int, dict[Any, Any]]:
        async with self._db.read() as conn:
            rows = (await conn.execute(select(user_data))).all()
        self._written = {row.user_id: json.dumps(row.data, sort_keys=True) for row in rows}
        return {row.user_id: dict(row.data) for row in rows}

    async def update_user_data(self, user_id: int, data: dict[Any, Any]) -> None:
        encoded = json.dumps(data, default=str, sort_keys=True)
        if self._written.get(user_id, "{}") == encoded:
            return
        payload = json.loads(encoded)

        async def write(conn: AsyncConnection) -> None:
            await conn.execute(delete(user_data).where(user_data.c.user_id == user_id))
            await conn.execute(user_data.insert().values(user_id=user_id, data=payload))

        def committed() -> None:
            self._written[user_id] = encoded

        await self._write(write, committed)

    async def drop_user_data(self, user_id: int) -> None:
        async def write(conn: AsyncConnection) -> None:
            await conn.execute(delete(user_data).where(user_data.c.user_id == user_id))

        def committed() -> None:
            self._written.pop(user_id, None)

        await self._write(write, committed)

    async def refresh_user_data(self, user_id: int, user_data: dict[Any, Any]) -> None:
        """Drafts are only written by this process, so there is nothing to refresh."""

    async def get_conversations(self, name: str) -> ConversationDict:
        async with self._db.read() as conn:
            rows = (await conn.execute(select(conversation_states).where(conversation_states.c.name == name))).all()
        return {tuple(json.loads(row.key)): row.state for row in rows}

    async def update_conversation(self, name: str, key: ConversationKey, new_state: object | None) -> None:
        encoded_key = json.dumps(list(key))
        state = deepcopy(new_state)

        async def write(conn: AsyncConnection) -> None:
            await conn.execute(
                delete(conversation_states).where(
                    conversation_states.c.name == name, conversation_states.c.key == encoded_key
                )
            )
            if state is not None:
                await conn.execute(conversation_states.insert().values(name=name, key=encoded_key, state=state))

        batch = _BATCH.get()
        if batch is not None:
            batch.conversations += 1
        await self._write(write)

    async def flush(self) -> None:
        """At shutdown: the inbox rows of the last handled updates go now (states are written straight through)."""
        await self.group.flush()

    # Chat data, bot data and callback data are not kept.
    async def get_chat_data(self) -> dict[int, dict[Any, Any]]:
        return {}

    async def update_chat_data(self, chat_id: int, data: dict[Any, Any]) -> None:
        return None

    async def drop_chat_data(self, chat_id: int) -> None:
        return None

    async def refresh_chat_data(self, chat_id: int, chat_data: dict[Any, Any]) -> None:
        return None

    async def get_bot_data(self) -> dict[Any, Any]:
        return {}

    async def update_bot_data(self, data: dict[Any, Any]) -> None:
        return None

    async def refresh_bot_data(self, bot_data: dict[Any, Any]) -> None:
        return None

    async def get_callback_data(self) -> CDCData | None:
        return None

    async def update_callback_data(self, data: CDCData) -> None:
        return None
