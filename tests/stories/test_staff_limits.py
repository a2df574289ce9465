"""Story of a flood: someone sends more than 30 messages in a minute and is told to slow down."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.app import TongxinApp
from core.clock import ManualClock
from simulator import BotApiSimulator

# The dialect matters here (SQL the story reaches through the bot): on PostgreSQL too.
pytestmark = pytest.mark.both_databases

NOT_UNDERSTOOD = "我还不太明白"


async def test_a_flood_is_slowed_down_with_a_message(bot: TongxinApp, sim: BotApiSimulator, clock: ManualClock) -> None:
    spammer = sim.person("刷屏者")
    for i in range(30):
        await spammer.send_text(f"第{i}条")
    # Each of the 30 gets its answer, but a private chat gets at most 3 messages in 3.1 s (channels/telegram/
    # limits.py), so most of them are still to come: the warning must not wait behind them.
    await spammer.send_command("/help")
    told = await spammer.wait_for_text("太快", timeout=5)
    assert "60 秒" in told.text
    for _ in range(5):
        await spammer.send_command("/help")

    def answered() -> int:
        return sum(NOT_UNDERSTOOD in (message.text or "") for message in spammer.messages)

    await sim.wait_until(lambda: answered() == 30, timeout=60, chat=spammer.chat)
    await sim.settle()
    bot_texts = [message.text or "" for message in spammer.messages]
    assert answered() == 30  # every message within the limit was answered
    assert sum("太快" in text for text in bot_texts) == 1  # told once
    assert len(bot_texts) == 31  # the extra messages were not handled

    clock.advance(dt.timedelta(seconds=61))
    await spammer.send_command("/help")
    assert "/start" in (await spammer.wait_for_text("/help")).text
