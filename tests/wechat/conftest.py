"""WeChat stories: the bot runs with Telegram (the Bot API simulator) and a WeChat service account (the WeChat
simulator, `simulator.wechat`), on the same database and clock.

`wx` is WeChat; `wx.person("王阿姨")` a follower. After each story the simulator must have refused nothing the bot
sent (a test that provokes a refusal empties `wx.refusals` itself).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.app import TongxinApp
from core.clock import ManualClock, Timer
from simulator.wechat import WeChatSimulator

AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


@pytest.fixture
def wechat_aes() -> str | None:
    """Safe mode (AES) by default; a module may override to test plain callbacks."""
    return AES_KEY


@pytest.fixture
async def wx(clock: ManualClock, timer: Timer, wechat_aes: str | None) -> AsyncIterator[WeChatSimulator]:
    """WeChat's servers, on the bot's clock and timer."""
    simulator = WeChatSimulator(aes_key=wechat_aes, now=clock.now, timer=timer)
    await simulator.start()
    yield simulator
    await simulator.stop()


@pytest.fixture
def settings_overrides(wx: WeChatSimulator) -> dict[str, object]:
    """The bot connects to the WeChat simulator (callback server on a free port)."""
    return wx.settings(callback_port=0)


@pytest.fixture
async def wechat_bot(bot: TongxinApp, wx: WeChatSimulator) -> AsyncIterator[TongxinApp]:
    """The running bot with WeChat's callbacks pointed at it; WeChat refused nothing it sent."""
    channel = bot.bot_data.wechat
    assert channel is not None
    wx.callback_url = f"http://127.0.0.1:{channel.port}/wechat"
    yield bot
    assert wx.refusals == [], f"WeChat would have refused: {wx.refusals}"
    assert wx.late_answers == [], f"callbacks answered after 5 s: {wx.late_answers}"
