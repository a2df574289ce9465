"""The durable inbox (channels/telegram/inbox.py): an update a stop left unhandled is handled at the next start-up,
before new ones, and the inbox is empty once the updates are handled."""

from __future__ import annotations

import asyncio
import json

import pytest
from sqlalchemy import select

from bot.app import running
from core.clock import ManualClock, Timer
from core.settings import Settings
from simulator import BotApiSimulator
from storage import inbox
from storage.db import Database
from storage.schema import update_inbox

# The dialect matters here (SQL the story reaches through the bot): on PostgreSQL too.
pytestmark = pytest.mark.both_databases


async def inbox_emptied(db: Database) -> bool:
    """Whether the inbox is empty within 10 s (an update's row goes right after its reply is sent)."""
    for _ in range(100):
        async with db.read() as conn:
            if not (await conn.execute(select(update_inbox.c.update_id))).all():
                return True
        await asyncio.sleep(0.1)
    return False


async def test_an_update_left_in_the_inbox_is_handled_at_start_up(
    sim: BotApiSimulator, story_db: Database, settings: Settings, clock: ManualClock, timer: Timer
) -> None:
    alice = sim.person("王阿姨")
    # A /wish the previous process took from Telegram (so Telegram will not send it again) and was killed on.
    update = {
        "update_id": 1_000_000,
        "message": {
            "message_id": 1,
            "from": dict(alice.user),
            "chat": dict(alice.chat.chat),
            "date": int(clock.now().timestamp()),
            "text": "/wish",
            "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
        },
    }
    async with story_db.write() as conn:
        await inbox.keep(
            conn,
            [
                inbox.row(
                    update_id=1_000_000,
                    chat_key=alice.user_id,
                    user_id=alice.user_id,
                    payload=json.dumps(update),
                    now=clock.now(),
                )
            ],
        )
    async with running(settings, db=story_db, clock=clock, poll_timeout=1, timer=timer):
        await alice.wait_for_text("请选择", timeout=30)
        await alice.press("助老助残")
        await alice.wait_for_text("请用文字描述")
        assert await inbox_emptied(story_db)
    assert sim.invalid_requests == []
