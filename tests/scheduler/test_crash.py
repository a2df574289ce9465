"""A bot killed (SIGKILL) in the middle of a weekly digest to many volunteers (200 in `make test`, 1,000 under
the `slow` marker) and started again: every person ends with exactly one digest. The restarted bot sweeps again
and finds every digest already written; the sender resumes the pending rows, and the rows that were on the wire at
the kill are not sent twice."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert

from rules import wishes
from simulator import BotApiSimulator, Person
from storage import outbox
from storage.db import Database
from storage.schema import identities, user_roles, users, volunteer_skills, volunteers

pytestmark = [pytest.mark.wall_clock, pytest.mark.serial]

FIRST_ID = 5_000_000
MONDAY_MORNING = dt.datetime(2026, 11, 30, 9, 0, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
REPO = Path(__file__).resolve().parents[2]


async def enrol_volunteers(db: Database, now: dt.datetime, readers: int) -> None:
    """`readers` volunteers who do free clinics, and one open free-clinic wish for them to hear about."""
    ids = range(FIRST_ID, FIRST_ID + readers)
    async with db.write() as conn:
        await conn.execute(
            insert(users),
            [
                {"id": i, "first_name": f"V{i}", "language": "zh-CN", "created_at": now, "last_seen_at": now}
                for i in ids
            ],
        )
        # People from before internal ids: their person id is their Telegram id, reached through their identity.
        await conn.execute(
            insert(identities),
            [{"channel": "telegram", "external_id": str(i), "person_id": i, "created_at": now} for i in ids],
        )
        await conn.execute(insert(user_roles), [{"user_id": i, "role": "volunteer", "granted_at": now} for i in ids])
        await conn.execute(
            insert(volunteers), [{"user_id": i, "name": f"V{i}", "created_at": now, "updated_at": now} for i in ids]
        )
        await conn.execute(insert(volunteer_skills), [{"user_id": i, "category": "free_clinic"} for i in ids])
        await conn.execute(insert(users), [{"id": 42, "first_name": "王阿姨", "created_at": now, "last_seen_at": now}])
        await wishes.submit_wish(
            conn,
            wishes.WishDraft("free_clinic", "请帮我量血压，谢谢志愿者"),
            resident_id=42,
            now=now,
            review=False,
            daily_limit=5,
        )


def start_bot(db: Database, sim: BotApiSimulator) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.scheduler.bot_process",
            str(db.url),
            sim.api_url,
            sim.file_url,
            MONDAY_MORNING.isoformat(),
        ],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def digests_delivered(people: list[Person]) -> int:
    return sum(len(person.messages) for person in people)


@pytest.mark.timeout(300)
@pytest.mark.parametrize("readers", [200, pytest.param(1_000, marks=pytest.mark.slow)])
async def test_a_killed_bot_resumes_the_digest_and_nobody_gets_it_twice(
    sim: BotApiSimulator, sqlite_db: Database, readers: int
) -> None:
    await enrol_volunteers(sqlite_db, MONDAY_MORNING.astimezone(dt.UTC) - dt.timedelta(days=1), readers)
    people = [sim.person(f"V{i}", user_id=i) for i in range(FIRST_ID, FIRST_ID + readers)]

    first = start_bot(sqlite_db, sim)
    try:
        killed_at = readers * 3 // 10
        await sim.wait_until(lambda: digests_delivered(people) >= killed_at, timeout=90, what=f"{killed_at} digests")
        first.send_signal(signal.SIGKILL)
    finally:
        first.kill()
        first.wait()
    at_kill = digests_delivered(people)
    assert at_kill < readers

    second = start_bot(sqlite_db, sim)
    try:
        await sim.wait_until(lambda: all(p.messages for p in people), timeout=120, what="every digest")
        await sim.settle(quiet=1.0, timeout=30)
    finally:
        second.send_signal(signal.SIGTERM)
        await asyncio.to_thread(second.wait, 30)

    counts = [len(person.messages) for person in people]
    assert counts == [1] * readers
    assert all("本周摘要" in person.messages[0].text for person in people)
    async with sqlite_db.read() as conn:
        statuses = await outbox.count_by_status(conn)
    # The rows on the wire at the kill arrived (everyone has exactly one) and were not sent again. Usually one; two
    # when the kill came while a slow answer overlapped the next request; never more than the sender's concurrency.
    assert statuses.get("sent", 0) + statuses.get("unknown", 0) == readers
    assert statuses.get("unknown", 0) <= 32
    assert sim.invalid_requests == []
