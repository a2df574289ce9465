"""退回 from a review card asks the coordinator for the reason the resident will read: a reason too long is asked
for again (nothing changes), 取消 keeps the wish waiting, and a reason sends the wish back with it — the resident
reads it, and every card says who sent it back."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from bot.app import TongxinApp
from core.clock import ManualClock
from rules.wishes import NOTE_MAX, WishStatus
from simulator import BotApiSimulator
from simulator.wecom import WeComSimulator
from storage import wishes as store
from storage.schema import wecom_questions
from tests.wecom.helpers import resident_wish, wecom_coordinator


async def test_sending_a_wish_back_from_the_card_asks_why_and_the_resident_reads_it(
    wecom_bot: TongxinApp, wc: WeComSimulator, sim: BotApiSimulator
) -> None:
    env = wecom_bot.bot_data.env
    chen = await wecom_coordinator(env, wc, "陈主任", "chenzr")
    li = await wecom_coordinator(env, wc, "李干事", "lgs")
    wang = sim.person("王阿姨")
    wish = await resident_wish(env, wang)
    card = await chen.wait_for_card("W-0001")
    await li.wait_for_card("W-0001")

    async def status() -> str:
        async with env.db.read() as conn:
            return (await store.get_wish(conn, wish.id)).status

    # 退回, then 取消: nothing changes, the card can still be pressed.
    await chen.press(card, "退回")
    await chen.wait_for_text("请写明不通过的原因")  # the layer's rejection asks
    await chen.send_text("取消")
    await chen.wait_for_text("已取消")
    assert await status() == WishStatus.PENDING_REVIEW
    assert card.replaced is None

    # 退回 again; a reason past the bound is asked for again.
    await chen.press(card, "退回")
    await chen.wait_for(lambda _r: sum("不通过的原因" in r.text for r in chen.inbox) == 2)
    await chen.send_text("太" * (NOTE_MAX + 1))
    await chen.wait_for_text(f"太长了，请控制在 {NOTE_MAX} 字以内")
    assert await status() == WishStatus.PENDING_REVIEW

    await chen.send_text("这是物业的维修范围，请联系物业")
    await chen.wait_for_text("已处理，原因已发送给对方")
    await wang.wait_for_text("这是物业的维修范围，请联系物业")
    assert await status() == WishStatus.REJECTED
    await li.wait_for(lambda _r: li.card("W-0001").replaced is not None)
    assert li.card("W-0001").replaced == "已由陈主任退回"
    assert chen.card("W-0001").replaced == "已由陈主任退回"


async def test_a_reason_after_the_question_expired_changes_nothing(
    wecom_bot: TongxinApp, wc: WeComSimulator, sim: BotApiSimulator, clock: ManualClock
) -> None:
    """The question waits 30 minutes (in the database); an answer after that is taken as any message, the wish
    keeps waiting and the card can be pressed again."""
    env = wecom_bot.bot_data.env
    chen = await wecom_coordinator(env, wc, "陈主任", "chenzr")
    wish = await resident_wish(env, sim.person("王阿姨"))
    card = await chen.wait_for_card("W-0001")
    await chen.press(card, "退回")
    await chen.wait_for_text("请写明不通过的原因")  # the layer's rejection asks
    clock.advance(dt.timedelta(minutes=31))
    await chen.send_text("这是物业的维修范围")
    await chen.wait_for_text("同心工作台")
    async with env.db.read() as conn:
        assert (await store.get_wish(conn, wish.id)).status == WishStatus.PENDING_REVIEW
        assert (await conn.execute(select(wecom_questions))).all() == []
    assert card.replaced is None
