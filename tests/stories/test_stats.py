"""Stories of /stats: a coordinator asks how the week went and gets the figures and a chart."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.app import TongxinApp
from core.clock import ManualClock
from rules import tips as tip_rules
from rules import wishes as wish_rules
from simulator import BotApiSimulator
from storage import users, wishes
from storage.db import Database
from tests.conftest import ADMIN_ID

# The dialect matters here (SQL the story reaches through the bot): on PostgreSQL too.
pytestmark = pytest.mark.both_databases


async def seed(db: Database, now: dt.datetime) -> None:
    """Three wishes (one claimed after 2 h and confirmed with 3 h of service) and two tips."""
    async with db.write() as conn:
        for uid in (501, 502):
            await users.touch_user(
                conn, user_id=uid, first_name=f"人{uid}", last_name=None, username=None, language="zh-CN", now=now
            )
        made = []
        for category, area in (
            ("free_clinic", "东城社区"),
            ("free_clinic", "西城社区"),
            ("elderly_disabled", "东城社区"),
        ):
            made.append(
                await wishes.insert_wish(
                    conn,
                    resident_id=501,
                    category=category,
                    description="想请医生来村里量血压",
                    area=area,
                    address=None,
                    location=None,
                    photo_file_id=None,
                    phone=None,
                    status="open",
                    now=now - dt.timedelta(days=2),
                )
            )
        claimed_at = now - dt.timedelta(days=2) + dt.timedelta(hours=2)
        await wishes.move_wish(
            conn,
            made[0].id,
            "open",
            "claimed",
            actor_id=502,
            now=claimed_at,
            changes={"claimed_by": 502, "claimed_at": claimed_at},
        )
        await wishes.move_wish(
            conn,
            made[0].id,
            "claimed",
            "done",
            actor_id=502,
            now=now,
            changes={"done_at": now - dt.timedelta(days=1), "hours": 3.0},
        )
        await wishes.move_wish(
            conn, made[0].id, "done", "confirmed", actor_id=501, now=now, changes={"confirmed_at": now}
        )
        for _ in range(2):
            await tip_rules.create_tip(
                conn,
                reporter_id=502,
                by_reporter=True,
                category="livelihood",
                description="村口修路了",
                location=None,
                media=[],
                now=now - dt.timedelta(days=1),
            )
    assert wish_rules.wish_ref(1) == "W-0001"


async def test_coordinator_gets_figures_and_a_chart(
    bot: TongxinApp, sim: BotApiSimulator, story_db: Database, clock: ManualClock
) -> None:
    await seed(story_db, clock.now())
    admin = sim.person("管理员", user_id=ADMIN_ID)
    await admin.send_command("/stats", "7d")
    text = (await admin.next_message()).text
    assert "心愿 3 个" in text
    assert "待认领 2" in text
    assert "义诊服务 2" in text  # the category as the wish form names it
    assert "东城社区 2" in text
    assert "认领用时中位数：2.0 小时" in text
    assert "志愿服务 3.0 小时（1 项已确认）" in text
    assert "报料 2 条" in text
    chart = await admin.next_message()
    assert chart.kind == "photo"
    assert chart.photo_bytes is not None
    assert chart.photo_bytes.startswith(b"\x89PNG")


async def test_residents_get_no_stats(bot: TongxinApp, sim: BotApiSimulator) -> None:
    wang = sim.person("王阿姨")
    await wang.send_command("/stats")
    assert "没有权限" in (await wang.next_message()).text
