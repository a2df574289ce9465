"""Events that are not 王阿姨 acting get no reply and change nothing; the menu's location picker (its event, then
the location as a message) is answered once (issue 26). The event pushes are those WeChat documents (接收事件推送,
自定义菜单事件推送); the simulator sends them as WeChat does: no MsgId, the picker's location after its event."""

from __future__ import annotations

import asyncio

from bot.app import TongxinApp
from channels.wechat.server import WeChatChannel
from simulator.wechat import WeChatPerson, WeChatSimulator
from storage import wechat
from tests.wechat.journey import start_wechat_wish


def channel_of(bot: TongxinApp) -> WeChatChannel:
    channel = bot.bot_data.wechat
    assert isinstance(channel, WeChatChannel)
    return channel


async def handled(channel: WeChatChannel, count: int) -> None:
    """Until the channel has handled `count` callbacks (one follower's are handled one at a time, in order)."""
    for _ in range(400):
        if channel.handled >= count:
            return
        await asyncio.sleep(0.025)
    raise AssertionError(f"only {channel.handled} of {count} callbacks handled")


def texts(wang: WeChatPerson) -> list[str]:
    return [r.text for r in wang.inbox if r.kind in {"text", "msgmenu"}]


async def test_reports_receipts_and_an_unsubscribe_get_no_reply_and_open_no_window(
    wechat_bot: TongxinApp, wx: WeChatSimulator
) -> None:
    channel = channel_of(wechat_bot)
    wang = wx.person("王阿姨")
    await wang.event("LOCATION", {"Latitude": "30.27", "Longitude": "120.15", "Precision": "65.0"})
    await wang.event("TEMPLATESENDJOBFINISH", {"Status": "success"})
    await wang.event("VIEW", {"EventKey": "https://mp.weixin.qq.com/"})
    await wang.event("unsubscribe")
    await handled(channel, 4)
    assert texts(wang) == []
    async with wechat_bot.bot_data.db.read() as conn:
        assert (await wechat.window_of(conn, wang.openid)).last_inbound_at is None, "no window was opened"
    # She writes: one answer, as always.
    await wang.send_text("你好")
    await wang.wait_for_text("许心愿")


async def test_the_menus_location_picker_is_answered_once(wechat_bot: TongxinApp, wx: WeChatSimulator) -> None:
    channel = channel_of(wechat_bot)
    wang = wx.person("王阿姨")
    await start_wechat_wish(wang, "助老助残", "家里的水龙头坏了，想请人帮忙修一下")
    await wang.tap("东城社区")
    await wang.wait_for_text("具体在哪里")
    before = len(texts(wang))
    count = channel.handled
    await wang.pick_location(30.2741, 120.1551, "幸福路12号")
    await wang.wait_for_text("照片")
    await handled(channel, count + 2)
    after = texts(wang)[before:]
    assert sum("照片" in text for text in after) == 1
    assert not any("具体在哪里" in text for text in after)
