"""王阿姨 says "not done yet" on WeChat: her note reaches the volunteer through the same action as on Telegram."""

from __future__ import annotations

from actions import tasks
from bot.app import TongxinApp
from rules import wishes as lifecycle
from rules.roles import Role
from rules.wishes import Actor, WishDraft
from simulator import BotApiSimulator
from simulator.wechat import WeChatSimulator
from storage import people
from storage import wishes as store
from tests.conftest import START_TIME
from tests.stories.wishflow import approved_volunteers, person_id


async def test_not_yet_with_a_note_goes_back_to_the_volunteer(
    wechat_bot: TongxinApp, sim: BotApiSimulator, wx: WeChatSimulator
) -> None:
    env = wechat_bot.bot_data.env
    db = env.db
    wang = wx.person("王阿姨")
    xiaozhou = sim.person("小周")
    await approved_volunteers(db, [xiaozhou])
    await wang.send_text("你好")
    await wang.wait_for_text("许心愿")
    async with db.write() as conn:
        resident = await people.find_person(conn, "wechat", wang.openid)
        assert resident is not None
        wish = await lifecycle.submit_wish(
            conn,
            WishDraft(category="elderly_disabled", description="想请人帮忙换个灯泡"),
            resident_id=resident.id,
            now=START_TIME,
            review=False,
            daily_limit=10,
        )
    volunteer = Actor(await person_id(db, xiaozhou), frozenset({Role.RESIDENT, Role.VOLUNTEER}))
    await tasks.claim(env, volunteer, wish.id, "today")
    await tasks.finish(env, volunteer, wish.id, hours=1, proof=None, note=None)

    await wang.wait_for_text("已经办好了")
    await wang.tap("还没办好")
    await wang.wait_for_text("还有哪里没办好")
    await wang.send_text("灯还是不亮")
    await wang.wait_for_text("已转告志愿者")
    await xiaozhou.wait_for_text("灯还是不亮")
    async with db.read() as conn:
        assert (await store.get_wish(conn, wish.id)).status == "claimed"
