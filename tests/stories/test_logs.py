"""Stories of what reaches the logs (issue 12): a broken proxy answers the Bot API calls with malformed HTTP, and a
database error breaks a resident's wish submission while her name, phone, address, place and words flow through
the bot. The captured log — every logger, every level from INFO — holds neither the token nor any of them."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import text

from bot.app import TongxinApp
from core.logs import redact, redacted_update
from simulator import BotApiSimulator
from storage.db import Database
from tests.conftest import TEST_TOKEN
from tests.stories.wishflow import ADDRESS, DESCRIPTION, write_wish

NAME = "王秀英"
LAST_NAME = "O'Brien & 李"
USERNAME = "wang_xiuying_1957"
PHONE = "+8613800001234"
PLACE = (31.2304, 121.4737)


async def break_wish_inserts(db: Database) -> None:
    """Every INSERT into wishes fails in the database itself (a trigger), as a broken disk or schema would."""
    async with db.write() as conn:
        if db.is_sqlite:
            await conn.execute(
                text(
                    "CREATE TRIGGER planted_failure BEFORE INSERT ON wishes "
                    "BEGIN SELECT RAISE(ABORT, 'planted failure'); END"
                )
            )
        else:
            await conn.execute(
                text(
                    "CREATE FUNCTION planted_failure() RETURNS trigger AS "
                    "$$ BEGIN RAISE EXCEPTION 'planted failure'; END $$ LANGUAGE plpgsql"
                )
            )
            await conn.execute(
                text(
                    "CREATE TRIGGER planted_failure BEFORE INSERT ON wishes "
                    "FOR EACH ROW EXECUTE FUNCTION planted_failure()"
                )
            )


async def repair_wish_inserts(db: Database) -> None:
    async with db.write() as conn:
        await conn.execute(text("DROP TRIGGER planted_failure" + ("" if db.is_sqlite else " ON wishes")))


async def test_logs_hold_no_token_and_no_personal_data_through_faults(
    bot: TongxinApp, sim: BotApiSimulator, story_db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    sim.garble("getUpdates", times=3)
    wang = sim.person(NAME, last_name=LAST_NAME, username=USERNAME, phone=PHONE)
    wang.location = PLACE
    await wang.send_command("/start")
    await wang.wait_for_text("您好", timeout=30)
    await break_wish_inserts(story_db)
    await write_wish(wang)
    await wang.wait_for(lambda: any("出了点问题" in answer for answer in wang.callback_answers))
    await repair_wish_inserts(story_db)
    await wang.press("✅ 提交")
    await wang.wait_for_text("W-0001")
    await wang.send_location(*PLACE)
    await sim.settle()

    logged = caplog.text
    assert sim.records, "the bot talked to the simulator"
    assert "planted failure" in logged, "the database error was logged"
    assert "getUpdates" in logged or "polling" in logged, "the malformed responses were logged"
    planted = [
        TEST_TOKEN,
        NAME,
        "O'Brien",
        USERNAME,
        PHONE,
        "138 0000",
        DESCRIPTION[:8],
        ADDRESS,
        "31.2304",
        "121.4737",
    ]
    assert [value for value in planted if value in logged] == []


def test_redaction_covers_any_token_shape_and_debug_dumps_blank_personal_fields() -> None:
    assert (
        redact("POST http://proxy/bot987654:AAbbCC-dd_ee/sendMessage") == "POST http://proxy/bot[redacted]/sendMessage"
    )
    assert "[redacted]" in redact("token=1234567890:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0")
    assert (
        redact("outbox row 5 (wish-released:105:2026-11-26T02:00)")
        == "outbox row 5 (wish-released:105:2026-11-26T02:00)"
    )
    dump = redacted_update(
        {"update_id": 5, "message": {"text": DESCRIPTION, "from": {"id": 7, "first_name": NAME}, "chat": {"id": 7}}}
    )
    assert dump == {
        "update_id": 5,
        "message": {"text": "[redacted]", "from": {"id": 7, "first_name": "[redacted]"}, "chat": {"id": 7}},
    }
