"""Done when (issue 28): a case nobody acknowledged in time is escalated by the sweep at 02:00 local time
(Asia/Shanghai), in quiet hours; the escalation reaches the department's member on WeCom at once (an urgent notice,
and a WeCom application has no window to wait for) as a card with 签收, and they take the case from it."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.app import TongxinApp
from core.clock import ManualClock
from rules.cases import CaseStatus
from scheduler import sweep
from simulator import BotApiSimulator
from simulator.wecom import WeComSimulator
from storage import cases, people
from tests.conftest import ADMIN_ID
from tests.wecom.helpers import chengguan_with_members

# Urgent: 2 hours to resolve, a quarter of it (30 minutes) to acknowledge. Sent at 01:20 local, due at 01:50.
SENT_AT = dt.datetime(2026, 11, 26, 17, 20, tzinfo=dt.UTC)
TWO_AT_NIGHT_IN_SHANGHAI = dt.datetime(2026, 11, 26, 18, 0, tzinfo=dt.UTC)


@pytest.mark.both_databases  # the sweep's escalation and the compare-and-set of 签收 on each database
async def test_a_case_escalated_at_two_in_the_night_reaches_the_member_on_wecom_who_takes_it_from_the_card(
    wecom_bot: TongxinApp, wc: WeComSimulator, sim: BotApiSimulator, clock: ManualClock
) -> None:
    env = wecom_bot.bot_data.env
    (zhang,) = await chengguan_with_members(wecom_bot, wc, sim, ("老张", "zhang.l"))

    clock.set(SENT_AT)
    zhou = sim.person("周主任", user_id=ADMIN_ID)
    await zhou.send_command("/case", "W-0001 城管 urgent")
    await zhou.wait_for_text("已派单 C-0001")
    await zhang.wait_for_card("新案件 C-0001")  # he does not take it

    clock.set(TWO_AT_NIGHT_IN_SHANGHAI - dt.timedelta(minutes=11))  # 01:49: not late yet
    await sweep.run_once(wecom_bot)
    clock.set(TWO_AT_NIGHT_IN_SHANGHAI)
    await sweep.run_once(wecom_bot)
    await sweep.run_once(wecom_bot)  # a second sweep repeats nothing

    late = await zhang.wait_for_card("超时未签收 C-0001")
    arrived = next(r for r in zhang.inbox if r.card is not None and r.card.task_id == late.task_id)
    assert arrived.at == TWO_AT_NIGHT_IN_SHANGHAI  # at once, in the night, not held for the morning
    assert "签收" in [text for text, _key in late.buttons]
    assert sum(r.card is not None and "超时未签收" in r.card.title for r in zhang.inbox) == 1
    # The coordinator who sent it hears of the escalation too (on Telegram, where he is).
    await zhou.wait_for_text("超时督办")

    assert (await zhang.press(late, "签收"))[0] == 200
    await zhang.wait_for_text("您已签收案件 C-0001")
    # Both of his cards of the case (the new one and the late one) now say who took it.
    both = (zhang.card("新案件 C-0001"), late)
    await zhang.wait_for(lambda _r: all(card.replaced for card in both))
    assert {card.replaced for card in both} == {"已由老张签收"}
    async with env.db.read() as conn:
        case = await cases.get_case(conn, 1)
        him = await people.find_person(conn, "wecom", "zhang.l")
    assert him is not None
    assert (case.status, case.acknowledged_by) == (CaseStatus.ACKNOWLEDGED, him.id)
