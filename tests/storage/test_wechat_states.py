"""A follower's kept state written by two transactions at once — the step a reply saves and the numbered choices a
notice remembers (storage/wechat.py) — never fails on the key: a delete-then-insert raised "duplicate key …
pk_conversation_states" on PostgreSQL when both found no row, and the resident got "抱歉，出了点问题"."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from storage import wechat
from storage.db import Database

pytestmark = pytest.mark.both_databases
OPENID = "o_xiaozhou"


async def blocked_on_a_lock(db: Database) -> None:
    """Until PostgreSQL has a session waiting for a lock (the second writer, behind the first one's new row)."""
    for _ in range(500):
        async with db.read() as conn:
            if (await conn.execute(text("SELECT count(*) FROM pg_locks WHERE NOT granted"))).scalar():
                return
        await asyncio.sleep(0.01)
    raise AssertionError("the second writer never waited for the first")


async def test_a_step_and_a_notices_choices_written_at_once_both_land_without_a_key_collision(db: Database) -> None:
    saved, release = asyncio.Event(), asyncio.Event()

    async def reply_step() -> None:
        async with db.write() as conn:
            await wechat.save_conversation(conn, OPENID, {"step": "activities"})
            saved.set()
            await release.wait()

    async def notice_choices() -> None:
        async with db.write() as conn:
            await wechat.remember_choices(conn, OPENID, {"1": "act:join:1"})

    first = asyncio.create_task(reply_step())
    await saved.wait()
    second = asyncio.create_task(notice_choices())
    if not db.is_sqlite:
        await blocked_on_a_lock(db)  # the moment a delete-then-insert collided: both had found no row
    release.set()
    await asyncio.gather(first, second)
    async with db.read() as conn:
        state = await wechat.conversation_of(conn, OPENID)
    assert state is not None
    assert state["choices"] == {"1": "act:join:1"}  # the later writer's choices are kept, in one row


async def test_a_kept_state_is_replaced_and_deleted(db: Database) -> None:
    async with db.write() as conn:
        await wechat.save_conversation(conn, OPENID, {"step": 1})
        await wechat.save_conversation(conn, OPENID, {"step": 2})
    async with db.read() as conn:
        assert await wechat.conversation_of(conn, OPENID) == {"step": 2}
    async with db.write() as conn:
        await wechat.save_conversation(conn, OPENID, None)
    async with db.read() as conn:
        assert await wechat.conversation_of(conn, OPENID) is None
