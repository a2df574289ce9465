"""A bot killed (SIGKILL) 50 ms after answering a /wish step and started again: the next button continues
the wish where it was, because each update's conversation state and draft are written before the chat moves on
(bot/processor.py), not once a second."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from simulator import BotApiSimulator
from storage.db import Database
from tests.conftest import START_TIME
from tests.stories.wishflow import ADDRESS, DESCRIPTION

REPO = Path(__file__).resolve().parents[2]


def start_bot(db: Database, sim: BotApiSimulator) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.scheduler.bot_process",
            str(db.url),
            sim.api_url,
            sim.file_url,
            START_TIME.isoformat(),
        ],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


async def kill_50_ms_after(process: subprocess.Popen[bytes]) -> None:
    await asyncio.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    await asyncio.to_thread(process.wait, 10)


@pytest.mark.slow
@pytest.mark.timeout(180)
async def test_a_wish_continues_after_a_kill_right_after_a_step(sim: BotApiSimulator, sqlite_db: Database) -> None:
    alice = sim.person("王阿姨")
    bot = start_bot(sqlite_db, sim)
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

    bot = start_bot(sqlite_db, sim)
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

    bot = start_bot(sqlite_db, sim)
    try:
        await alice.press_reply_button("跳过")
        await alice.wait_for_text("留个电话", timeout=60)
    finally:
        bot.send_signal(signal.SIGTERM)
        await asyncio.to_thread(bot.wait, 30)
    assert sim.invalid_requests == []
