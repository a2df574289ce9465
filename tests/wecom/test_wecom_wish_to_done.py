"""The story the WeCom channel is for (issue 28, Done when): 王阿姨 on WeChat makes a wish; the two coordinators,
who work in WeCom, each get its review card; 陈主任 approves from his, and 李干事's card then says who approved; 小周,
a volunteer on WeChat only, claims it and finishes it (hours and a proof photo); 王阿姨 confirms on WeChat.
Nobody in this story uses Telegram."""

from __future__ import annotations

import pytest

from bot.app import TongxinApp
from rules.wishes import WishStatus
from simulator import BotApiSimulator
from simulator.wechat import WeChatSimulator
from simulator.wecom import WeComSimulator
from storage import wishes as store
from tests.wechat.conftest import wechat_aes, wx  # noqa: F401 — WeChat's fixtures, for a story on both channels
from tests.wechat.journey import start_wechat_wish
from tests.wechat.test_wechat_volunteers import make_volunteer
from tests.wecom.conftest import ADMINS
from tests.wecom.helpers import wecom_coordinator

DESCRIPTION = "楼道的扶手松了，老人上下楼不方便"


@pytest.fixture
def settings_overrides(wx: WeChatSimulator, wc: WeComSimulator) -> dict[str, object]:  # noqa: F811
    """The bot connects to both simulators: WeChat for the resident and the volunteer, WeCom for the staff."""
    return wx.settings(callback_port=0) | wc.settings(callback_port=0, admins=ADMINS)


@pytest.mark.both_databases  # the whole loop, claims and compare-and-sets included, on each database
async def test_a_wechat_wish_approved_from_wecom_is_done_by_a_wechat_volunteer_and_confirmed(
    wecom_bot: TongxinApp,
    wx: WeChatSimulator,  # noqa: F811
    wc: WeComSimulator,
    sim: BotApiSimulator,
) -> None:
    env = wecom_bot.bot_data.env
    wechat = wecom_bot.bot_data.wechat
    assert wechat is not None
    wx.callback_url = f"http://127.0.0.1:{wechat.port}/wechat"
    chen = await wecom_coordinator(env, wc, "陈主任", "chenzr")
    li = await wecom_coordinator(env, wc, "李干事", "lgs")
    wang = wx.person("王阿姨")
    xiaozhou = wx.person("小周")
    await make_volunteer(env, xiaozhou)

    # 王阿姨 writes her wish on WeChat.
    await wang.send_text("你好")
    await wang.wait_for_text("许心愿")
    await start_wechat_wish(wang, "助老助残", DESCRIPTION)
    await wang.tap("东城社区")
    await wang.wait_for_text("具体在哪里")
    await wang.send_text("幸福路12号3单元")
    await wang.wait_for_text("照片")
    await wang.send_text("跳过")
    await wang.wait_for_text("留个电话")
    await wang.send_text("跳过")
    await wang.wait_for_text("请核对")
    await wang.tap("提交")
    await wang.wait_for_text("W-0001")

    # Each coordinator gets the review card on WeCom; 陈主任 approves from his.
    chen_card = await chen.wait_for_card("W-0001")
    li_card = await li.wait_for_card("W-0001")
    assert [text for text, _key in li_card.buttons] == ["通过", "退回"]
    await chen.press(chen_card, "通过")
    await chen.wait_for_text("已通过心愿 W-0001")
    await wang.wait_for_text("已通过审核")
    # 李干事's card (and 陈主任's) now says who approved, and can no longer be pressed.
    await li.wait_for(lambda _r: li.card("W-0001").replaced is not None)
    assert li.card("W-0001").replaced == chen.card("W-0001").replaced == "已由陈主任通过"

    # 小周 claims it on WeChat and finishes it with the hours and a proof photo.
    await xiaozhou.send_text("任务")
    await xiaozhou.wait_for_text("W-0001")
    await xiaozhou.tap("认领 W-0001")
    await xiaozhou.wait_for_text("您打算什么时候去办")
    await xiaozhou.tap("今天认领")
    await xiaozhou.wait_for_text("幸福路12号3单元")  # the claimer sees where
    await wang.wait_for_text("认领了您的心愿 W-0001")
    await xiaozhou.send_text("我的任务")
    await xiaozhou.tap("W-0001")
    await xiaozhou.tap("完成了")
    await xiaozhou.wait_for_text("用了多长时间")
    await xiaozhou.send_text("2 小时")
    await xiaozhou.wait_for_text("完成后的照片")
    await xiaozhou.send_photo(b"\xff\xd8 the handrail fixed")
    await xiaozhou.wait_for_text("留句话")
    await xiaozhou.send_text("扶手已经加固了")
    await xiaozhou.wait_for_text("辛苦了")

    # 王阿姨 is asked on WeChat and confirms; 小周's hours count.
    await wang.wait_for_text("扶手已经加固了")
    done = await wang.wait_for_text("已经办好了")
    assert done.kind == "msgmenu"
    await wang.tap("已完成，谢谢")
    await wang.wait_for_text("打分")
    await wang.tap("5 星")
    await wang.wait_for_text("谢谢您的评价")
    await xiaozhou.wait_for_text("2 小时已计入")

    async with env.db.read() as conn:
        wish = await store.get_wish_by_ref(conn, 1)
    assert (wish.status, wish.hours, wish.rating) == (WishStatus.CONFIRMED, 2.0, 5)
    assert wish.proof_media_id is not None
    # Nobody used Telegram: nothing was sent to any chat there.
    assert [record.method for record in sim.records if record.chat_id is not None] == []
