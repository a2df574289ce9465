"""Telegram misbehaving: replies survive a server outage (in order), and a reply of several messages to one
person is spaced within their chat's limit without a 429 and without holding anyone else up — against the
strict sliding-window limiter (at most 30 sends in any second, 3 in any 3 s per private chat)."""

from __future__ import annotations

import pytest

from bot.app import TongxinApp
from core.clock import Timer
from simulator import BotApiSimulator, FloodLimits


@pytest.fixture
def flood_limits() -> FloodLimits:
    """The strictest limiter shape the simulator has."""
    return FloodLimits(shape="window", jitter=0.05)


async def test_replies_wait_out_a_telegram_outage_and_arrive_in_order(
    bot: TongxinApp, sim: BotApiSimulator, timer: Timer
) -> None:
    resident = sim.person("王阿姨")
    sim.fail_writes(502, "Bad Gateway")
    await resident.send_command("/help")
    await resident.send_command("/cancel")
    await resident.send_command("/help")
    await timer.sleep(6)
    assert resident.messages == []
    assert sim.failed_count > 0
    sim.resume_writes()
    await resident.wait_for(lambda: len(resident.messages) >= 3, timeout=30)
    await sim.settle(quiet=1.0)
    first, second, third = resident.messages
    assert first.text.startswith("您可以使用这些命令")
    assert "没有进行中的操作" in second.text
    assert third.text.startswith("您可以使用这些命令")
    # The outage was not reported as the person's fault or as an error they must act on.
    assert not any("出错" in message.text for message in resident.messages)


async def test_three_help_replies_all_arrive_after_a_six_second_outage(
    bot: TongxinApp, sim: BotApiSimulator, timer: Timer
) -> None:
    resident = sim.person("李大爷")
    sim.fail_writes(502, "Bad Gateway")
    for _ in range(3):
        await resident.send_command("/help")
    await timer.sleep(6)
    sim.resume_writes()
    await resident.wait_for(lambda: len(resident.messages) >= 3, timeout=30)
    await sim.settle(quiet=1.0)
    assert [m.text.startswith("您可以使用这些命令") for m in resident.messages] == [True, True, True]


async def test_a_four_message_reply_is_spaced_and_holds_nobody_else_up(
    bot: TongxinApp, sim: BotApiSimulator, timer: Timer
) -> None:
    busy, other = sim.person("张三"), sim.person("李四")
    started = timer.monotonic()
    for _ in range(4):
        await busy.send_command("/help")
    await timer.sleep(0.2)
    asked = timer.monotonic()
    await other.send_command("/help")
    await other.wait_for(lambda: len(other.messages) == 1, timeout=5)
    answered = timer.monotonic()
    await busy.wait_for(lambda: len(busy.messages) == 4, timeout=15)
    done = timer.monotonic()
    await sim.settle(quiet=0.5)
    # Nobody waited for the busy chat's pace, no request drew a 429, and the fourth reply came after the
    # chat's window (3 messages in any 3 s) let it.
    assert answered - asked < 1.0
    assert [r for r in sim.records if r.error_code == 429] == []
    assert done - started > 3.0
    assert len(busy.messages) == 4
    assert len(other.messages) == 1
