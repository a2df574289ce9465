"""王阿姨 says "not done yet" on WeChat: her note reaches the volunteer through the same action as on Telegram."""

from __future__ import annotations

from actions import tasks
from bot.app import TongxinApp
from simulator import BotApiSimulator
from simulator.wechat import WeChatSimulator
from storage import wishes as store
from tests.wechat.journey import claimed_wechat_wish


async def test_not_yet_with_a_note_goes_back_to_the_volunteer(
    wechat_bot: TongxinApp, sim: BotApiSimulator, wx: WeChatSimulator
) -> None:
    env = wechat_bot.bot_data.env
    db = env.db
    wang = wx.person("王阿姨")
    xiaozhou = sim.person("小周")
    wish, volunteer = await claimed_wechat_wish(env, wang, xiaozhou, "想请人帮忙换个灯泡")
    await tasks.finish(env, volunteer, wish.id, hours=1, proof=None, note=None)

    await wang.wait_for_text("已经办好了")
    await wang.tap("还没办好")
    await wang.wait_for_text("还有哪里没办好")
    await wang.send_text("灯还是不亮")
    await wang.wait_for_text("已转告志愿者")
    await xiaozhou.wait_for_text("灯还是不亮")
    async with db.read() as conn:
        assert (await store.get_wish(conn, wish.id)).status == "claimed"
