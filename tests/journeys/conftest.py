"""Journeys: one story text per journey, run once per channel (`people.journey_runs`). The bot runs with Telegram
and WeChat both, on one database and clock: a person is on the story's channel, and whoever they deal with may be
on the other one. Staff (coordinators) work on Telegram here; their WeCom side has its stories in tests/wecom."""

from __future__ import annotations

import pytest

from bot.app import TongxinApp
from simulator import BotApiSimulator
from simulator.wechat import WeChatSimulator
from tests.journeys.people import Town
from tests.wechat.conftest import wechat_aes, wechat_bot, wx  # noqa: F401 — WeChat's fixtures, shared


@pytest.fixture
def settings_overrides(wx: WeChatSimulator) -> dict[str, object]:  # noqa: F811
    """The bot connects to the WeChat simulator as well as to the Bot API simulator."""
    return wx.settings(callback_port=0)


@pytest.fixture
def town(channel: str, wechat_bot: TongxinApp, sim: BotApiSimulator, wx: WeChatSimulator) -> Town:  # noqa: F811
    """The story's people, on `channel` (the journey's parameter) unless a story puts one on the other channel."""
    return Town(channel, wechat_bot, sim, wx)
