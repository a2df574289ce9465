"""Story of /cases for a coordinator (issue 27): 周协调 belongs to no department, yet /cases shows her every
department's open cases, grouped by department with the overdue ones first, while the escalations arrive; a member
gets a page of their own department's cases (the page model of every list), each card behind its button."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.app import TongxinApp
from core.clock import ManualClock
from simulator import BotApiSimulator
from storage import cases as case_store
from storage import departments, users
from storage.db import Database
from tests.conftest import START_TIME
from tests.stories.test_departments import coordinator_named
from tests.stories.wishflow import open_wish, person_id

# The dialect matters here (SQL the story reaches through the bot): on PostgreSQL too.
pytestmark = pytest.mark.both_databases


async def test_a_coordinator_sees_every_departments_open_cases_overdue_first(
    bot: TongxinApp, sim: BotApiSimulator, story_db: Database, clock: ManualClock
) -> None:
    for name in ("王阿姨", "李大爷", "赵奶奶"):
        await open_wish(story_db, sim.person(name), category="environment")
    zhou = await coordinator_named(bot, sim, "周协调")
    zhang = sim.person("老张")
    await zhang.send_command("/start")
    await zhang.next_message()
    async with story_db.write() as conn:
        for name in ("城管", "水务"):
            await departments.create_department(
                conn, name=name, categories=("environment",), areas=(), created_by=None, now=START_TIME
            )
        zhang_id = await person_id(conn, zhang)
        await departments.add_member(conn, 1, zhang_id, START_TIME)
        await users.grant_role(conn, zhang_id, "department", granted_by=None, now=START_TIME)

    # Nothing sent yet: said so for every department, not "本部门".
    await zhou.send_command("/cases")
    assert "各部门都没有待办案件" in ((await zhou.wait_for_text("待办案件")).text or "")

    await zhou.send_command("/case", "W-0003 水务 复杂")
    await zhou.wait_for_text("已派单 C-0001")
    await zhou.send_command("/case", "W-0001 城管 紧急")
    await zhou.wait_for_text("已派单 C-0002")
    await zhou.send_command("/case", "W-0002 城管 一般")
    await zhou.wait_for_text("已派单 C-0003")
    card = await zhang.wait_for_text("新案件 C-0003")
    await zhang.press("✋ 签收", message=card)
    await zhang.wait_for_text("C-0003 由您承办")
    # Three hours on, the urgent case is past its deadline to acknowledge; the others are in time.
    clock.advance(dt.timedelta(hours=3))

    await zhou.send_command("/cases")
    overview = await zhou.wait_for_text("各部门待办案件")
    text = overview.text or ""
    assert "共 3 件，其中逾期 1 件" in text
    lines = [
        "【城管】2 件，逾期 1 件",
        "⏰ C-0002（W-0001）紧急（2 小时） · 逾期 2.5 小时未签收",
        "· C-0003（W-0002）一般（7 天） · 老张 承办（12-03 10:00 前办结）",
        "【水务】1 件，逾期 0 件",
        "· C-0001（W-0003）复杂（15 天） · 待签收（11-27 10:00 前）",
    ]
    assert [line for line in text.splitlines() if line.strip() and not line.startswith("📂")] == lines
    assert not any("本部门没有待办案件" in (m.text or "") for m in zhou.messages)

    # 老张 of 城管 gets a page of his department's cases, oldest first, each saying where it stands, and not
    # 水务's case; a case's button brings its card with what he can do.
    await zhang.send_command("/cases")
    listed = await zhang.wait_for_text("您部门的 2 件待办案件")
    lines = [line for line in (listed.text or "").splitlines() if line[:2] in ("1.", "2.")]
    assert [line.split(" · ")[0] for line in lines] == ["1. C-0002（W-0001）城管", "2. C-0003（W-0002）城管"]
    assert "待签收" in lines[0]
    assert "由您承办" in lines[1]
    assert listed.inline_buttons[0] == ["📋 C-0002", "📋 C-0003"]
    await zhang.press("📋 C-0003")
    mine = await zhang.wait_for_text("C-0003 由您承办")
    assert mine.inline_buttons  # 办结 / 退回
    assert not any("C-0001" in (m.text or "") for m in zhang.messages)


async def test_a_member_pages_through_his_departments_cases_and_opens_one_from_page_two(
    bot: TongxinApp, sim: BotApiSimulator, story_db: Database
) -> None:
    """Seven open cases: five on the first page, two on the second (numbered 6 and 7, ◀ back); C-0007's button on
    page 2 brings its card with 签收, which takes it. Someone outside the department who sends the same press is
    refused and learns nothing of the case."""
    zhou = await coordinator_named(bot, sim, "周协调")
    zhang, stranger = sim.person("老张"), sim.person("路人")
    await zhang.send_command("/start")
    await zhang.next_message()
    await stranger.send_command("/start")
    greeted = await stranger.next_message()
    async with story_db.write() as conn:
        await departments.create_department(
            conn, name="城管", categories=("environment",), areas=(), created_by=None, now=START_TIME
        )
        zhang_id = await person_id(conn, zhang)
        await departments.add_member(conn, 1, zhang_id, START_TIME)
        await users.grant_role(conn, zhang_id, "department", granted_by=None, now=START_TIME)
    for n in range(1, 8):
        await open_wish(story_db, sim.person(f"居民{n}"), category="environment")
        await zhou.send_command("/case", f"W-{n:04d} 城管 general")
        await zhou.wait_for_text(f"已派单 C-{n:04d}")

    await zhang.send_command("/cases")
    first = await zhang.wait_for_text("您部门的 7 件待办案件")
    assert "（第 1/2 页）" in (first.text or "")
    assert first.inline_buttons == [
        ["📋 C-0001", "📋 C-0002"],
        ["📋 C-0003", "📋 C-0004"],
        ["📋 C-0005"],
        ["下一页 ▶"],
    ]
    await zhang.press("下一页 ▶")
    second = await zhang.wait_for_text("（第 2/2 页）")
    assert second.message_id == first.message_id  # redrawn in place
    text = second.text or ""
    assert "6. C-0006（W-0006）" in text
    assert "7. C-0007（W-0007）" in text
    assert "C-0005" not in text
    assert second.inline_buttons == [["📋 C-0006", "📋 C-0007"], ["◀ 上一页"]]
    await zhang.press("📋 C-0007")
    card = await zhang.wait_for_text("新案件 C-0007")
    await zhang.press("✋ 签收", message=card)
    await zhang.wait_for_text("C-0007 由您承办")
    async with story_db.read() as conn:
        taken = await case_store.get_case(conn, 7)
    assert (taken.status, taken.acknowledged_by) == ("acknowledged", zhang_id)

    # The same press from outside the department: refused, the case not shown.
    button = second.find_inline_button("📋 C-0007")
    assert button is not None
    sim.callback_query(stranger, greeted, str(button["callback_data"]))
    await stranger.wait_for(lambda: bool(stranger.callback_answers))
    assert stranger.callback_answers == ["抱歉，您没有权限进行这个操作。"]
    assert not any("C-0007" in (m.text or "") for m in stranger.messages)
