"""The first staff journey on WeCom: a resident's wish waiting for review reaches the two coordinators who work in
WeCom as review cards; one approves from the card (the same action as Telegram's review), the resident hears so,
both cards then show who approved, and the other coordinator's press is told who already decided."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from bot.app import TongxinApp
from core.clock import ManualClock
from rules.wishes import WishStatus
from simulator import BotApiSimulator
from simulator.wecom import WeComMember, WeComSimulator
from storage import wishes as store
from storage.schema import audit_log
from tests.conftest import ADMIN_ID
from tests.stories.wishflow import open_from_list, wait_for_button, write_wish
from tests.wecom.helpers import resident_wish, wecom_coordinator


@pytest.mark.both_databases  # two presses on one decision: the compare-and-set on each database
async def test_a_coordinator_approves_from_the_card_and_every_card_says_who(
    wecom_bot: TongxinApp, wc: WeComSimulator, sim: BotApiSimulator
) -> None:
    env = wecom_bot.bot_data.env
    chen = await wecom_coordinator(env, wc, "陈主任", "chenzr")
    li = await wecom_coordinator(env, wc, "李干事", "lgs")
    wang = sim.person("王阿姨")
    await wang.send_command("/start")
    await wang.wait_for_text("您好")

    # 王阿姨 writes her wish on Telegram; both coordinators get a card with 通过 / 退回 on WeCom.
    await write_wish(wang)
    await wang.wait_for_text("W-0001")
    chen_card = await chen.wait_for_card("W-0001")
    li_card = await li.wait_for_card("W-0001")
    for card in (chen_card, li_card):
        assert [text for text, _key in card.buttons] == ["通过", "退回"]
        assert card.replaced is None

    # 李干事 presses 通过 at the same moment as 陈主任 (his card still shows its buttons): his press arrives second.
    li_press = li.press_xml(li_card, "通过")
    assert (await chen.press(chen_card, "通过"))[0] == 200
    await chen.wait_for_text("已通过心愿 W-0001")
    await wang.wait_for_text("已通过审核")

    # Every card now says who decided, and can no longer be pressed.
    await chen.wait_for(lambda _r: replaced(chen) and replaced(li))
    assert chen.card("W-0001").replaced == "已由陈主任通过"
    assert li.card("W-0001").replaced == "已由陈主任通过"

    assert (await wc.post(*wc.signed(li_press)))[0] == 200
    await li.wait_for_text("心愿 W-0001 已由陈主任处理")
    channel = wecom_bot.bot_data.wecom
    assert channel is not None
    await channel.idle()
    async with env.db.read() as conn:
        wish = await store.get_wish(conn, 1)
        assert wish.status == WishStatus.OPEN
        approvals = (await conn.execute(select(audit_log).where(audit_log.c.action == "wish.approve"))).all()
    assert len(approvals) == 1  # decided once, by 陈主任


def replaced(member: WeComMember) -> bool:
    """Whether the member's card of W-0001 was updated."""
    return member.card("W-0001").replaced is not None


async def test_a_card_older_than_72_hours_still_decides_and_is_not_updated(
    wecom_bot: TongxinApp, wc: WeComSimulator, sim: BotApiSimulator, clock: ManualClock
) -> None:
    env = wecom_bot.bot_data.env
    chen = await wecom_coordinator(env, wc, "陈主任", "chenzr")
    await resident_wish(env, sim.person("王阿姨"))
    card = await chen.wait_for_card("W-0001")
    clock.advance(dt.timedelta(hours=73))  # its response code is spent: WeCom would refuse the update
    await chen.press(card, "通过")
    await chen.wait_for_text("已通过心愿 W-0001")
    assert card.replaced is None  # the bot did not try (the fixture asserts WeCom refused nothing)


@pytest.mark.both_databases
async def test_a_wish_approved_on_telegram_updates_the_wecom_card(
    wecom_bot: TongxinApp, wc: WeComSimulator, sim: BotApiSimulator
) -> None:
    env = wecom_bot.bot_data.env
    chen = await wecom_coordinator(env, wc, "陈主任", "chenzr")
    zhou = sim.person("周主任", user_id=ADMIN_ID)
    await zhou.send_command("/start")
    await zhou.wait_for_text("您好")
    await resident_wish(env, sim.person("王阿姨"))
    card = await chen.wait_for_card("W-0001")
    late_press = chen.press_xml(card, "通过")

    await zhou.send_command("/pending")
    await open_from_list(zhou, "📋 W-0001")
    await wait_for_button(zhou, "✅ 通过")
    await zhou.press("✅ 通过")
    # 陈主任's card learns of it within the sweep's 30 seconds (virtual time passes while everything waits).
    await chen.wait_for(lambda _r: card.replaced is not None, timeout=20)
    assert card.replaced == "已由周主任通过"
    assert (await wc.post(*wc.signed(late_press)))[0] == 200
    await chen.wait_for_text("心愿 W-0001 已由周主任处理")
