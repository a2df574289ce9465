"""Volunteer registration on WeChat, through the form written once (conversations/registration.py): its words start
it and leave it, in WeChat's wording. Registration by a scanned invite, through to the volunteer's hours, is the
volunteer's journey in tests/journeys/test_volunteer.py, on WeChat and Telegram alike."""

from __future__ import annotations

from bot.app import TongxinApp
from simulator.wechat import WeChatSimulator


async def test_the_registration_words_start_it_and_leave_words_leave_it(
    wechat_bot: TongxinApp, wx: WeChatSimulator
) -> None:
    wang = wx.person("王阿姨")
    await wang.send_text("志愿者登记")
    asked = await wang.wait_for_text("请输入您希望显示的姓名")
    assert "按钮" not in asked.text  # WeChat's wording: no name button to press here
    seen = len(wang.inbox)
    await wang.send_text("帮助")
    await wang.wait_for_text("您正在登记成为志愿者", after=seen)
    await wang.send_text("退出")
    await wang.wait_for_text("已取消")
