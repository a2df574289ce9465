"""The whistle from WeCom: an open wish nobody claimed for a day reaches the coordinators who work in WeCom as a card
with 吹哨 (the scheduler's alert Telegram shows with 📣); a press blows the same whistle as Telegram's (the matching
volunteers are called with their claim buttons), every coordinator's card then says who blew it, and a press that
comes after is told who did."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from bot.app import TongxinApp
from core.clock import ManualClock
from scheduler import sweep
from simulator import BotApiSimulator
from simulator.wecom import WeComSimulator
from storage import people
from storage.schema import whistles
from tests.stories.wishflow import approved_volunteers, open_wish
from tests.wecom.conftest import ADMINS
from tests.wecom.helpers import wecom_coordinator

pytestmark = pytest.mark.both_databases


@pytest.fixture
def settings_overrides(wc: WeComSimulator) -> dict[str, object]:
    """WeCom as in every WeCom story, and no quiet hours: the alert arrives when it is due."""
    return {
        **wc.settings(callback_port=0, admins=ADMINS),
        "quiet_hours_start": dt.time(0, 0),
        "quiet_hours_end": dt.time(0, 0),
    }


async def test_a_coordinator_blows_the_whistle_from_the_card(
    wecom_bot: TongxinApp, wc: WeComSimulator, sim: BotApiSimulator, clock: ManualClock
) -> None:
    env = wecom_bot.bot_data.env
    chen = await wecom_coordinator(env, wc, "陈主任", "chenzr")
    li = await wecom_coordinator(env, wc, "李干事", "lgs")
    wish = await open_wish(env.db, sim.person("王阿姨"))
    volunteer = sim.person("小周")
    await approved_volunteers(env.db, [volunteer])

    clock.advance(dt.timedelta(hours=24))  # open and unclaimed for a day: the sweep alerts the coordinators
    await sweep.run_once(wecom_bot)
    chen_card = await chen.wait_for_card("W-0001 还没有人认领")
    li_card = await li.wait_for_card("W-0001 还没有人认领")
    assert [text for text, _key in chen_card.buttons] == ["吹哨"]
    assert "东城社区" in chen_card.body
    li_press = li.press_xml(li_card, "吹哨")  # pressed at the same moment; arrives second

    await chen.press(chen_card, "吹哨")
    await chen.wait_for_text("已为 W-0001 吹哨，召集了 1 位志愿者")
    await volunteer.wait_for_text("中心吹哨")  # the volunteer is called with the claim buttons Telegram shows
    await chen.wait_for(lambda _r: chen_card.replaced is not None and li_card.replaced is not None)
    assert chen_card.replaced == li_card.replaced == "已由陈主任吹哨"

    assert (await wc.post(*wc.signed(li_press)))[0] == 200
    await li.wait_for_text("W-0001 已由陈主任吹哨，召集了 1 位志愿者")
    async with env.db.read() as conn:
        blown = (await conn.execute(select(whistles.c.coordinator_id).where(whistles.c.wish_id == wish.id))).all()
        chen_person = await people.find_person(conn, "wecom", "chenzr")
    assert chen_person is not None
    assert [row.coordinator_id for row in blown] == [chen_person.id]  # blown once, by 陈主任
