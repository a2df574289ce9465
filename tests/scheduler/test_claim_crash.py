"""A bot killed (SIGKILL) right after a claim commits, and started again: the resident's notice, the
whistle summary edit, the coordinator's notice and every follower's notice go out exactly once.

The fault comes from outside: a coordinator whistles, then Telegram (the simulator) puts the bot in a
flood wait, so whatever the bot tries to send after the claim is refused with 429 and stays in the
outbox. Once the database shows the wish claimed with its notices pending, the process is killed;
the flood wait ends; a new process sends each notice once. (Before the action core, the claim handler
queued those notices one by one after the commit, behind its own replies, so the kill lost them.)"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from simulator import BotApiSimulator
from simulator.people import Person
from storage import followers, users
from storage import wishes as store
from storage.db import Database
from storage.schema import outbox, whistles
from tests.conftest import START_TIME
from tests.stories.wishflow import approved_volunteers, given_person, open_wish, person_id, wait_for_button

pytestmark = [pytest.mark.wall_clock, pytest.mark.serial]

REPO = Path(__file__).resolve().parents[2]
BOT_START = START_TIME + dt.timedelta(minutes=5)  # Thursday 10:05 in Shanghai: no quiet hours, no digest due
FOLLOWERS = 3
# The notices that follow from the claim, by the start of their dedupe keys.
CLAIM_EFFECTS = ("wish-claimed:", "follow:", "whistle-summary:", "whistle-claimed:")


def start_bot(db: Database, sim: BotApiSimulator, start: dt.datetime = BOT_START) -> subprocess.Popen[bytes]:
    """The real bot as its own process, against the simulator and the test's database, its clock at `start`."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.scheduler.bot_process",
            str(db.url),
            sim.api_url,
            sim.file_url,
            start.isoformat(),
        ],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


async def given_people(db: Database, sim: BotApiSimulator) -> tuple[Person, Person, Person, list[Person]]:
    """A resident's open wish that three neighbours follow, a volunteer who can take it, a coordinator."""
    alice, xiaozhang, zhou = sim.person("王阿姨"), sim.person("小张"), sim.person("周协调")
    neighbours = [sim.person(f"邻居{i}") for i in range(FOLLOWERS)]
    wish = await open_wish(db, alice)
    await approved_volunteers(db, [xiaozhang])
    async with db.write() as conn:
        zhou_id = await given_person(conn, zhou)
        neighbour_ids = [await given_person(conn, neighbour) for neighbour in neighbours]
        await users.grant_role(conn, zhou_id, "coordinator", granted_by=None, now=START_TIME)
        for neighbour_id in neighbour_ids:
            await followers.follow(conn, wish.id, neighbour_id, now=START_TIME)
    return alice, xiaozhang, zhou, neighbours


async def claim_effects(db: Database) -> list[tuple[str, str, int]]:
    """The outbox rows the claim wrote: (dedupe key, status, attempts)."""
    async with db.read() as conn:
        rows = await conn.execute(select(outbox.c.dedupe_key, outbox.c.status, outbox.c.attempts))
        return [(key, status, attempts) for key, status, attempts in rows if key.startswith(CLAIM_EFFECTS)]


async def claimed_with_notices_pending(db: Database, volunteer: Person) -> bool:
    """The claim committed and every notice it owes is in the outbox, none of them on the wire."""
    async with db.read() as conn:
        wish = await store.get_wish_by_ref(conn, 1)
        volunteer_id = await person_id(conn, volunteer)
    effects = await claim_effects(db)
    return (
        wish.claimed_by == volunteer_id
        and len(effects) == 3 + FOLLOWERS
        and all(status == "pending" for _, status, _ in effects)
    )


async def wait_for_db(predicate: Callable[[], Awaitable[bool]], timeout: float = 30.0) -> None:  # noqa: ASYNC109
    """Poll the database until the predicate holds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("the database never reached the expected state")
        await asyncio.sleep(0.1)


def received(sim: BotApiSimulator, person: Person, text: str) -> int:
    """How many messages containing `text` reached the person."""
    return sum(text in (message.text or "") for message in sim.sent_to(person.user_id))


def summary_edits(sim: BotApiSimulator, zhou: Person, message_id: int) -> int:
    """How many times the coordinator's summary message was successfully edited."""
    return sum(
        1
        for record in sim.records
        if record.method == "editMessageText"
        and record.ok
        and record.chat_id == zhou.user_id
        and record.params.get("message_id") == message_id
    )


@pytest.mark.timeout(240)
async def test_a_bot_killed_right_after_a_claim_sends_every_notice_of_it_once(
    sim: BotApiSimulator, sqlite_db: Database
) -> None:
    alice, xiaozhang, zhou, neighbours = await given_people(sqlite_db, sim)

    first = start_bot(sqlite_db, sim)
    try:
        # The coordinator whistles; the summary is a direct reply whose message id is stored.
        await zhou.send_command("/whistle", "W-0001")
        summary = await zhou.wait_for_text("已为 W-0001 吹哨", timeout=60)
        await xiaozhang.wait_for_text("中心吹哨", timeout=30)
        await wait_for_button(xiaozhang, "今天认领", timeout=30)

        async def summary_stored() -> bool:
            async with sqlite_db.read() as conn:
                return (await conn.execute(select(whistles.c.summary_message_id))).scalar() == summary.message_id

        await wait_for_db(summary_stored)
        await sim.settle(quiet=0.5, timeout=30)

        # Telegram puts the bot in a flood wait; the volunteer claims from the whistle.
        sim.stall_writes(retry_after=120)
        claim_query = await xiaozhang.press("今天认领")
        await wait_for_db(lambda: claimed_with_notices_pending(sqlite_db, xiaozhang))
        # Nothing moves any more (the bot waits out the 429): every update is confirmed, no request is
        # made, and the notices are still pending. Kill it here.
        await sim.settle(quiet=0.8, timeout=60)
        assert await claimed_with_notices_pending(sqlite_db, xiaozhang)
        first.send_signal(signal.SIGKILL)
    finally:
        first.kill()
        first.wait()
    assert sim.stalled_count > 0
    # Nothing was tried again within the flood wait: each edit Telegram refused was refused once (the summary's edit
    # went round the sender hundreds of times a second before edits waited out a 429's pause).
    refused_edits = Counter(
        (r.chat_id, r.params.get("message_id"))
        for r in sim.records
        if r.method == "editMessageText" and r.error_code == 429
    )
    assert refused_edits
    assert set(refused_edits.values()) == {1}
    assert sim.early_requests == []
    assert received(sim, alice, "认领了您的心愿 W-0001") == 0
    assert all(received(sim, n, "已有志愿者认领") == 0 for n in neighbours)
    assert summary_edits(sim, zhou, summary.message_id) == 0

    sim.resume_writes()
    # Started a minute later by its clock, as a restart is: the killed bot put off the rows Telegram refused
    # by its own clock (which ran on while it waited out the flood), and they are due by now.
    second = start_bot(sqlite_db, sim, BOT_START + dt.timedelta(minutes=1))
    try:
        await alice.wait_for_text("认领了您的心愿 W-0001", timeout=60)
        for neighbour in neighbours:
            await neighbour.wait_for_text("已有志愿者认领", timeout=30)
        await zhou.wait_for_text("您吹哨的 W-0001 已由 小张 认领", timeout=30)
        await zhou.wait_for(
            lambda: any(m.message_id == summary.message_id and "已由 小张 认领" in m.text for m in zhou.messages),
            timeout=30,
        )
        await sim.settle(quiet=0.8, timeout=60)  # (the bot long-polls for 1 s: quieter than that never happens)
    finally:
        second.send_signal(signal.SIGTERM)
        await asyncio.to_thread(second.wait, 30)

    assert received(sim, alice, "认领了您的心愿 W-0001") == 1
    assert [received(sim, n, "已有志愿者认领") for n in neighbours] == [1] * FOLLOWERS
    assert received(sim, zhou, "您吹哨的 W-0001 已由 小张 认领") == 1
    assert summary_edits(sim, zhou, summary.message_id) == 1
    edited = next(m for m in zhou.messages if m.message_id == summary.message_id)
    assert "已紧急通知 1 位匹配的志愿者" in edited.text
    effects = await claim_effects(sqlite_db)
    assert len(effects) == 3 + FOLLOWERS
    assert {(status, attempts) for _, status, attempts in effects} == {("sent", 1)}
    # The only refused request: in the flood wait the killed bot's claim handler failed on its reply, and
    # its error handler then answered the press a second time.
    assert [(r.method, r.params.get("callback_query_id")) for r in sim.invalid_requests] in (
        [],
        [("answerCallbackQuery", claim_query)],
    )
