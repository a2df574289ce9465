"""Stories of hot topics: a monitor sees what people worry about, and the daily alert lets a coordinator
and an editor turn a spike into work with one tap."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import TongxinApp
from bot.clock import ManualClock
from scheduler.sweep import queue_hot_alert
from simulator import BotApiSimulator
from simulator.people import Person
from storage import users, wishes
from storage.db import Database
from storage.schema import tips
from storage.schema import wishes as wishes_table
from tests.stories.wishflow import person_id

# The dialect matters here (SQL the story reaches through the bot): on PostgreSQL too.
pytestmark = pytest.mark.both_databases

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "hot_needs.json"


async def seed_needs(db: Database, now: dt.datetime) -> str:
    """The fixture's needs as wishes of one resident, written at their times; returns the spike term."""
    document = json.loads(FIXTURE.read_text(encoding="utf-8"))
    async with db.write() as conn:
        await users.touch_user(
            conn, user_id=777, first_name="居民", last_name=None, username=None, language="zh-CN", now=now
        )
        for item in document["items"]:
            await wishes.insert_wish(
                conn,
                resident_id=777,
                category="other",
                description=item["text"],
                area=None,
                address=None,
                location=None,
                photo_file_id=None,
                phone=None,
                status="open",
                now=now - dt.timedelta(days=item["days_ago"]),
            )
    return str(document["spike_term"])


async def staff_member(sim: BotApiSimulator, bot: TongxinApp, name: str, *roles: str) -> Person:
    person = sim.person(name)
    await person.send_command("/start")
    await person.next_message()
    async with bot.bot_data.db.write() as conn:
        for role in roles:
            await users.grant_role(
                conn, await person_id(conn, person), role, granted_by=None, now=bot.bot_data.clock.now()
            )
    return person


async def test_monitor_sees_the_spike_flagged(
    bot: TongxinApp, sim: BotApiSimulator, story_db: Database, clock: ManualClock
) -> None:
    spike = await seed_needs(story_db, clock.now())
    monitor = await staff_member(sim, bot, "网信中心小赵", "monitor")
    await monitor.send_command("/hot")
    report = (await monitor.next_message()).text
    assert "最近 7 天的热点" in report
    assert f"{spike} · 9 条 🔺" in report
    rising = report.split("上升最快")[1]
    assert rising.strip().splitlines()[0].startswith(f"🔺 {spike}")


async def test_residents_cannot_see_hot_topics(bot: TongxinApp, sim: BotApiSimulator) -> None:
    wang = sim.person("王阿姨")
    await wang.send_command("/hot")
    assert "没有权限" in (await wang.next_message()).text


async def test_daily_alert_becomes_a_wish_draft_and_a_story_lead(
    bot: TongxinApp, sim: BotApiSimulator, story_db: Database, clock: ManualClock
) -> None:
    spike = await seed_needs(story_db, clock.now())
    coordinator = await staff_member(sim, bot, "李协调", "coordinator")
    editor = await staff_member(sim, bot, "周编辑", "editor")

    assert await queue_hot_alert(bot.bot_data, clock.now()) == 2  # the admin never wrote to the bot
    assert await queue_hot_alert(bot.bot_data, clock.now()) == 0  # the same day never alerts twice

    alert = await coordinator.wait_for_text("热点预警")
    assert spike in alert.text
    assert alert.inline_buttons == [["转为心愿草稿"]]
    await coordinator.press("转为心愿草稿")
    drafted = await coordinator.wait_for_text("已生成心愿草稿")
    await coordinator.press("转为心愿草稿", message=alert)
    await coordinator.wait_for_text("已经转为任务")

    lead = await editor.wait_for_text("热点预警")
    assert lead.inline_buttons == [["转为报道线索"]]
    await editor.press("转为报道线索")
    await editor.wait_for_text("已生成报道线索")

    async with story_db.read() as conn:
        drafts = (
            await conn.execute(
                select(wishes_table).where(wishes_table.c.resident_id == await person_id(conn, coordinator))
            )
        ).all()
        leads = (await conn.execute(select(tips).where(tips.c.reporter_id == await person_id(conn, editor)))).all()
    assert len(drafts) == 1
    assert drafts[0].status == "pending_review"
    assert spike in drafts[0].description
    assert f"W-{drafts[0].ref_no:04d}" in drafted.text
    assert len(leads) == 1
    assert leads[0].status == "new"


async def test_a_forged_or_stale_alert_button_is_answered(bot: TongxinApp, sim: BotApiSimulator) -> None:
    coordinator = await staff_member(sim, bot, "李协调", "coordinator")
    resident = sim.person("王阿姨")
    await resident.send_command("/start")
    anything = await resident.next_message()
    await coordinator.send_command("/start")
    mine = await coordinator.next_message()
    for data in ("hot:wish:9999", "hot:wish:abc", "hot:lead"):
        sim.callback_query(coordinator, mine, data)
    sim.callback_query(resident, anything, "hot:wish:1")
    await sim.settle()
    assert coordinator.callback_answers == ["找不到这条热点预警。"] * 3
    assert resident.callback_answers == ["抱歉，您没有权限进行这个操作。"]
