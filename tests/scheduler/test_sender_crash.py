"""A bot killed (SIGKILL) while a digest goes out, the moment Telegram took one person's digest and before its outbox
row was marked sent (a fault hook of scheduler/sender.py), and started again (issue 30). Nobody can tell from the Bot
API whether such a request arrived: the design's answer is "sent at most once" — the row is marked `unknown`, not
sent again, and said so at start-up — while everyone else's digest goes out exactly once."""

from __future__ import annotations

import asyncio
import signal

import pytest
from sqlalchemy import select

from actions.messages import notice_to_payload
from benchmarks.delivery import DIGEST
from simulator import BotApiSimulator
from storage import outbox
from storage.db import Database
from storage.schema import outbox as outbox_table
from tests.conftest import START_TIME
from tests.scheduler.test_conversation_crash import start_bot
from tests.stories.wishflow import given_person

pytestmark = [pytest.mark.wall_clock, pytest.mark.serial]


async def statuses(db: Database) -> dict[str, str]:
    """Each digest row's status, by dedupe key."""
    async with db.read() as conn:
        rows = await conn.execute(select(outbox_table.c.dedupe_key, outbox_table.c.status))
        return {row.dedupe_key: row.status for row in rows}


async def settled(db: Database) -> dict[str, int]:
    """The outbox's rows by status once none is pending or on the wire (within 10 s)."""
    for _ in range(100):
        async with db.read() as conn:
            counted = await outbox.count_by_status(conn)
        if not counted.get("pending") and not counted.get("sending"):
            break
        await asyncio.sleep(0.1)
    return counted


@pytest.mark.timeout(180)
async def test_a_digest_row_on_the_wire_at_a_kill_is_sent_at_most_once_and_counted_unknown(
    sim: BotApiSimulator, story_db: Database, capfd: pytest.CaptureFixture[str]
) -> None:
    people = [sim.person(name) for name in ("王阿姨", "李大爷", "张老师")]
    async with story_db.write() as conn:
        for person in people:
            await outbox.enqueue(
                conn,
                recipient_id=await given_person(conn, person),
                payload=notice_to_payload(DIGEST),
                lane="bulk",
                dedupe_key=f"digest:crash:{person.first_name}",
                now=START_TIME,
            )
    bot = start_bot(story_db, sim, kill_while_sending="bulk")
    try:
        assert await asyncio.to_thread(bot.wait, 60) == -signal.SIGKILL
    finally:
        bot.kill()
        bot.wait()
    # One digest reached its person; its row still says it is on the wire.
    assert sorted(len(person.messages) for person in people) == [0, 0, 1]
    assert sorted((await statuses(story_db)).values()) == ["pending", "pending", "sending"]
    capfd.readouterr()

    bot = start_bot(story_db, sim)
    try:
        await people[0].wait_for(lambda: all(person.messages for person in people), timeout=60, what="every digest")
        counted = await settled(story_db)
    finally:
        bot.send_signal(signal.SIGTERM)
        await asyncio.to_thread(bot.wait, 30)
    # Everyone has the digest once: the row on the wire was not sent again, and it is counted as unknown.
    assert [len(person.messages) for person in people] == [1, 1, 1]
    assert counted == {"sent": 2, "unknown": 1}
    assert "1 messages were on the wire when the bot last stopped" in capfd.readouterr().err
    assert sim.invalid_requests == []
