"""The monthly report: a coordinator asks for November's report and gets a PDF whose figures are the ones counted by
hand from a known month — wishes, tips, projects and cases placed just inside and just outside the month's local
boundaries (Asia/Shanghai: November runs from 10-31 16:00 to 11-30 16:00 UTC)."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection

from actions import activities as activity_actions
from bot.app import TongxinApp
from core.clock import ManualClock
from rules.monthly_report import Month, monthly_figures
from rules.wishes import Actor
from simulator import BotApiSimulator, Person
from storage import departments, events, tips, users, wishes
from storage.db import Database
from storage.report import EventLevel
from tests.storage.test_case_rates import seed as a_case
from tests.stories.test_activities import SHANGHAI, delivered, pdf_text, shanghai
from tests.stories.test_activities_followup import COORDINATOR, VOLUNTEER, an_activity, start_as_admin
from tests.stories.wishflow import approved_volunteers, person_id

RESIDENT = 701
HOURS = dt.timedelta(hours=1)


def utc(month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=dt.UTC)


async def wishes_around_the_month(db: Database) -> None:
    """Four wishes in November's local days, two outside: 23:59 on 10-31 and 00:30 on 12-01 local."""
    async with db.write() as conn:
        await the_resident(conn)
        for created in (utc(10, 31, 15, 59), utc(10, 31, 16), utc(10, 31, 17), utc(11, 15, 4), utc(11, 30, 15, 59)):
            await a_wish(conn, created)
        await a_wish(conn, utc(11, 30, 16, 30))


async def the_resident(conn: AsyncConnection) -> None:
    """The resident who sent the wishes and the tips (by hand, for the dates)."""
    await users.touch_user(
        conn, user_id=RESIDENT, first_name="王阿姨", last_name=None, username=None, language="zh-CN", now=utc(10, 1, 0)
    )


async def a_wish(conn: AsyncConnection, created: dt.datetime) -> None:
    await wishes.insert_wish(
        conn,
        resident_id=RESIDENT,
        category="free_clinic",
        description="想请医生来村里量血压",
        area="东城社区",
        address=None,
        location=None,
        photo_file_id=None,
        phone=None,
        status="open",
        now=created,
    )


async def tips_around_the_month(db: Database) -> None:
    """Received in November: T2, T3, T4, T5 (4). Taken on first in November: T2, T3 (2; T1 was accepted in October,
    T5 on 12-01 local). Published in November: T1, T2, T3 (3)."""
    moves: list[tuple[dt.datetime, list[tuple[str, str, dt.datetime]]]] = [
        (utc(10, 20, 2), [("new", "accepted", utc(10, 25, 2)), ("accepted", "published", utc(11, 3, 2))]),
        (utc(10, 31, 16, 5), [("new", "accepted", utc(11, 2, 2)), ("accepted", "published", utc(11, 30, 15, 50))]),
        (utc(11, 10, 2), [("new", "published", utc(11, 11, 2))]),
        (utc(11, 12, 2), [("new", "declined", utc(11, 13, 2))]),
        (utc(11, 29, 2), [("new", "accepted", utc(11, 30, 16, 10))]),
        (utc(11, 30, 16, 20), []),
    ]
    async with db.write() as conn:
        await the_resident(conn)
        for created, steps in moves:
            tip = await tips.insert_tip(
                conn,
                reporter_id=RESIDENT,
                by_reporter=True,
                status="new",
                category="livelihood",
                description="村口的路修好了，大家都很高兴",
                location=None,
                media=[],
                now=created,
            )
            for expected, target, at in steps:
                await tips.move_tip(conn, tip.id, expected, target, actor_id=None, now=at)


async def cases_around_the_month(db: Database) -> None:
    """城管局: two November cases — one acknowledged and resolved in time and rated 5, one acknowledged late and never
    resolved (response 50.0%, resolution 50.0%, satisfaction 100.0%); its October case, never answered, is not
    counted. 供电所: only a case of 12-01 local, so nothing to measure in November (暂无数据)."""
    async with db.write() as conn:
        city, power = [
            await departments.create_department(
                conn, name=name, categories=(), areas=(), created_by=None, now=utc(10, 1, 0)
            )
            for name in ("城管局", "供电所")
        ]
    await a_case(db, city.id, "general", utc(11, 5, 2), ack=HOURS, resolve=HOURS * 24, rating=5)
    await a_case(db, city.id, "general", utc(11, 20, 2), ack=HOURS * 48)
    await a_case(db, city.id, "general", utc(10, 31, 15))
    await a_case(db, power.id, "general", utc(11, 30, 16, 30))


async def events_around_the_month(db: Database) -> None:
    """A level II event on 11-10: information in time, first response late, press conference run out (met 1, missed
    2); a level IV event on 11-20 answered in time (met 1); a level I event of 12-01 local and a level IV event of
    10-31 local, not November's."""
    async with db.write() as conn:

        async def raised(level: int, at: dt.datetime, clocks: dict[str, dt.timedelta]) -> int:
            due = {kind: at + after for kind, after in clocks.items()}
            event = await events.insert_event(
                conn, source="text", source_id=None, level=level, title="停水", raised_by=None, now=at, clocks=due
            )
            return event.id

        major = await raised(
            2, utc(11, 10, 2), {"first_response": HOURS * 4, "information": HOURS * 5, "press": HOURS * 24}
        )
        await events.meet_clock(conn, major, "information", by=None, what="post", now=utc(11, 10, 6))
        await events.meet_clock(conn, major, "first_response", by=None, what="note", now=utc(11, 10, 8))
        press = next(c for c in (await events.clocks_of(conn, [major]))[major] if c.kind == "press")
        await events.mark_clock(conn, press.id, "escalated_at", utc(11, 11, 2))
        general = await raised(4, utc(11, 20, 2), {"response": HOURS * 48})
        await events.meet_clock(conn, general, "response", by=None, what="case", now=utc(11, 21, 2))
        await raised(1, utc(11, 30, 16, 30), {"information": HOURS * 5})
        await raised(4, utc(10, 31, 15, 30), {"response": HOURS * 48})


async def activities_around_the_month(
    bot: TongxinApp, sim: BotApiSimulator, clock: ManualClock, admin_id: int, volunteer: Person
) -> None:
    """One activity held on 11-27 (2 verified hours) and one on 12-01 local (not November's)."""
    env, db = bot.bot_data.env, bot.bot_data.db
    await approved_volunteers(db, [volunteer])
    li = await person_id(db, volunteer)
    november = await an_activity(env, admin_id, starts=shanghai(27, 9))
    december_first = dt.datetime(2026, 12, 1, 9, tzinfo=SHANGHAI)
    december = await an_activity(env, admin_id, starts=december_first)
    for activity, check_in, check_out in (
        (november, shanghai(27, 8, 55), shanghai(27, 11, 10)),
        (december, december_first - dt.timedelta(minutes=5), december_first + dt.timedelta(hours=1, minutes=10)),
    ):
        await activity_actions.sign_up(env, Actor(li, VOLUNTEER), activity)
        for at in (check_in, check_out):
            clock.set(at)
            code = await activity_actions.show_code(env, Actor(admin_id, COORDINATOR), activity)
            await activity_actions.use_code(env, Actor(li, VOLUNTEER), code.code, None)
        await activity_actions.confirm(env, Actor(admin_id, COORDINATOR), activity)
    await delivered(bot, sim)


async def report_pdf_text(person: Person, tmp_path: Path) -> tuple[str, str]:
    """Wait for the report's document; its caption and its text as pdftotext reads it, without whitespace."""
    await person.wait_for(lambda: any(m.kind == "document" for m in person.messages), what="the report", timeout=30)
    document = next(m for m in person.messages if m.kind == "document")
    assert document.document_name == "tongxin-report-2026-11.pdf"
    assert document.document_bytes is not None
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(document.document_bytes)
    return document.text or "", "".join((await asyncio.to_thread(pdf_text, pdf)).split())


# The month's counts are SQL the dialect matters for: on PostgreSQL too.
@pytest.mark.both_databases
async def test_the_monthly_report_counts_the_local_month_as_counted_by_hand(
    bot: TongxinApp, sim: BotApiSimulator, clock: ManualClock, tmp_path: Path
) -> None:
    db = bot.bot_data.db
    admin, admin_id = await start_as_admin(sim, bot)
    await activities_around_the_month(bot, sim, clock, admin_id, sim.person("小李"))
    await wishes_around_the_month(db)
    await tips_around_the_month(db)
    await cases_around_the_month(db)
    await events_around_the_month(db)
    clock.set(utc(12, 3, 2))

    async with db.read() as conn:
        figures = await monthly_figures(conn, Month(2026, 11), bot.bot_data.settings.tz)
    counted = (figures.wishes, figures.tips, figures.media_products, figures.reports_published)
    assert counted == (4, 4, 2, 3)
    assert (figures.projects, figures.activities_held, figures.verified_hours) == (1, 1, 2.0)
    assert figures.events == [EventLevel("II", 1, 1, 2), EventLevel("IV", 1, 1, 0)]
    city, power = figures.rates
    assert (city.name, city.sent, city.response_rate, city.resolution_rate, city.satisfaction_rate) == (
        "城管局",
        2,
        0.5,
        0.5,
        1.0,
    )
    assert (power.name, power.sent, power.response_rate, power.resolution_rate, power.satisfaction_rate) == (
        "供电所",
        0,
        None,
        None,
        None,
    )

    await admin.send_command("/report", "2026-11")
    caption, text = await report_pdf_text(admin, tmp_path)
    assert "2026-11 月度工作报告" in caption
    assert "收集需求 4 条、收到线索 4 条、发布报道 3 篇" in caption
    assert "同心·2026-11月度工作报告" in text
    assert "统计期间：2026-11-01至2026-11-30（Asia/Shanghai）" in text
    for line in (
        "收集需求（心愿）4条",
        "收到线索（报料）4条",
        "开展服务项目1个",
        "举办志愿活动1场",
        "核实服务时长2小时",
        "融媒体产品（采用报料）2件",
        "发布报道3篇",
        "Ⅱ级重大112",
        "Ⅳ级一般110",
        "1城管局250.0%50.0%100.0%",
        "2供电所0暂无数据暂无数据暂无数据",
    ):
        assert line in text, line
    assert "0.0%" not in text.replace("50.0%", "").replace("100.0%", "")


async def test_the_month_words_an_empty_month_and_who_may_ask(
    bot: TongxinApp, sim: BotApiSimulator, clock: ManualClock, tmp_path: Path
) -> None:
    admin, _admin_id = await start_as_admin(sim, bot)
    await tips_around_the_month(bot.bot_data.db)
    clock.set(utc(12, 3, 2))

    await admin.send_command("/report", "2026-09")
    assert "2026-09 没有任何记录" in (await admin.next_message()).text
    await admin.send_command("/report", "2027-01")
    assert "还没有开始" in (await admin.next_message()).text
    await admin.send_command("/report", "13月")
    assert "/report 上月" in (await admin.next_message()).text

    # 上月 on 12-03 is November; /export 月报 sends the same report.
    await admin.send_command("/export", "月报", "上月")
    caption, text = await report_pdf_text(admin, tmp_path)
    assert "收集需求 0 条、收到线索 4 条、发布报道 3 篇" in caption
    assert "融媒体产品（采用报料）2件" in text
    assert "本月没有舆情事件" in text

    # An English-reading coordinator gets the same report in English, 暂无数据 as "no data".
    bob = sim.person("Bob", language_code="en")
    await bob.send_command("/start")
    await bob.next_message()
    async with bot.bot_data.db.write() as conn:
        await users.grant_role(conn, await person_id(conn, bob), "coordinator", granted_by=None, now=clock.now())
    await bob.send_command("/report", "last")
    caption, text = await report_pdf_text(bob, tmp_path)
    assert "0 needs collected, 4 leads received, 3 reports published" in caption
    assert "Mediaproducts(tipsaccepted)2" in text
    assert "Nopublic-opinioneventthismonth." in text

    wang = sim.person("王阿姨")
    await wang.send_command("/report")
    assert "没有权限" in (await wang.next_message()).text
