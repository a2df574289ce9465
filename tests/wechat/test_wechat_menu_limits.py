"""A menu message's sizes (the simulator applies the only documented ones, WeCom's 微信客服 菜单消息: head and tail at
most 1024 bytes, an item at most 128): the simulator refuses a menu past them, and the bot's renderer cuts what it
sends to fit, so a long page or a long label never makes WeChat refuse the message."""

from __future__ import annotations

import pytest

from bot.app import TongxinApp
from channels.wechat import render
from channels.wechat.api import WeChatApi, WeChatError
from channels.wechat.render import Choice, Reply
from core.clock import ManualClock
from simulator.wechat import WeChatSimulator


async def test_a_menu_past_its_sizes_is_refused_and_the_renderer_keeps_within_them(
    wechat_bot: TongxinApp, wx: WeChatSimulator, clock: ManualClock
) -> None:
    wang = wx.person("王阿姨")
    await wang.send_text("你好")  # her message opens the 48-hour quota
    await wang.wait_for_text("许心愿")
    api = WeChatApi(wx.api_url, wx.app_id, wx.secret, now=clock.now)
    try:
        item = {"id": "wish:new", "content": "1. 许心愿"}
        too_long = [
            {"head_content": "长" * 342, "list": [item], "tail_content": ""},  # 1026 bytes
            {"head_content": "好", "list": [item], "tail_content": "长" * 342},
            {"head_content": "好", "list": [{"id": "wish:new", "content": "长" * 43}], "tail_content": ""},  # 129
        ]
        for menu in too_long:
            with pytest.raises(WeChatError) as refused:
                await api.send_custom({"touser": wang.openid, "msgtype": "msgmenu", "msgmenu": menu})
            assert refused.value.errcode == 45002
        assert len(wx.refusals) == 3
        wx.refusals.clear()

        # What the renderer makes of a reply past those sizes is taken, cut where it had to be.
        seen = len(wang.inbox)
        reply = Reply("长" * 700, (Choice("wish:new", "长" * 60),), tail="尾" * 700)
        await api.send_custom(render.custom_message(wang.openid, reply))
        shown = await wang.wait_for_text("长", after=seen)
        assert len(shown.text.encode()) <= render.MENU_TEXT_BYTES
        assert shown.text.endswith("…")
        assert len(shown.items[0][1].encode()) <= render.MENU_ITEM_BYTES
    finally:
        await api.close()
