"""/export of many rows: written in chunks, every row once, zipped when large, refused clearly when too large."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from typing import Any

import pytest
from sqlalchemy import insert

from actions import exports
from bot.app import TongxinApp
from core.clock import ManualClock
from simulator import BotApiSimulator
from storage import users
from storage.db import Database
from storage.schema import volunteers, wishes
from tests.conftest import ADMIN_ID

# The dialect matters here (SQL the story reaches through the bot): on PostgreSQL too.
pytestmark = pytest.mark.both_databases

ROWS = 2 * exports.CHUNK_ROWS + 7  # three chunks, the last one short


async def seed_wishes(db: Database, now: dt.datetime) -> None:
    async with db.write() as conn:
        await users.touch_user(
            conn, user_id=601, first_name="赵大爷", last_name=None, username=None, language="zh-CN", now=now
        )
        await conn.execute(
            insert(wishes),
            [
                {
                    "ref_no": n,
                    "resident_id": 601,
                    "category": "elderly_disabled",
                    "description": f"第{n}号心愿：想请人帮忙修水管",
                    "area": "南湖社区",
                    "status": "open",
                    "created_at": now - dt.timedelta(days=1, minutes=n),
                    "updated_at": now,
                }
                for n in range(1, ROWS + 1)
            ],
        )


async def test_a_large_export_arrives_whole_and_zipped(
    bot: TongxinApp, sim: BotApiSimulator, story_db: Database, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    await seed_wishes(story_db, clock.now())
    monkeypatch.setattr(exports, "ZIP_ABOVE_BYTES", 100_000)
    coordinator = sim.person("管理员", user_id=ADMIN_ID)
    await coordinator.send_command("/export", "wishes", "2026-11-01", "2026-11-30")
    reply = await coordinator.next_message()
    assert reply.document_name == "tongxin-wishes-2026-11-01-2026-11-30.zip"
    assert f"共 {ROWS} 行" in reply.text
    assert "已压缩为 zip" in reply.text
    assert reply.document_bytes is not None
    with zipfile.ZipFile(io.BytesIO(reply.document_bytes)) as archive:
        assert archive.namelist() == ["tongxin-wishes-2026-11-01-2026-11-30.csv"]
        data = archive.read("tongxin-wishes-2026-11-01-2026-11-30.csv")
    assert data.startswith(b"\xef\xbb\xbf")
    assert data.count(b"\xef\xbb\xbf") == 1
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert sorted(int(row["ref"][2:]) for row in rows) == list(range(1, ROWS + 1))


async def test_an_export_upload_that_fails_is_sent_again_whole(
    bot: TongxinApp, sim: BotApiSimulator, story_db: Database, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file is streamed from disk; Telegram answers 502 while it is being sent, and the retry once Telegram is
    back delivers the very bytes the export wrote (not the rest of the file, nor nothing)."""
    await seed_wishes(story_db, clock.now())
    written: list[bytes] = []
    export_file = exports.export_file

    async def keep_a_copy(*args: Any, **kwargs: Any) -> exports.Export:
        export = await export_file(*args, **kwargs)
        assert export.path is not None
        written.append(export.path.read_bytes())
        return export

    monkeypatch.setattr(exports, "export_file", keep_a_copy)
    coordinator = sim.person("管理员", user_id=ADMIN_ID)
    sim.fail_writes(502, "Bad Gateway")
    await coordinator.send_command("/export", "wishes", "2026-11-01", "2026-11-30")
    await coordinator.wait_for(lambda: sim.failed_count >= 2, timeout=30)  # the upload failed, and its retry too
    assert coordinator.messages == []
    sim.resume_writes()
    reply = await coordinator.next_message(timeout=30)
    assert reply.document_name == "tongxin-wishes-2026-11-01-2026-11-30.csv"
    assert len(written) == 1
    assert len(written[0]) > 100_000  # more than one of the chunks it is streamed in
    assert reply.document_bytes == written[0]
    assert len(coordinator.messages) == 1


async def test_an_export_over_the_upload_limit_is_refused_with_what_to_do(
    bot: TongxinApp, sim: BotApiSimulator, story_db: Database, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    await seed_wishes(story_db, clock.now())
    monkeypatch.setattr(exports, "ZIP_ABOVE_BYTES", 100_000)
    monkeypatch.setattr(exports, "LIMIT_BYTES", 1_000)
    coordinator = sim.person("管理员", user_id=ADMIN_ID)
    await coordinator.send_command("/export", "wishes", "2026-11-01", "2026-11-30")
    reply = await coordinator.next_message()
    assert reply.document_name is None
    assert f"有 {ROWS} 行" in (reply.text or "")
    assert "请缩短日期范围" in (reply.text or "")


async def test_the_hours_export_streams_every_volunteer_most_hours_first(
    bot: TongxinApp, sim: BotApiSimulator, story_db: Database, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hours are summed per volunteer by the database and read through a cursor in chunks: with chunks of 3, seven
    volunteers come in three, every one once, in the order of the sum."""
    monkeypatch.setattr(exports, "CHUNK_ROWS", 3)
    now = clock.now()
    async with story_db.write() as conn:
        for person in (601, *range(700, 707)):
            await users.touch_user(
                conn, user_id=person, first_name=f"人{person}", last_name=None, username=None, language="zh-CN", now=now
            )
        await conn.execute(
            insert(volunteers),
            [
                {"user_id": v, "name": f"志愿者{v}", "area": "南湖社区", "created_at": now, "updated_at": now}
                for v in range(700, 707)
            ],
        )
        # Volunteer 700 + k did k + 1 wishes of 1.5 hours each: 706 has the most.
        wish_rows = [
            {
                "ref_no": 1000 + 10 * k + n,
                "resident_id": 601,
                "category": "elderly_disabled",
                "description": "想请人帮忙修水管",
                "status": "confirmed",
                "claimed_by": 700 + k,
                "hours": 1.5,
                "confirmed_at": now - dt.timedelta(days=1),
                "created_at": now - dt.timedelta(days=2),
                "updated_at": now,
            }
            for k in range(7)
            for n in range(k + 1)
        ]
        await conn.execute(insert(wishes), wish_rows)
    coordinator = sim.person("管理员", user_id=ADMIN_ID)
    await coordinator.send_command("/export", "hours", "2026-11-01", "2026-11-30")
    reply = await coordinator.next_message()
    assert reply.document_bytes is not None
    rows = list(csv.DictReader(io.StringIO(reply.document_bytes.decode("utf-8-sig"))))
    assert [row["volunteer_id"] for row in rows] == [str(v) for v in range(706, 699, -1)]
    assert [float(row["hours"]) for row in rows] == [1.5 * (k + 1) for k in range(6, -1, -1)]
    assert "共 7 行" in reply.text
