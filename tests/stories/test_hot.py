"""Stories of hot topics: a monitor sees what people worry about as topics (the fastest-rising first, without
filler words or pieces of the centres' and places' names), and the daily alert lets a coordinator and an editor
turn a spike into work with one tap."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from actions import hot
from bot.app import TongxinApp
from bot.seed import seed_district
from core.clock import ManualClock
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
SCREEN_TOKEN = "screen-secret-29"


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"screen_token": SCREEN_TOKEN}


async def seed_needs(db: Database, now: dt.datetime) -> str:
    """The fixture's needs as wishes of one resident, written at their times; returns the spike term."""
    document = json.loads(FIXTURE.read_text(encoding="utf-8"))
    for item in document["items"]:
        await resident_writes(db, now, item["text"], None, item["days_ago"])
    return str(document["spike_term"])


async def resident_writes(db: Database, now: dt.datetime, text: str, area: str | None, days_ago: float) -> None:
    """A resident's wish, written `days_ago` days before `now`."""
    async with db.write() as conn:
        await users.touch_user(
            conn, user_id=777, first_name="居民", last_name=None, username=None, language="zh-CN", now=now
        )
        await wishes.insert_wish(
            conn,
            resident_id=777,
            category="other",
            description=text,
            area=area,
            address=None,
            location=None,
            photo_file_id=None,
            phone=None,
            status="open",
            now=now - dt.timedelta(days=days_ago),
        )


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
    assert "最近 7 天的热点话题" in report
    assert report.splitlines()[1].startswith(f"1. 🔺 {spike}")
    assert " · 9 条 · ↑" in report.splitlines()[1]


# What residents of the demo district wrote in the week the issue was filed: its /hot top ten were
# 社区 5 · 一次 2 · 义诊 2 · 南湖 2 · 实践 2 · 志愿者 2 · 我家 2 · 文明 2 · 方便 2 · 时代 2.
DEMO_WEEK = (
    ("我家老人想参加一次社区义诊，现在报名方便吗？", "西城社区", 6),
    ("我家门口的垃圾一次都没清理过，出门很不方便。", "东城社区", 5),
    ("南湖社区新时代文明实践站的志愿者今天来过一次，大家都说方便。", "南湖社区", 4),
    ("想去新时代文明实践站参加社区志愿者活动，这个时候还能报名吗？", "南湖社区", 3),
)
# ...and then the water went off in one community: four residents in two days.
OUTAGE = (
    ("南湖社区停水两天了，王大爷家里没水做饭，电话13812345678", 1.5),
    ("南湖社区又停水了，老人提水上楼很困难", 1.0),
    ("停水到现在还没来水，南湖社区三栋楼都没水", 0.5),
    ("小区停水，南湖社区的老人洗澡都成问题", 0.2),
)
# Filler, and pieces of the centres' and places' names ("社区" may only come from a text's own "社区义诊").
ISSUES_BAD_WORDS = {"一次", "我家", "方便", "南湖", "实践", "文明", "时代", "现在", "大家", "这个", "时候"}


async def demo_week_with_outage(db: Database, now: dt.datetime) -> None:
    """The demo district, the week of the issue, and the outage of the last two days."""
    await seed_district(db, now=now)
    for text, area, days_ago in DEMO_WEEK:
        await resident_writes(db, now, text, area, days_ago)
    for text, days_ago in OUTAGE:
        await resident_writes(db, now, text, "南湖社区", days_ago)


def topic_terms(line: str) -> set[str]:
    """The leading terms of a /hot topic line ("2. 🔺 停水、南湖社区 · 4 条 · ↑2.3 · 南湖社区")."""
    listed = line.split(". ", 1)[1].removeprefix("🔺 ").split(" · ")[0]
    return set(listed.split("、"))


async def test_in_the_demo_district_the_rising_outage_comes_first_and_no_filler_or_name_fragment_is_a_topic(
    bot: TongxinApp, sim: BotApiSimulator, story_db: Database, clock: ManualClock
) -> None:
    now = clock.now()
    await demo_week_with_outage(story_db, now)
    monitor = await staff_member(sim, bot, "网信中心小赵", "monitor")

    await monitor.send_command("/hot")
    report = (await monitor.next_message()).text
    lines = report.splitlines()
    assert lines[0] == "最近 7 天的热点话题（与此前 28 天相比，上升最快的在前）"
    assert lines[1].startswith("1. 🔺 停水")
    assert lines[1].endswith("· 4 条 · ↑2.3 · 南湖社区")
    # Its newest example, quoted: the names and numbers of the first one never shown.
    assert lines[2].strip() == "「小区停水，南湖社区的老人洗澡都成问题」"
    assert "13812345678" not in report
    assert "王大爷" not in report
    topics = [line for line in lines[1:] if line[0].isdigit()]
    assert len(topics) >= 2
    for line in topics:
        assert not topic_terms(line) & ISSUES_BAD_WORDS, line
        assert not topic_terms(line) & {"南湖社区", "西城社区", "东城社区"}, line  # places are its areas

    # The same once the sweep has stored every text's terms (the roll-ups and the stored terms, not counting afresh).
    await hot.segment_backlog(
        bot.bot_data.env, now + dt.timedelta(minutes=2), since=now - dt.timedelta(days=90), limit=1000
    )
    await monitor.send_command("/hot")
    assert (await monitor.next_message()).text == report


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
    # The alert names the topic /hot ranks first, with the same figures: its leading terms, messages, rise,
    # areas and quoted example (no number, no name).
    monitor = await staff_member(sim, bot, "网信中心小赵", "monitor")
    await monitor.send_command("/hot")
    shown = (await monitor.next_message()).text.splitlines()
    terms, count, rise, areas = shown[1].removeprefix("1. 🔺 ").split(" · ")
    assert spike in terms.split("、")
    assert f"「{terms}」最近 7 天有 {count.removesuffix(' 条')} 条心愿或报料" in alert.text
    assert f"比此前 28 天上升 {rise}，地区：{areas}。" in alert.text
    example = shown[2].strip()
    assert example.startswith("「")
    assert example in alert.text
    assert not any(ch.isdigit() for ch in example)
    assert "王大爷" not in alert.text
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
    assert f"【热点】「{terms}」最近 7 天有 {count.removesuffix(' 条')} 条心愿或报料" in drafts[0].description
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


async def test_the_screen_shows_topics_with_their_rise(
    bot: TongxinApp, story_db: Database, clock: ManualClock, web: tuple[str, aiohttp.ClientSession]
) -> None:
    now = clock.now()
    await demo_week_with_outage(story_db, now)
    base, session = web
    async with session.get(f"{base}/screen/data.json?token={SCREEN_TOKEN}") as response:
        assert response.status == 200
        data: dict[str, Any] = json.loads(await response.text())
    assert data["labels"]["hot"] == "热点话题（近7天，上升最快的在前）"
    first, *others = data["hot"]
    assert first == {
        "name": "停水、没水、老人",
        "value": 4,
        "rise": 2.3,
        "rising": True,
        "areas": "南湖社区",
        "example": "小区停水，南湖社区的老人洗澡都成问题",
    }
    assert others
    for topic in data["hot"]:
        assert not set(topic["name"].split("、")) & ISSUES_BAD_WORDS, topic
