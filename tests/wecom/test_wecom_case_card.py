"""A case sent to a department at 02:00 local time reaches its members on WeCom at once (an urgent notice, and a WeCom
application has no window to wait for) as a card with 签收; one member takes it from the card (the same action as
Telegram's), every member's card then says who took it, and the other member's press is told."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.app import TongxinApp
from core.clock import ManualClock
from rules.cases import CaseStatus
from simulator import BotApiSimulator
from simulator.wecom import WeComSimulator
from storage import cases, people
from tests.conftest import ADMIN_ID
from tests.wecom.helpers import chengguan_with_members

TWO_AT_NIGHT_IN_SHANGHAI = dt.datetime(2026, 11, 26, 18, 0, tzinfo=dt.UTC)


@pytest.mark.both_databases  # two presses on one decision: the compare-and-set on each database
async def test_a_case_at_two_in_the_night_reaches_wecom_at_once_and_is_taken_from_the_card(
    wecom_bot: TongxinApp, wc: WeComSimulator, sim: BotApiSimulator, clock: ManualClock
) -> None:
    env = wecom_bot.bot_data.env
    zhang, li = await chengguan_with_members(wecom_bot, wc, sim, ("老张", "zhang.l"), ("老李", "li.l"))

    clock.set(TWO_AT_NIGHT_IN_SHANGHAI)
    zhou = sim.person("周主任", user_id=ADMIN_ID)
    await zhou.send_command("/case", "W-0001 城管 urgent")
    await zhou.wait_for_text("已派单 C-0001")

    zhang_card = await zhang.wait_for_card("C-0001")
    li_card = await li.wait_for_card("C-0001")
    assert [text for text, _key in zhang_card.buttons] == ["签收", "退回"]
    assert zhang.inbox[-1].at == TWO_AT_NIGHT_IN_SHANGHAI  # at once, in the night
    li_press = li.press_xml(li_card, "签收")  # 老李 presses at the same moment; his press arrives second

    assert (await zhang.press(zhang_card, "签收"))[0] == 200
    await zhang.wait_for_text("您已签收案件 C-0001")
    await zhang.wait_for(lambda _r: zhang_card.replaced is not None and li.card("C-0001").replaced is not None)
    assert zhang_card.replaced == li.card("C-0001").replaced == "已由老张签收"

    assert (await wc.post(*wc.signed(li_press)))[0] == 200
    await li.wait_for_text("案件 C-0001 已由老张签收")
    async with env.db.read() as conn:
        case = await cases.get_case(conn, 1)
        zhang_person = await people.find_person(conn, "wecom", "zhang.l")
    assert case.status == CaseStatus.ACKNOWLEDGED
    assert zhang_person is not None
    assert case.acknowledged_by == zhang_person.id
