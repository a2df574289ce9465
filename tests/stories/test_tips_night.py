"""The newsroom at night: notices held by quiet hours are re-checked when their turn comes at 08:00, so an
editor who already accepted a tip is not asked to review it, a reporter is not asked a question that is
no longer open, and someone who stopped being an editor hears nothing of the desk. Buttons that are
malformed or belong to a finished conversation get an answer, never silence."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from bot.app import TongxinApp
from core.clock import ManualClock
from scheduler import sweep
from simulator import BotApiSimulator
from simulator.people import Person
from storage import outbox, users
from tests.stories.test_tips import finish_tip, make_role
from tests.stories.wishflow import person_id, review_tip

SHANGHAI = ZoneInfo("Asia/Shanghai")


def shanghai(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


async def rows_with_key(bot: TongxinApp, person: Person, key: str) -> list[dict[str, object]]:
    async with bot.bot_data.db.read() as conn:
        rows = await outbox.messages_for(conn, await person_id(conn, person))
    return [row for row in rows if isinstance(row["payload"], dict) and row["payload"].get("key") == key]


def texts_with(person: Person, text: str) -> list[str]:
    return [m.text or "" for m in person.messages if text in (m.text or "")]


async def send_text_tip(person: Person, text: str) -> str:
    await person.send_command("/tip")
    await person.wait_for_text("请发送现场照片")
    await person.send_text(text)
    await person.wait_for_text("分享位置")
    return await finish_tip(person)


async def morning(bot: TongxinApp, sim: BotApiSimulator, clock: ManualClock) -> None:
    """08:00: quiet hours end, the sweep wakes the sender."""
    clock.set(shanghai(27, 8, 0))
    await sweep.run_once(bot)
    await sim.settle()


async def test_an_editor_who_accepted_a_tip_at_night_is_not_asked_to_review_it_at_eight(
    bot: TongxinApp, sim: BotApiSimulator, clock: ManualClock
) -> None:
    li = sim.person("李记者")
    zhou = sim.person("周编辑")
    await make_role(bot, li, "reporter")
    await make_role(bot, zhou, "editor")

    # 23:30: the tip arrives; the editors' "new tip" notice waits for the morning.
    clock.set(shanghai(26, 23, 30))
    assert "T-0001" in await send_text_tip(li, "夜里东门菜市场着火，已扑灭")
    await sim.settle()
    assert texts_with(zhou, "新线索 T-0001") == []
    [held] = await rows_with_key(bot, zhou, "review.new_tip")
    assert held["status"] == "pending"

    # 00:40: the editor, awake anyway, accepts it from /review.
    clock.set(shanghai(27, 0, 40))
    card = await review_tip(zhou, "T-0001")
    await zhou.press("采用", message=card)
    await zhou.wait_for(lambda: any("已采用，已通知报送人" in a for a in zhou.callback_answers))

    # 08:00: no stale "待审核" for the editor; the reporter hears the acceptance.
    await morning(bot, sim, clock)
    await li.wait_for_text("T-0001 已被编辑采用")
    await sim.settle()
    assert texts_with(zhou, "新线索 T-0001") == []
    [row] = await rows_with_key(bot, zhou, "review.new_tip")
    assert row["status"] == "superseded"
    assert "tip" in str(row["last_error"])
    [told] = await rows_with_key(bot, li, "tip.notice_accepted")
    assert told["status"] == "sent"


async def test_an_editor_who_lost_the_role_overnight_hears_nothing_of_the_desk(
    bot: TongxinApp, sim: BotApiSimulator, clock: ManualClock
) -> None:
    wang = sim.person("王阿姨")
    zhou = sim.person("周编辑")
    wu = sim.person("吴编辑")
    await make_role(bot, zhou, "editor")
    await make_role(bot, wu, "editor")

    clock.set(shanghai(26, 23, 0))
    await send_text_tip(wang, "小区电梯停了两天没人修")
    await sim.settle()
    # Before the morning, 吴 leaves the newsroom.
    async with bot.bot_data.db.write() as conn:
        assert await users.revoke_role(conn, await person_id(conn, wu), "editor")

    await morning(bot, sim, clock)
    await zhou.wait_for_text("新线索 T-0001")
    await sim.settle()
    assert texts_with(wu, "新线索") == []
    [row] = await rows_with_key(bot, wu, "review.new_tip")
    assert row["status"] == "superseded"
    assert "editor" in str(row["last_error"])


async def test_a_question_overtaken_by_a_decline_at_night_is_not_sent(
    bot: TongxinApp, sim: BotApiSimulator, clock: ManualClock
) -> None:
    wang = sim.person("王阿姨")
    zhou = sim.person("周编辑")
    await make_role(bot, zhou, "editor")
    await send_text_tip(wang, "广场舞音响太吵")
    await zhou.wait_for_text("新线索 T-0001")

    # 23:00: the editor asks a question; it waits for the morning.
    clock.set(shanghai(26, 23, 0))
    card = await review_tip(zhou, "T-0001")
    await zhou.press("请补充", message=card)
    await zhou.wait_for_text("请输入需要报送人补充的问题")
    await zhou.send_text("几点开始的？")
    await zhou.wait_for_text("已请报送人补充 T-0001")
    [asked] = await rows_with_key(bot, wang, "tip.notice_more_info")
    assert asked["status"] == "pending"

    # 01:00: on second thought the editor declines it from the same (refreshed) card.
    clock.set(shanghai(27, 1, 0))
    await sim.settle()
    card = next(m for m in zhou.messages if m.message_id == card.message_id)
    assert ["不采用"] in card.inline_buttons
    await zhou.press("不采用", message=card)
    await zhou.wait_for_text("请输入 T-0001 不采用的原因")
    await zhou.send_text("已有同类报道")
    await zhou.wait_for_text("T-0001 未采用")

    # 08:00: the reporter hears the decline only, not a question nobody waits for any more.
    await morning(bot, sim, clock)
    declined = await wang.wait_for_text("T-0001 这次未被采用")
    assert "已有同类报道" in (declined.text or "")
    await sim.settle()
    assert texts_with(wang, "编辑需要您补充") == []
    [row] = await rows_with_key(bot, wang, "tip.notice_more_info")
    assert row["status"] == "superseded"


async def test_malformed_and_stale_newsroom_buttons_are_answered(bot: TongxinApp, sim: BotApiSimulator) -> None:
    wang = sim.person("王阿姨")
    zhou = sim.person("周编辑")
    await make_role(bot, zhou, "editor")
    await send_text_tip(wang, "路灯坏了")
    await zhou.wait_for_text("新线索 T-0001")
    target = zhou.messages[-1]
    # A forged status letter, an id out of range, a category of a /tip that is over, a Submit of nothing.
    for data in ("tip:accept:1:N", "tip:decline:99999999999:n", "tipapp:approve:x"):
        sim.callback_query(zhou, target, data)
    before = len(wang.callback_answers)
    for data in ("tipcat:livelihood", "tipsubmit"):
        sim.callback_query(wang, wang.messages[-1], data)
    await sim.settle()
    assert len(zhou.callback_answers) == 3
    assert all("按钮已过期" in answer for answer in zhou.callback_answers)
    assert len(wang.callback_answers) == before + 2
    assert all("按钮已过期" in answer for answer in wang.callback_answers[before:])
