"""A bot killed (SIGKILL) halfway through a broadcast to many volunteers (200 in `make test`, 2,000 under the `slow`
marker) and started again: the broadcast
resumes, nobody gets it twice, and the coordinator's one progress message ends with the right totals.

The coordinator confirms the broadcast in the chat of the first bot process; the recipients were
seeded straight into the database. What can be promised (README, "Delivery"): a message on the wire at
the kill is recorded `unknown` and not sent again, so its person has it once if Telegram had accepted it
(the usual case) and not at all if the request never left; everyone else gets it exactly once. The test
checks exactly that, and that the totals shown are the ones the outbox recorded.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, select

from simulator import BotApiSimulator, Person
from storage import outbox
from storage.db import Database
from storage.schema import broadcasts, identities, user_roles, users
from storage.schema import outbox as outbox_table

pytestmark = [pytest.mark.wall_clock, pytest.mark.serial]

FIRST_ID = 6_000_000  # Telegram ids of the volunteers; their person ids are 1, 2, 3 …
BLOCKED_IN_TELEGRAM = range(FIRST_ID, FIRST_ID + 15)  # 403 when the bot tries them
KNOWN_UNREACHABLE = range(FIRST_ID + 15, FIRST_ID + 25)  # already marked: dropped without a try
COORDINATOR = 77  # Telegram id
COORDINATOR_PERSON = 100_000
# A Wednesday morning: no digest or reminder is due, so the broadcast is all the volunteers get.
WEDNESDAY_MORNING = dt.datetime(2026, 12, 2, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
TEXT = "周六上午九点，桃园村义诊，请有空的志愿者报名。"
REPO = Path(__file__).resolve().parents[2]


def person_of(telegram_id: int) -> int:
    """The person id of a seeded volunteer (person ids are not Telegram ids)."""
    return telegram_id - FIRST_ID + 1


async def seed(db: Database, now: dt.datetime, recipients: int) -> None:
    """Volunteers who talked to the bot before, and a coordinator, with their Telegram identities."""
    ids = range(FIRST_ID, FIRST_ID + recipients)
    async with db.write() as conn:
        await conn.execute(
            insert(users),
            [
                {
                    "id": person_of(i),
                    "first_name": f"V{i}",
                    "language": "zh-CN",
                    "created_at": now,
                    "last_seen_at": now,
                    "unreachable": i in KNOWN_UNREACHABLE,
                }
                for i in ids
            ],
        )
        await conn.execute(
            insert(user_roles), [{"user_id": person_of(i), "role": "volunteer", "granted_at": now} for i in ids]
        )
        await conn.execute(
            insert(users),
            [
                {
                    "id": COORDINATOR_PERSON,
                    "first_name": "李协调",
                    "language": "zh-CN",
                    "created_at": now,
                    "last_seen_at": now,
                }
            ],
        )
        await conn.execute(
            insert(user_roles), [{"user_id": COORDINATOR_PERSON, "role": "coordinator", "granted_at": now}]
        )
        accounts = [(person_of(i), i) for i in ids] + [(COORDINATOR_PERSON, COORDINATOR)]
        await conn.execute(
            insert(identities),
            [
                {"channel": "telegram", "external_id": str(telegram_id), "person_id": person, "created_at": now}
                for person, telegram_id in accounts
            ],
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
            WEDNESDAY_MORNING.isoformat(),
        ],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def received(people: list[Person]) -> int:
    return sum(len(person.messages) for person in people)


def progress_texts(coordinator: Person) -> list[str]:
    return [m.text or "" for m in coordinator.messages if (m.text or "").startswith(("群发中", "群发完成"))]


def shown_count(text: str) -> int:
    """The `sent` of "群发中：已发送 sent/total"."""
    found = re.search(r"已发送 (\d+)/", text)
    assert found is not None, text
    return int(found.group(1))


@pytest.mark.timeout(420)
@pytest.mark.parametrize("recipients", [200, pytest.param(2_000, marks=pytest.mark.slow)])
async def test_a_killed_bot_resumes_the_broadcast_and_its_progress_message(
    sim: BotApiSimulator, sqlite_db: Database, recipients: int
) -> None:
    await seed(sqlite_db, WEDNESDAY_MORNING.astimezone(dt.UTC) - dt.timedelta(days=1), recipients)
    people = [sim.person(f"V{i}", user_id=i) for i in range(FIRST_ID, FIRST_ID + recipients)]
    for user_id in BLOCKED_IN_TELEGRAM:
        sim.block(user_id)
    coordinator = sim.person("李协调", user_id=COORDINATOR)

    first = start_bot(sqlite_db, sim)
    try:
        await coordinator.send_command("/broadcast")
        await coordinator.wait_for_text("要群发给谁", timeout=30)
        await coordinator.press("志愿者")
        await coordinator.wait_for_text("请发送要群发的文字")
        await coordinator.send_text(TEXT)
        preview = await coordinator.wait_for_text(f"共 {recipients} 人")
        await coordinator.press("确认发送", message=preview)
        await sim.wait_until(lambda: received(people) >= recipients // 2, timeout=120, what="half the broadcast")
        first.send_signal(signal.SIGKILL)
    finally:
        first.kill()
        first.wait()
    at_kill = received(people)
    assert at_kill < recipients - len(BLOCKED_IN_TELEGRAM)
    # The confirmation question became the progress message, and it was counting up when the bot died.
    [progress_at_kill] = progress_texts(coordinator)
    assert progress_at_kill.startswith("群发中")
    assert 0 < shown_count(progress_at_kill) < recipients

    second = start_bot(sqlite_db, sim)
    try:
        await sim.wait_until(
            lambda: any(t.startswith("群发完成") for t in progress_texts(coordinator)),
            timeout=180,
            what="the final totals on the progress message",
        )
        await sim.settle(quiet=1.0, timeout=30)
    finally:
        second.send_signal(signal.SIGTERM)
        await asyncio.to_thread(second.wait, 30)

    async with sqlite_db.read() as conn:
        rows = (
            await conn.execute(
                select(outbox_table.c.recipient_id, outbox_table.c.status).where(
                    outbox_table.c.dedupe_key.startswith("broadcast:")
                )
            )
        ).all()
        [record] = (await conn.execute(select(broadcasts))).mappings().all()
        statuses = await outbox.count_by_status(conn)
    # By Telegram id, as the simulated people are known (the rows name person ids).
    status_of = {int(recipient) - 1 + FIRST_ID: str(status) for recipient, status in rows}
    assert len(status_of) == len(rows) == recipients  # one row per person, written once
    uncertain = {person for person, status in status_of.items() if status == "unknown"}

    # Nobody got it twice; everyone reachable got it exactly once, except at most the rows on the wire at
    # the kill (recorded `unknown`, not resent: the person has it if Telegram had already accepted it).
    counts = {person.user_id: len(person.messages) for person in people}
    assert max(counts.values()) == 1
    missing = {user_id for user_id, count in counts.items() if count == 0}
    assert missing == set(BLOCKED_IN_TELEGRAM) | set(KNOWN_UNREACHABLE) | (missing & uncertain)
    assert len(uncertain) <= 32  # the sender's concurrency bounds what can be on the wire
    assert all(TEXT in (person.messages[0].text or "") for person in people if person.messages)
    assert {status_of[i] for i in BLOCKED_IN_TELEGRAM} == {"failed"}
    assert {status_of[i] for i in KNOWN_UNREACHABLE} == {"dropped"}
    assert statuses.get("pending", 0) == statuses.get("sending", 0) == 0

    # One progress message, edited to the final totals the outbox recorded.
    [final] = progress_texts(coordinator)
    delivered = sum(1 for status in status_of.values() if status == "sent")
    unreachable = len(BLOCKED_IN_TELEGRAM) + len(KNOWN_UNREACHABLE)
    assert f"共 {recipients} 人" in final
    assert f"送达 {delivered} 人" in final
    assert f"无法送达 {unreachable} 人" in final
    if uncertain:
        assert f"另有 {len(uncertain)} 人" in final
    assert delivered + unreachable + len(uncertain) == recipients
    assert delivered <= recipients - len(missing) <= delivered + len(uncertain)
    assert (record["status"], record["total"], record["delivered"]) == ("done", recipients, delivered)
    assert record["finished_at"] is not None
    assert sim.invalid_requests == []
