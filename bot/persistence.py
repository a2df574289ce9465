"""PTB persistence in our own database: conversation states and per-user drafts survive a restart.

Only `user_data` and conversations are kept; chat and bot data are not used by the bot. PTB
calls `update_*` from its periodic persistence job (every `update_interval` seconds) and at
shutdown; besides, the update processor (`bot.processor`) has them written after every update, before
the chat's next update is handled, so a hard kill loses no conversation step that was answered.
"""

from __future__ import annotations

import json
from copy import deepcopy
from typing import Any

from sqlalchemy import delete, select
from telegram.ext import BasePersistence, PersistenceInput
from telegram.ext._utils.types import CDCData, ConversationDict, ConversationKey

from storage.db import Database
from storage.schema import conversation_states, user_data


class DatabasePersistence(BasePersistence[dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """Conversations and user_data in the `conversation_states` and `user_data` tables."""

    def __init__(self, db: Database, update_interval: float = 1.0) -> None:
        super().__init__(
            store_data=PersistenceInput(bot_data=False, chat_data=False, user_data=True, callback_data=False),
            update_interval=update_interval,
        )
        self._db = db
        # What was last written per user: PTB offers every user's data after every update, and most
        # updates change none of it, so unchanged data is not written again.
        self._written: dict[int, str] = {}

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
        async with self._db.write() as conn:
            await conn.execute(delete(user_data).where(user_data.c.user_id == user_id))
            await conn.execute(user_data.insert().values(user_id=user_id, data=payload))
        self._written[user_id] = encoded

    async def drop_user_data(self, user_id: int) -> None:
        async with self._db.write() as conn:
            await conn.execute(delete(user_data).where(user_data.c.user_id == user_id))
        self._written.pop(user_id, None)

    async def refresh_user_data(self, user_id: int, user_data: dict[Any, Any]) -> None:
        """Drafts are only written by this process, so there is nothing to refresh."""

    async def get_conversations(self, name: str) -> ConversationDict:
        async with self._db.read() as conn:
            rows = (await conn.execute(select(conversation_states).where(conversation_states.c.name == name))).all()
        return {tuple(json.loads(row.key)): row.state for row in rows}

    async def update_conversation(self, name: str, key: ConversationKey, new_state: object | None) -> None:
        encoded_key = json.dumps(list(key))
        async with self._db.write() as conn:
            await conn.execute(
                delete(conversation_states).where(
                    conversation_states.c.name == name, conversation_states.c.key == encoded_key
                )
            )
            if new_state is not None:
                await conn.execute(
                    conversation_states.insert().values(name=name, key=encoded_key, state=deepcopy(new_state))
                )

    async def flush(self) -> None:
        """Every update is written straight through; nothing is buffered."""

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
