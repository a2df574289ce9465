"""帮助 in the middle of the WeChat wish form says where she is and how to leave, and asks the same step again;
every step's question says how to leave (issue 27, item 1: on every channel)."""

from __future__ import annotations

from bot.app import TongxinApp
from simulator.wechat import WeChatSimulator
from tests.wechat.journey import start_wechat_wish


async def test_help_words_in_the_wechat_form_ask_the_step_again(wechat_bot: TongxinApp, wx: WeChatSimulator) -> None:
    wang = wx.person("王阿姨")
    await start_wechat_wish(wang, "助老助残")
    assert "发送“取消”可以退出" in wang.inbox[-1].text
    seen = len(wang.inbox)
    await wang.send_text("帮助")
    told = await wang.wait_for_text("您正在提交微心愿", after=seen)
    assert "发送“取消”可以退出" in told.text
    await wang.wait_for_text("请用文字描述", after=seen)
    await wang.send_text("家里的水龙头坏了，想请人帮忙修一下")
    areas = await wang.wait_for_text("哪个镇")
    assert "发送“取消”可以退出" in areas.text
    seen = len(wang.inbox)
    await wang.send_text("怎么填？")
    await wang.wait_for_text("哪个镇", after=seen)
