"""Story of a flood: someone sends more than 30 messages in a minute and is told to slow down."""

from __future__ import annotations

import datetime as dt

from bot.app import TongxinApp
from bot.clock import ManualClock
from simulator import BotApiSimulator


async def test_a_flood_is_slowed_down_with_a_message(bot: TongxinApp, sim: BotApiSimulator, clock: ManualClock) -> None:
    spammer = sim.person("刷屏者")
    for i in range(30):
        await spammer.send_text(f"第{i}条")
    await sim.settle()
    before = len(spammer.messages)
    await spammer.send_command("/help")
    told = await spammer.wait_for_text("太快")
    assert "60 秒" in told.text
    for _ in range(5):
        await spammer.send_command("/help")
    await sim.settle()
    assert len(spammer.messages) == before + 1  # told once, the extra messages were not handled

    clock.advance(dt.timedelta(seconds=61))
    await spammer.send_command("/help")
    assert "/start" in (await spammer.wait_for_text("/help")).text
