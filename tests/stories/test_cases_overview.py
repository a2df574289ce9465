"""Story of /cases for a coordinator (issue 27): 周协调 belongs to no department, yet /cases shows her every
department's open cases, grouped by department with the overdue ones first, while the escalations arrive; a member
still gets the cards of their own department."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.app import TongxinApp
from bot.clock import ManualClock
from simulator import BotApiSimulator
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

    # 老张 of 城管 still gets the cards of his department, with what he can do, and not 水务's case.
    await zhang.send_command("/cases")
    await zhang.wait_for_text("新案件 C-0002")
    await zhang.wait_for_text("C-0003 由您承办")
    assert not any("C-0001" in (m.text or "") for m in zhang.messages)
