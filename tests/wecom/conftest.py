"""WeCom stories: the bot runs with Telegram (the Bot API simulator) and a WeCom self-built application (the WeCom
simulator, `simulator.wecom`), on the same database and clock.

`wc` is WeCom; `wc.member("陈主任", "chenzr")` a member of the corporation. After each story the simulator must have
refused nothing the bot sent (a test that provokes a refusal empties `wc.refusals` itself).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.app import TongxinApp
from channels.wecom.api import WeComApi
from core.clock import ManualClock
from simulator.wecom import WeComSimulator

ADMINS = "chenzr"


@pytest.fixture
async def wc(clock: ManualClock) -> AsyncIterator[WeComSimulator]:
    """WeCom's servers, on the bot's clock."""
    simulator = WeComSimulator(now=clock.now)
    await simulator.start()
    yield simulator
    await simulator.stop()


@pytest.fixture
def settings_overrides(wc: WeComSimulator) -> dict[str, object]:
    """The bot connects to the WeCom simulator (callback server on a free port)."""
    return wc.settings(callback_port=0, admins=ADMINS)


@pytest.fixture
async def wecom_bot(bot: TongxinApp, wc: WeComSimulator) -> AsyncIterator[TongxinApp]:
    """The running bot with WeCom's callbacks pointed at it; WeCom refused nothing it sent."""
    channel = bot.bot_data.wecom
    assert channel is not None
    wc.callback_url = f"http://127.0.0.1:{channel.port}/wecom"
    yield bot
    assert wc.refusals == [], f"WeCom would have refused: {wc.refusals}"


@pytest.fixture
async def api(wc: WeComSimulator) -> AsyncIterator[WeComApi]:
    """The bot's client of the application's API, driving the simulator directly (its rules' tests)."""
    client = WeComApi(wc.api_url, wc.corp_id, wc.agent_id, wc.secret, now=wc.now)
    yield client
    await client.close()
