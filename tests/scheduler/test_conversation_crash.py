"""A bot killed (SIGKILL) 50 ms after answering a /wish step and started again: the next button continues
the wish where it was, because each update's conversation state and draft are written before the chat moves on
(channels/telegram/processor.py), not once a second. Killed exactly between a step's reply and its state write (a fault
hook of channels/telegram/persistence.py), or right after a request of a step was answered (a fault hook of
channels/telegram/send_journal.py): start-up handles the step again from the durable inbox (channels/telegram/inbox.py),
so nothing is lost, and the requests Telegram had answered already are not made again, so nothing is said twice (issue
30)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from channels.telegram.persistence import FAULT_KILL_AFTER_HANDLERS
from channels.telegram.send_journal import FAULT_KILL_AFTER_SEND
from scheduler.sender import FAULT_KILL_SENDING
from simulator import BotApiSimulator
from simulator.people import Person
from storage.db import Database
from storage.schema import update_inbox, update_sends
from tests.conftest import START_TIME
from tests.stories.test_update_inbox import inbox_emptied
from tests.stories.wishflow import ADDRESS, DESCRIPTION, wait_for_button

pytestmark = [pytest.mark.wall_clock, pytest.mark.serial]

REPO = Path(__file__).resolve().parents[2]


def start_bot(
    db: Database,
    sim: BotApiSimulator,
    *,
    kill_after_steps: int = 0,
    kill_after_sending: str = "",
    kill_while_sending: str = "",
) -> subprocess.Popen[bytes]:
    """The bot in a process of its own; `kill_after_steps`: it SIGKILLs itself after the handlers of that many
    conversation steps ran, before the last one's state is written; `kill_after_sending` (a Bot API method): right
    after Telegram answered the first such request made while handling an update, and it was recorded;
    `kill_while_sending` (an outbox lane): right after Telegram took the first outbox row of that lane, before the row
    is marked sent."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for name in (FAULT_KILL_AFTER_HANDLERS, FAULT_KILL_AFTER_SEND, FAULT_KILL_SENDING):
        env.pop(name, None)
    if kill_after_steps:
        env[FAULT_KILL_AFTER_HANDLERS] = str(kill_after_steps)
    if kill_after_sending:
        env[FAULT_KILL_AFTER_SEND] = kill_after_sending
    if kill_while_sending:
        env[FAULT_KILL_SENDING] = kill_while_sending
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


def said(person: Person, words: str) -> int:
    """How many of the bot's messages to the person show these words."""
    return sum(words in (m.text or "") for m in person.messages)


@pytest.mark.both_databases
@pytest.mark.timeout(240)
async def test_kills_after_a_press_was_answered_and_before_a_steps_state_write_answer_once_and_lose_nothing(
    sim: BotApiSimulator, story_db: Database
) -> None:
    alice = sim.person("王阿姨")
    # The category press: Telegram answered the press (the spinner stops), and the bot dies before it asks for the
    # description and writes the step.
    bot = start_bot(story_db, sim, kill_after_sending="answerCallbackQuery")
    try:
        await alice.send_command("/wish")
        await alice.wait_for_text("请选择", timeout=60)
        await alice.press("助老助残")
        assert await asyncio.to_thread(bot.wait, 30) == -signal.SIGKILL
    finally:
        bot.kill()
        bot.wait()
    assert said(alice, "请用文字描述") == 0

    # Start-up handles the press again (the first step this process writes) and the description comes: the bot dies
    # after answering it (the second step), before its state and draft are written.
    bot = start_bot(story_db, sim, kill_after_steps=2)
    try:
        # The press is not answered twice (Telegram refuses that), the step goes on and asks for the description once.
        await alice.wait_for_text("请用文字描述", timeout=60)
        await alice.send_text(DESCRIPTION)
        await alice.wait_for_text("哪个镇")
        assert await asyncio.to_thread(bot.wait, 30) == -signal.SIGKILL
    finally:
        bot.kill()
        bot.wait()
    assert said(alice, "请用文字描述") == 1
    # Telegram has acknowledged the description (PTB fetched past it); the inbox still holds it, and the answer
    # Telegram gave to the question.
    assert len(await inbox_rows(story_db)) == 1
    assert await sends_recorded(story_db) >= 1

    bot = start_bot(story_db, sim)
    try:
        # Start-up handles the description again, from the state before it: the question it asked is not sent twice.
        assert await inbox_emptied(story_db)
        assert said(alice, "哪个镇") == 1
        assert await sends_recorded(story_db) == 0
        # The next button, on the question from before the kill, continues the wish with the description kept.
        await alice.press("东城社区")
        await alice.wait_for_text("具体在哪里", timeout=30)
        await alice.send_text(ADDRESS)
        await alice.wait_for_text("照片")
        await alice.press_reply_button("跳过")
        await alice.wait_for_text("留个电话")
        await alice.press_reply_button("📞 分享我的手机号")
        await wait_for_button(alice, "✅ 提交")
        assert any(DESCRIPTION in (m.text or "") and ADDRESS in (m.text or "") for m in alice.messages)
        assert said(alice, "请用文字描述") == 1
        assert await inbox_emptied(story_db)
    finally:
        bot.send_signal(signal.SIGTERM)
        await asyncio.to_thread(bot.wait, 30)
    assert sim.invalid_requests == []


@pytest.mark.timeout(180)
async def test_a_kill_right_after_a_reply_that_changed_nothing_answers_once(
    sim: BotApiSimulator, story_db: Database
) -> None:
    alice = sim.person("王阿姨")
    # /help changes no state: its inbox row goes a quarter of a second after the reply, with others; the bot dies
    # the moment the reply was answered by Telegram.
    bot = start_bot(story_db, sim, kill_after_sending="sendMessage")
    try:
        await alice.send_command("/help")
        assert await asyncio.to_thread(bot.wait, 60) == -signal.SIGKILL
    finally:
        bot.kill()
        bot.wait()
    assert len(alice.messages) == 1
    assert len(await inbox_rows(story_db)) == 1

    bot = start_bot(story_db, sim)
    try:
        assert await inbox_emptied(story_db)
        await alice.send_command("/cancel")
        await alice.wait_for(lambda: len(alice.messages) == 2, timeout=30, what="the answer to /cancel")
        assert len(alice.messages) == 2  # /help answered once, /cancel once
    finally:
        bot.send_signal(signal.SIGTERM)
        await asyncio.to_thread(bot.wait, 30)
    assert sim.invalid_requests == []


async def sends_recorded(db: Database) -> int:
    """How many Bot API answers are recorded for updates in the inbox (channels/telegram/send_journal.py)."""
    async with db.read() as conn:
        return len((await conn.execute(select(update_sends.c.update_id))).all())
