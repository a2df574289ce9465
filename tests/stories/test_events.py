"""Stories of public-opinion events (issue 29): a monitor raises a hot topic to a level II event with the suggested
level's button; the upward report and the first response are recorded in time; the 5-hour authoritative-information
clock warns its owners half an hour before and escalates to the admins when it runs out, and stays marked missed;
the editor's published post (the hot topic's story lead) stops the clock; /events and the command-centre screen show
the event with its clocks. A case resolved stops the response clock of the event raised from it; a closed event
leaves /events."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from actions import hot
from actions.env import Env
from bot.app import TongxinApp
from core.clock import ManualClock
from rules.roles import Role
from rules.wishes import Actor
from scheduler import sweep
from simulator import BotApiSimulator
from simulator.people import Person
from storage import hot as hot_store
from storage import users
from storage.db import Database
from storage.schema import event_clocks, event_records, outbox
from tests.conftest import ADMIN_ID, START_TIME
from tests.stories.test_departments import coordinator_named, department_with_members
from tests.stories.test_hot import resident_writes
from tests.stories.test_reminders import delivered
from tests.stories.wishflow import open_wish, person_id, press_again_quietly, review_tip, wait_for_button

# The week's outage in 南湖社区, and one neighbour in 西城社区.
OUTAGE = (
    ("南湖社区停水两天了，家里没水做饭", "南湖社区", 1.5),
    ("南湖社区又停水了，老人提水上楼很困难", "南湖社区", 1.0),
    ("停水到现在还没来水，南湖社区三栋楼都没水", "南湖社区", 0.5),
    ("小区停水，老人洗澡都成问题", "南湖社区", 0.2),
    ("西城社区也停水了，什么时候来水", "西城社区", 0.1),
)

# The dialect matters here (the sweep's joins and the clocks' times): on PostgreSQL too.
pytestmark = pytest.mark.both_databases

TOKEN = "screen-secret-29"
LINK = "https://news.example.cn/2026/11/water.html"


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"screen_token": TOKEN}


async def staff(bot: TongxinApp, person: Person, role: str | None) -> Person:
    """Someone who wrote to the bot and was given a staff role earlier."""
    await person.send_command("/start")
    await person.next_message()
    if role is not None:
        async with bot.bot_data.db.write() as conn:
            await users.grant_role(conn, await person_id(conn, person), role, granted_by=None, now=START_TIME)
    return person


async def water_alert(bot: TongxinApp, editor: Person) -> int:
    """The day's hot-topic alert H-1: 停水 rose from 5 to 30 texts; the editor turned it into a story lead (T-0001)."""
    async with bot.bot_data.db.write() as conn:
        alert = await hot_store.record_alert(
            conn, day="2026-11-26", term="停水", current=30, previous=5, now=START_TIME
        )
        editor_id = await person_id(conn, editor)
    assert alert is not None
    env: Env = bot.bot_data.env
    made = await hot.to_lead(env, Actor(editor_id, frozenset({Role.EDITOR})), alert.id, lambda a: f"{a.term}：南湖社区")
    assert made.ref == "T-0001"
    return alert.id


async def publish_lead(editor: Person) -> None:
    """The editor accepts the story lead T-0001 in /review and marks it published with its link."""
    card = await review_tip(editor, "T-0001")
    await editor.press("采用", message=card)
    card = await editor.wait_for_text("T-0001 · 已采用")
    await editor.press("已发布", message=card)
    await editor.wait_for_text("请发送 T-0001 发布稿件的链接")
    await editor.send_text(LINK)
    await editor.wait_for_text("T-0001 已标记为已发布")


async def sweep_at(bot: TongxinApp, sim: BotApiSimulator, clock: ManualClock, after: dt.timedelta) -> int:
    """Move the clock, sweep, and wait until what the sweep queued was sent."""
    clock.set(START_TIME + after)
    queued = await sweep.run_once(bot)
    await delivered(bot, sim)
    return queued


async def screen_events(web: tuple[str, aiohttp.ClientSession]) -> list[dict[str, Any]]:
    base, session = web
    async with session.get(f"{base}/screen/data.json?token={TOKEN}") as response:
        assert response.status == 200
        data = json.loads(await response.text())
    assert data["labels"]["events"] == "舆情事件与时限"
    events: list[dict[str, Any]] = data["events"]
    return events


async def test_a_level_ii_event_warns_escalates_and_is_stopped_by_the_published_post(
    bot: TongxinApp,
    sim: BotApiSimulator,
    story_db: Database,
    clock: ManualClock,
    web: tuple[str, aiohttp.ClientSession],
) -> None:
    admin = await staff(bot, sim.person("李主任", user_id=ADMIN_ID), None)
    zhao = await staff(bot, sim.person("赵监测"), "monitor")
    zhou = await staff(bot, sim.person("周编辑"), "editor")
    await water_alert(bot, zhou)

    # The monitor raises H-1: 30 texts, six times as many as before, a sensitive word: II is suggested.
    await zhao.send_command("/event", "H-1")
    asked = await zhao.wait_for_text("把「停水」定为舆情事件")
    assert "近 7 天 30 条相关，增幅 ×6.0" in (asked.text or "")
    assert asked.inline_buttons == [
        ["🔴 I级 特别重大"],
        ["🟠 II级 重大（建议）"],
        ["🟡 III级 较大"],
        ["🔵 IV级 一般"],
    ]
    await zhao.press("🟠 II级 重大（建议）", message=asked)
    raised = await zhao.wait_for_text("E-1")
    text = raised.text or ""
    assert "🟠 II级 重大 E-1 停水" in text
    assert "来源 H-1" in text
    for line in (
        "信息上报：剩 0 小时 15 分",
        "首次回应：剩 4 小时 0 分",
        "发布权威信息：剩 5 小时 0 分",
        "新闻发布会：剩 24 小时 0 分",
    ):
        assert line in text
    await delivered(bot, sim)
    told = await zhou.wait_for_text("舆情事件 E-1")
    assert "最先到期：信息上报，11-26 10:15 前" in (told.text or "")
    await admin.wait_for_text("舆情事件 E-1")  # level II: the admins hear of it at once

    # The upward report within its 15 minutes, the first response within its 4 hours.
    clock.set(START_TIME + dt.timedelta(minutes=10))
    await zhao.send_command("/event", "E-1 上报 已电话报告区委宣传部")
    await zhao.wait_for_text("✅ 信息上报：已完成（已电话报告区委宣传部）")
    clock.set(START_TIME + dt.timedelta(hours=1))
    await zhao.send_command("/event", "E-1 回应 官方微博发布情况说明")
    await zhao.wait_for_text("✅ 首次回应：已完成（官方微博发布情况说明）")

    # Nothing is due before half an hour ahead of the 5-hour clock; then its owners are warned, once.
    assert await sweep_at(bot, sim, clock, dt.timedelta(hours=4, minutes=29)) == 0
    assert await sweep_at(bot, sim, clock, dt.timedelta(hours=4, minutes=30)) == 2
    for owner in (zhao, zhou):
        warning = await owner.wait_for_text("时限提醒")
        assert "E-1" in (warning.text or "")
        assert "发布权威信息 还剩 30 分钟（11-26 15:00 前）" in (warning.text or "")
    assert not any("时限提醒" in (m.text or "") for m in admin.messages)
    assert await sweep_at(bot, sim, clock, dt.timedelta(hours=4, minutes=31)) == 0

    # Missed: the admins are told, once; nobody else.
    assert await sweep_at(bot, sim, clock, dt.timedelta(hours=5)) == 1
    missed = await admin.wait_for_text("时限已超")
    assert "发布权威信息 应在 11-26 15:00 前完成" in (missed.text or "")
    assert await sweep_at(bot, sim, clock, dt.timedelta(hours=5, minutes=1)) == 0
    assert not any("时限已超" in (m.text or "") for m in (*zhao.messages, *zhou.messages))
    await zhao.send_command("/events")
    listed = await zhao.wait_for_text("进行中的舆情事件（1）")
    assert "❗ 发布权威信息：已超时 0 小时 1 分（11-26 15:00），已报领导" in (listed.text or "")

    # The editor publishes the story lead made from H-1: the next sweep stops the clock at that moment.
    clock.set(START_TIME + dt.timedelta(hours=5, minutes=20))
    await publish_lead(zhou)
    assert await sweep_at(bot, sim, clock, dt.timedelta(hours=5, minutes=21)) == 0
    await zhao.send_command("/events")
    listed = await zhao.wait_for_text("进行中的舆情事件（1）")
    assert f"☑️ 发布权威信息：超时后完成（T-0001 {LINK}）" in (listed.text or "")
    assert "新闻发布会：剩 18 小时 39 分" in (listed.text or "")

    async with story_db.read() as conn:
        information = (await conn.execute(select(event_clocks).where(event_clocks.c.kind == "information"))).one()
        records = list((await conn.execute(select(event_records.c.clock, event_records.c.what))).tuples())
        keys = sorted(
            (await conn.execute(select(outbox.c.dedupe_key).where(outbox.c.dedupe_key.like("event:%")))).scalars()
        )
    assert information.met_at == START_TIME + dt.timedelta(hours=5, minutes=20)
    assert information.escalated_at == START_TIME + dt.timedelta(hours=5)  # missed for good, though met since
    assert information.warned_at == START_TIME + dt.timedelta(hours=4, minutes=30)
    assert ("information", "missed") in records
    assert ("information", f"T-0001 {LINK}") in records
    zhao_id, zhou_id, admin_id = [await person_id(story_db, p) for p in (zhao, zhou, admin)]
    assert keys == sorted(
        [
            f"event:raised:1:{zhou_id}",
            f"event:raised:1:{admin_id}",
            f"event:warn:{information.id}:{zhao_id}",
            f"event:warn:{information.id}:{zhou_id}",
            f"event:missed:{information.id}:{admin_id}",
        ]
    )

    # The screen shows the event in its level's colour, with its clocks.
    [shown] = await screen_events(web)
    assert (shown["ref"], shown["colour"], shown["title"], shown["source"]) == ("E-1", "orange", "停水", "H-1")
    clocks = {c["kind"]: c for c in shown["clocks"]}
    assert [c["kind"] for c in shown["clocks"]] == ["report", "first_response", "information", "press"]
    assert clocks["information"]["state"] == "met_late"
    assert clocks["information"]["missed"] is True
    assert clocks["report"]["state"] == "met"
    assert clocks["press"]["state"] == "running"
    assert clocks["press"]["minutes_left"] == 18 * 60 + 39
    assert clocks["press"]["name"] == "新闻发布会"
    assert clocks["press"]["due"] == (START_TIME + dt.timedelta(hours=24)).isoformat()

    # Closed with a summary: gone from /events and from the screen.
    await zhao.send_command("/event", "E-1 结案 已恢复供水，发布会如期召开")
    await zhao.wait_for_text("（已结案）")
    await zhao.send_command("/events")
    await zhao.wait_for_text("目前没有进行中的舆情事件")
    assert await screen_events(web) == []


async def test_a_case_resolved_stops_the_response_clock_of_the_event_raised_from_it(
    bot: TongxinApp, sim: BotApiSimulator, story_db: Database, clock: ManualClock
) -> None:
    alice = sim.person("王阿姨")
    await open_wish(story_db, alice, category="environment")
    zhou = await coordinator_named(bot, sim, "周协调")
    zhang = sim.person("老张")
    await department_with_members(bot, sim, zhou, [zhang])
    await zhou.send_command("/case", "W-0001 城管 general")
    await zhou.wait_for_text("已派单 C-0001")

    # The coordinator raises the case at the level typed: III runs a 48-hour response clock, no press conference.
    await zhou.send_command("/event", "C-0001 较大")
    raised = await zhou.wait_for_text("E-1")
    text = raised.text or ""
    assert "🟡 III级 较大 E-1" in text
    assert "来源 C-0001" in text
    assert "回应处置：剩 48 小时 0 分" in text
    assert "新闻发布会" not in text
    await zhou.send_command("/event", "C-0001 II")
    await zhou.wait_for_text("这个来源已有进行中的舆情事件")

    # The department acknowledges and resolves it two hours later; the next sweep meets the response clock then.
    clock.set(START_TIME + dt.timedelta(hours=2))
    await wait_for_button(zhang, "✋ 签收")
    await zhang.press("✋ 签收")
    await zhang.wait_for_text("C-0001 由您承办")
    await zhang.press("✅ 办结")
    await zhang.wait_for_text("办理结果")
    await zhang.send_text("已清理路边垃圾")
    await zhang.wait_for_text("办理后的照片")
    await zhang.press("不附照片")
    await zhang.wait_for_text("C-0001 已办结")
    clock.set(START_TIME + dt.timedelta(hours=2, minutes=1))
    await sweep.run_once(bot)
    await zhou.send_command("/events")
    listed = await zhou.wait_for_text("进行中的舆情事件（1）")
    assert "✅ 回应处置：已完成（C-0001）" in (listed.text or "")
    async with story_db.read() as conn:
        response = (await conn.execute(select(event_clocks).where(event_clocks.c.kind == "response"))).one()
    assert response.met_at == START_TIME + dt.timedelta(hours=2)
    assert response.met_by == await person_id(story_db, zhang)
    assert response.escalated_at is None


async def test_a_topics_words_are_raised_with_the_buttons_and_what_is_refused_says_why(
    bot: TongxinApp, sim: BotApiSimulator, story_db: Database, clock: ManualClock
) -> None:
    zhao = await staff(bot, sim.person("赵监测"), "monitor")
    wang = await staff(bot, sim.person("王阿姨"), None)

    # A resident may not raise or list events.
    await wang.send_command("/event", "路灯不亮")
    await wang.wait_for_text("没有权限")
    await wang.send_command("/events")
    await wang.wait_for_text("没有权限")

    # Usage, an over-long topic, an unknown source.
    await zhao.send_command("/event")
    await zhao.wait_for_text("用法：/event H-3")
    await zhao.send_command("/event", "停" * 61)
    await zhao.wait_for_text("话题最多 60 个字，现在是 61 个字")
    await zhao.send_command("/event", "H-9")
    await zhao.wait_for_text("没有找到这个事件、来源或稿件")

    # A topic's own words: nothing counted, no sensitive word, IV suggested; the monitor chooses II.
    await zhao.send_command("/event", "东城社区 路灯不亮")
    asked = await zhao.wait_for_text("把「东城社区 路灯不亮」定为舆情事件")
    assert asked.inline_buttons[1:] == [["🟠 II级 重大"], ["🟡 III级 较大"], ["🔵 IV级 一般（建议）"]]
    await zhao.press("🟠 II级 重大", message=asked)
    raised = await zhao.wait_for_text("🟠 II级 重大 E-1 东城社区 路灯不亮")
    assert "信息上报：剩 0 小时 15 分" in (raised.text or "")
    # The buttons were taken away; a press of the draft's button again is answered, not ignored.
    await sim.settle()
    assert asked.inline_buttons == []
    await press_again_quietly(sim, zhao, asked, "event:level:x1.2")
    assert "按钮已经失效" in zhao.callback_answers[-1]

    # Only a published tip meets the information clock; a clock the level does not run is refused.
    await water_alert(bot, await staff(bot, sim.person("周编辑"), "editor"))  # T-0001, a new story lead
    await zhao.send_command("/event", "E-1 发布 T-0002")
    await zhao.wait_for_text("没有找到这个事件、来源或稿件")
    await zhao.send_command("/event", "E-1 发布 T-0001")
    await zhao.wait_for_text("这篇稿件还没有发布")
    await zhao.send_command("/event", "E-1 答复 已答复")
    await zhao.wait_for_text("这一级别的事件没有这项时限")
    await zhao.send_command("/event", "E-1 上报 已报告")
    await zhao.wait_for_text("✅ 信息上报：已完成（已报告）")
    await zhao.send_command("/event", "E-1 上报 再报一次")
    await zhao.wait_for_text("这个时限已经记录完成了")
    await zhao.send_command("/event", "E-1 结案 路灯已修好")
    await zhao.wait_for_text("（已结案）")
    await zhao.send_command("/event", "E-1 结案 再结一次")
    await zhao.wait_for_text("这个事件已结案")
    await zhao.send_command("/event", "E-1 上报 结案后")
    await zhao.wait_for_text("这个事件已结案")


async def test_a_monitor_raises_the_weeks_rising_topic_and_the_editors_post_meets_its_information_clock(
    bot: TongxinApp,
    sim: BotApiSimulator,
    story_db: Database,
    clock: ManualClock,
    web: tuple[str, aiohttp.ClientSession],
) -> None:
    for text, area, days_ago in OUTAGE:
        await resident_writes(story_db, START_TIME, text, area, days_ago)
    zhao = await staff(bot, sim.person("赵监测"), "monitor")
    zhou = await staff(bot, sim.person("周编辑"), "editor")
    await water_alert(bot, zhou)  # the editors' story lead T-0001

    # 停水 names the week's rising topic: its count, rise and areas suggest the level.
    await zhao.send_command("/event", "停水")
    asked = await zhao.wait_for_text("把「停水」定为舆情事件")
    assert "近 7 天 5 条相关，增幅 ×2.7，涉及 2 个片区；建议 🟠 II级 重大" in (asked.text or "")
    await zhao.press("🟠 II级 重大（建议）", message=asked)
    await zhao.wait_for_text("🟠 II级 重大 E-1 停水")

    # Three hours later the editor publishes the post and records it: the 5-hour clock is met in time.
    clock.set(START_TIME + dt.timedelta(hours=3))
    await publish_lead(zhou)
    await zhou.send_command("/event", "E-1 发布 T-0001")
    await zhou.wait_for_text(f"✅ 发布权威信息：已完成（T-0001 {LINK}）")
    await delivered(bot, sim)
    told = await zhao.wait_for_text("周编辑 已完成发布权威信息")
    assert "E-1" in (told.text or "")

    # No warning comes for it; the screen shows it met.
    await sweep_at(bot, sim, clock, dt.timedelta(hours=4, minutes=30))
    assert not any("发布权威信息 还剩" in (m.text or "") for m in (*zhao.messages, *zhou.messages))
    [shown] = await screen_events(web)
    assert shown["title"] == "停水"
    assert {c["kind"]: c["state"] for c in shown["clocks"]}["information"] == "met"
