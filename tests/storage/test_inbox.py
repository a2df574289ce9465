"""The durable update inbox: bounded at start-up, erased with the person."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncConnection

from storage import inbox, people, privacy
from storage.db import Batched, Database, GroupCommit
from storage.schema import handled_updates, update_inbox

NOW = dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC)


def row(update_id: int, *, user_id: int = 1_000_001, at: dt.datetime = NOW) -> dict[str, Any]:
    return inbox.row(
        update_id=update_id, chat_key=user_id, user_id=user_id, payload=f'{{"update_id":{update_id}}}', now=at
    )


async def keep(db: Database, update_id: int, *, user_id: int = 1_000_001, at: dt.datetime = NOW) -> None:
    async with db.write() as conn:
        await inbox.keep(conn, [row(update_id, user_id=user_id, at=at)])


async def left(db: Database) -> list[tuple[int, int]]:
    async with db.read() as conn:
        rows = await conn.execute(select(update_inbox.c.update_id, update_inbox.c.attempts))
        return sorted((row.update_id, row.attempts) for row in rows)


async def test_start_up_hands_back_recent_updates_in_order_and_drops_old_and_hopeless_ones(db: Database) -> None:
    await keep(db, 7)
    await keep(db, 5)
    await keep(db, 2, at=NOW - dt.timedelta(hours=25))
    found = await inbox.left_over(db, received_after=NOW - dt.timedelta(hours=24), attempts=2)
    assert (found.updates, found.too_old, found.given_up) == ([(5, '{"update_id":5}'), (7, '{"update_id":7}')], 1, 0)
    assert await left(db) == [(5, 1), (7, 1)]

    # Two start-ups that did not get past them (each killed the bot): the third gives them up.
    await inbox.left_over(db, received_after=NOW - dt.timedelta(hours=24), attempts=2)
    found = await inbox.left_over(db, received_after=NOW - dt.timedelta(hours=24), attempts=2)
    assert (found.updates, found.too_old, found.given_up) == ([], 0, 2)
    assert await left(db) == []


async def test_handled_updates_are_forgotten(db: Database) -> None:
    await keep(db, 1)
    await keep(db, 2)
    async with db.write() as conn:
        await inbox.forget(conn, [1], NOW)
    assert await left(db) == [(2, 0)]


async def test_deleteme_erases_the_persons_unhandled_updates(db: Database) -> None:
    telegram_id = 1_000_001
    async with db.write() as conn:
        person = await people.person_for_identity(
            conn, people.TELEGRAM, telegram_id, first_name="王阿姨", language="zh-CN", now=NOW
        )
    await keep(db, 1, user_id=telegram_id)
    await keep(db, 2, user_id=1_000_002)
    async with db.write() as conn:
        exported = await privacy.collect_personal_data(conn, person.id)
        assert [row["update_id"] for row in exported["update_inbox"]] == [1]
        await privacy.erase_person(conn, person.id, now=NOW)
    assert await left(db) == [(2, 0)]


async def test_rows_arriving_together_share_one_commit_and_a_bad_write_fails_alone(db: Database) -> None:
    group = GroupCommit(db)
    commits: list[object] = []

    def on_commit(conn: object) -> None:
        commits.append(conn)

    event.listen(db.engine.sync_engine, "commit", on_commit)
    rows = Batched(group, inbox.keep)
    await asyncio.gather(*(rows.add(row(update_id)) for update_id in (1, 2, 3)))
    assert len(commits) == 1

    async def write(update_id: int) -> None:
        async def insert(conn: AsyncConnection) -> None:
            await conn.execute(update_inbox.insert(), [row(update_id)])  # not `keep`, which skips a known id

        await group.write(insert)

    # Update 3 again: its group fails, is tried one write at a time, and only the duplicate fails.
    results = await asyncio.gather(write(4), write(3), write(5), return_exceptions=True)
    assert [result is None for result in results] == [True, False, True]
    assert await left(db) == [(1, 0), (2, 0), (3, 0), (4, 0), (5, 0)]


class _ManualTimer:
    """A timer that fires only when told: what `GroupCommit` lingers on."""

    def __init__(self) -> None:
        self.now = 0.0
        self.due: list[tuple[float, Any]] = []

    def monotonic(self) -> float:
        return self.now

    def call_at(self, when: float, callback: Any) -> asyncio.Handle:
        self.due.append((when, callback))
        return asyncio.get_running_loop().call_soon(lambda: None)  # a handle to cancel; the callback is ours

    def advance(self, seconds: float) -> None:
        self.now += seconds
        ready = [callback for when, callback in self.due if when <= self.now]
        self.due = [(when, callback) for when, callback in self.due if when > self.now]
        for callback in ready:
            callback()


async def test_deferred_deletions_wait_out_their_linger_and_go_together(db: Database) -> None:
    """The inbox rows of updates that changed nothing are deleted once the linger is over, with the transaction under
    way then or by one of their own; the writes meanwhile do not take them (one deletion per linger instead of one in
    every transaction); nobody waits for them."""
    for update_id in (1, 2, 3, 4):
        await keep(db, update_id)
    timer = _ManualTimer()
    group = GroupCommit(db, timer=timer, linger=0.25)
    commits = 0
    deletions = 0

    def count(*_: Any) -> None:
        nonlocal commits
        commits += 1

    def count_deletions(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        nonlocal deletions
        deletions += statement.startswith("DELETE FROM update_inbox")  # (the update's recorded requests go with it)

    event.listen(db.engine.sync_engine, "commit", count)
    event.listen(db.engine.sync_engine, "before_cursor_execute", count_deletions)
    try:
        group.ride(lambda conn: inbox.forget(conn, [1, 2], NOW))
        await asyncio.sleep(0.05)
        assert await left(db) == [(1, 0), (2, 0), (3, 0), (4, 0)], "it waits for its linger"
        await group.write(lambda conn: inbox.forget(conn, [3], NOW))
        assert await left(db) == [(1, 0), (2, 0), (4, 0)], "a write meanwhile does not take it"
        assert (commits, deletions) == (1, 1)

        timer.advance(0.2)
        await asyncio.sleep(0.05)
        assert await left(db) == [(1, 0), (2, 0), (4, 0)]
        timer.advance(0.1)  # the linger is over: a transaction of its own
        await group.flush()
        assert await left(db) == [(4, 0)]
        assert (commits, deletions) == (2, 2)
    finally:
        event.remove(db.engine.sync_engine, "commit", count)
        event.remove(db.engine.sync_engine, "before_cursor_execute", count_deletions)


async def test_a_deferred_deletion_that_failed_is_kept_for_the_next_transaction(db: Database) -> None:
    await keep(db, 1)
    failing = True

    async def forget(conn: AsyncConnection) -> None:
        if failing:
            raise ConnectionError("the database went away")
        await inbox.forget(conn, [1], NOW)

    timer = _ManualTimer()
    group = GroupCommit(db, timer=timer)
    group.ride(forget)
    timer.advance(0.3)  # its linger is over: it fails
    await group.write(lambda conn: inbox.keep(conn, [row(2)]))  # the write succeeds
    assert await left(db) == [(1, 0), (2, 0)]
    failing = False
    await group.flush()
    assert await left(db) == [(2, 0)]


async def handled(db: Database) -> list[int]:
    async with db.read() as conn:
        return sorted((await conn.execute(select(handled_updates.c.update_id))).scalars())


async def test_a_handled_update_delivered_again_is_not_kept_nor_handled_again_for_25_hours(db: Database) -> None:
    await keep(db, 1)
    async with db.write() as conn:
        await inbox.forget(conn, [1], NOW)
    assert (await left(db), await handled(db)) == ([], [1])
    # Telegram delivers it again (a webhook retry after a lost answer, a takeover), and a new one comes.
    known: set[int] = set()
    async with db.write() as conn:
        await inbox.keep(conn, [row(1), row(2)], known)
    assert (known, await left(db)) == ({1}, [(2, 0)])
    # Still in the inbox (its first arrival being handled): known too, and not written twice.
    known.clear()
    async with db.write() as conn:
        await inbox.keep(conn, [row(2)], known)
    assert known == {2}
    # Alone (one statement, as an update mostly arrives): a handled one is known and not written, a fresh one is.
    known.clear()
    async with db.write() as conn:
        await inbox.keep(conn, [row(1)], known)
        await inbox.keep(conn, [row(3)], known)
    assert (known, await left(db)) == ({1}, [(2, 0), (3, 0)])
    # The hourly sweep forgets ids handled more than 25 hours ago.
    async with db.write() as conn:
        await inbox.forget(conn, [2], NOW + dt.timedelta(hours=2))
        assert await inbox.prune_handled(conn, before=NOW + dt.timedelta(hours=1)) == 1
    assert await handled(db) == [2]
