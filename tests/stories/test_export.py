"""Stories of /export: a coordinator downloads the month's wishes as a CSV that Excel opens in Chinese."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from bot.app import TongxinApp
from core.clock import ManualClock
from simulator import BotApiSimulator
from storage import users, wishes
from storage.db import Database
from tests.conftest import ADMIN_ID
from tests.stories.wishflow import person_id

# The dialect matters here (SQL the story reaches through the bot): on PostgreSQL too.
pytestmark = pytest.mark.both_databases


async def seed_wish(db: Database, now: dt.datetime, description: str) -> None:
    async with db.write() as conn:
        await users.touch_user(
            conn, user_id=601, first_name="赵大爷", last_name=None, username=None, language="zh-CN", now=now
        )
        await wishes.insert_wish(
            conn,
            resident_id=601,
            category="elderly_disabled",
            description=description,
            area="南湖社区",
            address="南湖路 8 号",
            location=None,
            photo_file_id=None,
            phone="13800138000",
            status="open",
            now=now - dt.timedelta(days=1),
        )


async def test_coordinator_exports_wishes_with_bom_and_phones(
    bot: TongxinApp, sim: BotApiSimulator, story_db: Database, clock: ManualClock
) -> None:
    await seed_wish(story_db, clock.now(), "=想请人帮忙修水管")
    coordinator = sim.person("管理员", user_id=ADMIN_ID)
    await coordinator.send_command("/export", "wishes", "2026-11-01", "2026-11-30")
    reply = await coordinator.next_message()
    assert reply.document_name == "tongxin-wishes-2026-11-01-2026-11-30.csv"
    assert "共 1 行" in reply.text
    data = reply.document_bytes
    assert data is not None
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0]["ref"] == "W-0001"
    assert rows[0]["area"] == "南湖社区"
    assert rows[0]["phone"] == "13800138000"
    assert rows[0]["description"] == "'=想请人帮忙修水管"  # a formula cannot run in Excel


async def test_export_mistakes_and_permissions(bot: TongxinApp, sim: BotApiSimulator) -> None:
    coordinator = sim.person("管理员", user_id=ADMIN_ID)
    await coordinator.send_command("/export", "照片")
    assert "用法" in (await coordinator.next_message()).text
    await coordinator.send_command("/export", "tips", "2026-13-01")
    assert "日期格式不对" in (await coordinator.next_message()).text
    await coordinator.send_command("/export", "hours", "2026-11-30", "2026-11-01")
    assert "结束日期不能早于" in (await coordinator.next_message()).text

    editor = sim.person("周编辑")
    await editor.send_command("/start")
    await editor.next_message()
    async with bot.bot_data.db.write() as conn:
        await users.grant_role(
            conn, await person_id(conn, editor), "editor", granted_by=None, now=bot.bot_data.clock.now()
        )
    await editor.send_command("/export", "tips")
    assert "没有权限" in (await editor.next_message()).text
