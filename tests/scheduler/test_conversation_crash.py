"""A bot killed (SIGKILL) 50 ms after answering a /wish step and started again: the next button continues
the wish where it was, because each update's conversation state and draft are written before the chat moves on
(bot/processor.py), not once a second. Killed exactly between a step's reply and its state write (a fault hook of
bot/persistence.py): start-up handles the step again from the durable inbox (bot/inbox.py), so nothing is lost."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.persistence import FAULT_KILL_AFTER_HANDLERS
from simulator import BotApiSimulator
from storage.db import Database
from storage.schema import update_inbox
from tests.conftest import START_TIME
from tests.stories.test_update_inbox import inbox_emptied
from tests.stories.wishflow import ADDRESS, DESCRIPTION, wait_for_button

pytestmark = [pytest.mark.wall_clock, pytest.mark.serial]

REPO = Path(__file__).resolve().parents[2]


def start_bot(db: Database, sim: BotApiSimulator, *, kill_after_steps: int = 0) -> subprocess.Popen[bytes]:
    """The bot in a process of its own; `kill_after_steps`: it SIGKILLs itself after the handlers of that many
    conversation steps ran, before the last one's state is written."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop(FAULT_KILL_AFTER_HANDLERS, None)
    if kill_after_steps:
        env[FAULT_KILL_AFTER_HANDLERS] = str(kill_after_steps)
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.scheduler.bot_process",
            db.url.render_as_string(hide_password=False),
            sim.api_url,
            sim.file_url,
            START_TIME.isoformat(),
            *([db.schema] if db.schema else []),
        ],
        cwd=REPO,
        env=env,
    )


async def kill_50_ms_after(process: subprocess.Popen[bytes]) -> None:
    await asyncio.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    await asyncio.to_thread(process.wait, 10)


@pytest.mark.both_databases
@pytest.mark.timeout(180)
async def test_a_wish_continues_after_a_kill_right_after_a_step(sim: BotApiSimulator, story_db: Database) -> None:
    alice = sim.person("王阿姨")
    bot = start_bot(story_db, sim)
    try:
        await alice.send_command("/wish")
        await alice.wait_for_text("请选择", timeout=60)
        await alice.press("助老助残")
        await alice.wait_for_text("请用文字描述")
        await alice.send_text(DESCRIPTION)
        await alice.wait_for_text("哪个镇")
        await kill_50_ms_after(bot)
    finally:
        bot.kill()
        bot.wait()

    bot = start_bot(story_db, sim)
    try:
        # The next button, pressed on the message from before the kill, continues the wish.
        await alice.press("东城社区")
        await alice.wait_for_text("具体在哪里", timeout=60)
        await alice.send_text(ADDRESS)
        await alice.wait_for_text("照片")
        await kill_50_ms_after(bot)
    finally:
        bot.kill()
        bot.wait()

    bot = start_bot(story_db, sim)
    try:
        await alice.press_reply_button("跳过")
        await alice.wait_for_text("留个电话", timeout=60)
    finally:
        bot.send_signal(signal.SIGTERM)
        await asyncio.to_thread(bot.wait, 30)
    assert sim.invalid_requests == []


async def inbox_rows(db: Database) -> list[int]:
    async with db.read() as conn:
        return list((await conn.execute(select(update_inbox.c.update_id))).scalars())


@pytest.mark.both_databases
@pytest.mark.timeout(180)
async def test_a_kill_between_a_steps_reply_and_its_state_write_loses_nothing(
    sim: BotApiSimulator, story_db: Database
) -> None:
    alice = sim.person("王阿姨")
    # /wish, the category and the description are three steps: the bot dies after answering the description,
    # before the description's state and draft are written.
    bot = start_bot(story_db, sim, kill_after_steps=3)
    try:
        await alice.send_command("/wish")
        await alice.wait_for_text("请选择", timeout=60)
        await alice.press("助老助残")
        await alice.wait_for_text("请用文字描述")
        await alice.send_text(DESCRIPTION)
        await alice.wait_for_text("哪个镇")
        assert await asyncio.to_thread(bot.wait, 30) == -signal.SIGKILL
    finally:
        bot.kill()
        bot.wait()
    # Telegram has acknowledged the description (PTB fetched past it); the inbox still holds it.
    assert len(await inbox_rows(story_db)) == 1

    bot = start_bot(story_db, sim)
    try:
        # Start-up handles the description again: the question is asked once more (at least once, never lost)...
        await alice.wait_for(
            lambda: sum("哪个镇" in (m.text or "") for m in alice.messages) == 2, timeout=60, what="the question again"
        )
        # ... and the next button continues the wish with the description kept.
        await alice.press("东城社区")
        await alice.wait_for_text("具体在哪里", timeout=30)
        await alice.send_text(ADDRESS)
        await alice.wait_for_text("照片")
        await alice.press_reply_button("跳过")
        await alice.wait_for_text("留个电话")
        await alice.press_reply_button("📞 分享我的手机号")
        await wait_for_button(alice, "✅ 提交")
        assert any(DESCRIPTION in (m.text or "") and ADDRESS in (m.text or "") for m in alice.messages)
        assert await inbox_emptied(story_db)
    finally:
        bot.send_signal(signal.SIGTERM)
        await asyncio.to_thread(bot.wait, 30)
    assert sim.invalid_requests == []
