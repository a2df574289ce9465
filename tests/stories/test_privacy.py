"""Stories of privacy on Telegram: a person downloads what is kept as a JSON file, and erasing reaches every table
their data reached (a wish, a volunteer's profile, a tip, notices to others — one on the wire taken back); their
counts remain. Reading the notice, being asked first and erasing oneself is the resident's privacy journey, written
once for both channels: tests/journeys/test_privacy.py."""

from __future__ import annotations

import asyncio
import html
import json
from typing import Any

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from actions import notices
from actions.messages import Notice
from bot.app import TongxinApp
from core.clock import ManualClock
from rules import tips as tip_rules
from simulator import BotApiSimulator
from storage import users, volunteers, wishes
from storage.db import Database
from storage.schema import outbox
from storage.tips import MediaItem
from tests.stories.wishflow import person_id

# The dialect matters here (SQL the story reaches through the bot): on PostgreSQL too.
pytestmark = pytest.mark.both_databases

NAME = "王秀英"
PHONE = "+86 138 0000 1234"
LOCATION = (31.2304, 121.4737)


def variants(value: str) -> set[str]:
    """A value as a column may hold it: raw, HTML-escaped, JSON-escaped (with and without ASCII escapes)."""
    return {
        value,
        html.escape(value),
        html.escape(value, quote=False),
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
    }


async def traces_of(db: Database, needles: list[str], coordinates: tuple[float, float]) -> list[str]:
    """Every (table.column) in the whole database holding one of `needles` (in any stored form: raw, HTML- or
    JSON-escaped; outbox payloads and event notes included) or one of the coordinates."""
    found: list[str] = []
    async with db.read() as conn:

        def tables_and_columns(sync_conn: Any) -> dict[str, list[str]]:
            inspector = inspect(sync_conn)
            return {t: [c["name"] for c in inspector.get_columns(t)] for t in inspector.get_table_names()}

        layout = await conn.run_sync(tables_and_columns)
        for table, columns in layout.items():
            for column in columns:
                found += await _matches(conn, table, column, needles, coordinates)
    return found


async def _matches(
    conn: AsyncConnection, table: str, column: str, needles: list[str], coordinates: tuple[float, float]
) -> list[str]:
    rows = (await conn.execute(text(f'SELECT "{column}" FROM "{table}"'))).scalars().all()
    hits = []
    for value in rows:
        as_text = json.dumps(value, ensure_ascii=False, default=str) if not isinstance(value, str) else value
        if any(form in as_text for needle in needles for form in variants(needle)):
            hits.append(f"{table}.{column}={as_text[:60]}")
        if isinstance(value, float) and any(abs(value - c) < 1e-6 for c in coordinates):
            hits.append(f"{table}.{column}={value}")
    return hits


async def test_mydata_is_a_document_with_what_is_stored(bot: TongxinApp, sim: BotApiSimulator) -> None:
    wang = sim.person(NAME, username="wang_xy")
    await wang.send_command("/start")
    await wang.next_message()
    await wang.send_command("/mydata")
    reply = await wang.next_message()
    assert reply.document_name == f"tongxin-mydata-{await person_id(bot.bot_data.db, wang)}.json"
    assert reply.document_bytes is not None
    document = json.loads(reply.document_bytes.decode("utf-8"))
    assert document["user_id"] == await person_id(bot.bot_data.db, wang)
    assert document["data"]["users"][0]["first_name"] == NAME
    assert document["data"]["users"][0]["username"] == "wang_xy"


async def test_deleteme_erases_the_person_from_every_table_their_data_reached(
    bot: TongxinApp, sim: BotApiSimulator, story_db: Database, clock: ManualClock
) -> None:
    """She asked for help, volunteered, sent a tip, and her phone and place went to the volunteer who claimed."""
    wang = sim.person(NAME, username="wangxiuying", phone=PHONE)
    li = sim.person("李志愿")
    for person in (wang, li):
        await person.send_command("/start")
        await person.next_message()
    now = clock.now()
    async with story_db.write() as conn:
        await users.set_phone(conn, await person_id(conn, wang), PHONE)
        await wishes.insert_wish(
            conn,
            resident_id=await person_id(conn, wang),
            category="elderly_disabled",
            description=f"我是{NAME}，腿脚不便，想请人帮忙取药",
            area="东城社区",
            address="东城路 12 号 3 单元",
            location=LOCATION,
            photo_file_id="AgACAgQAAxkBAAIBwish",
            phone=PHONE,
            status="open",
            now=now,
        )
        await volunteers.save_volunteer(
            conn,
            user_id=await person_id(conn, wang),
            name=NAME,
            phone=PHONE,
            skills=["elderly_disabled"],
            area="东城社区",
            location=LOCATION,
            now=now,
        )
        await tip_rules.create_tip(
            conn,
            reporter_id=await person_id(conn, wang),
            by_reporter=True,
            category="livelihood",
            description=f"{NAME}拍到东城路积水",
            location=LOCATION,
            media=[MediaItem("photo", "AgACAgQAAxkBAAIBtip", "uniq-tip")],
            now=now,
        )
    await bot.bot_data.notifier.notify(
        await person_id(story_db, li),
        Notice("privacy.erased_notice", {"phone": PHONE, "name": NAME}, location=LOCATION),
        dedupe_key="test:claim-details",
    )
    await li.wait_for(lambda: len(li.messages) >= 3)
    needles = [NAME, PHONE, "wangxiuying", "东城路 12 号", "AgACAgQAAxkBAAIBwish", "AgACAgQAAxkBAAIBtip"]
    before = await traces_of(story_db, needles, LOCATION)
    for table in ("users", "wishes", "volunteers", "tips", "media_refs", "outbox"):  # file ids live in media_refs
        assert any(hit.startswith(f"{table}.") for hit in before), f"the story left nothing in {table}"

    await wang.send_command("/deleteme")
    await wang.next_message()
    await wang.press("确认删除")
    await wang.wait_for_text("已删除您的个人信息")
    await sim.settle()

    assert await traces_of(story_db, needles, LOCATION) == []
    async with story_db.read() as conn:
        kept = await wishes.wishes_of_resident(conn, await person_id(conn, wang))
    assert len(kept) == 1  # the wish still counts
    assert kept[0].category == "elderly_disabled"


async def test_a_notice_on_the_wire_when_its_subject_erases_themselves_is_taken_back(
    bot: TongxinApp, sim: BotApiSimulator, story_db: Database, clock: ManualClock
) -> None:
    """Telegram has taken a notice naming 王秀英 for 李, its answer still on the way, when she erases herself: once
    the answer arrives the sender sees her erasure and deletes the message from 李's chat."""
    wang = sim.person(NAME, username="wangxiuying", phone=PHONE)
    li = sim.person("李志愿")
    for person in (wang, li):
        await person.send_command("/start")
        await person.next_message()
    held = sim.hold_answer("sendMessage", li.chat_id)
    async with story_db.write() as conn:
        await notices.queue(
            conn,
            await person_id(conn, li),
            Notice("department.member_joined", {"name": NAME, "department": "城管"}),
            now=clock.now(),
            dedupe_key="test:on-the-wire",
            about=[await person_id(conn, wang)],
        )
    bot.bot_data.env.wake()
    await asyncio.wait_for(held.taken.wait(), 10)
    assert any(NAME in (message.text or "") for message in li.messages), "Telegram took it: it is in her chat"

    await wang.send_command("/deleteme")
    await wang.next_message()
    await wang.press("确认删除")
    await wang.wait_for_text("已删除您的个人信息")
    held.release()
    await li.wait_for(lambda: not any(NAME in (message.text or "") for message in li.messages))

    on_the_wire = select(outbox.c.status, outbox.c.payload).where(outbox.c.dedupe_key == "test:on-the-wire")
    for _ in range(100):  # the sender records the withdrawal right after the deleteMessage answer
        async with story_db.read() as conn:
            row = (await conn.execute(on_the_wire)).one()
        if row.status != "sending":
            break
        await asyncio.sleep(0.05)
    assert row.status == "withdrawn"
    assert NAME not in json.dumps(row.payload, ensure_ascii=False)
    assert [r.method for r in sim.records if r.method == "deleteMessage" and r.chat_id == li.chat_id] == [
        "deleteMessage"
    ]
