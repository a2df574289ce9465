"""The outbox table: one row per dedupe key, urgent first, and what a crash leaves on the wire."""

from __future__ import annotations

import datetime as dt

from actions import notices
from storage import outbox, people, users
from storage.db import Database

NOW = dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC)


async def _queue(db: Database, key: str, lane: outbox.Lane, recipient: int = 1, **extra: object) -> bool:
    async with db.write() as conn:
        return await outbox.enqueue(
            conn,
            recipient_id=recipient,
            payload={"key": "k"},
            lane=lane,
            dedupe_key=key,
            now=NOW,
            **extra,  # type: ignore[arg-type]
        )


async def test_a_dedupe_key_is_written_once(db: Database) -> None:
    assert await _queue(db, "digest:coord:2026-11-26:1", "bulk")
    assert not await _queue(db, "digest:coord:2026-11-26:1", "bulk")
    async with db.read() as conn:
        assert await outbox.count_by_status(conn) == {"pending": 1}


async def test_due_rows_come_urgent_first_and_respect_not_before(db: Database) -> None:
    await _queue(db, "b", "bulk")
    await _queue(db, "n", "normal")
    await _queue(db, "u", "urgent")
    await _queue(db, "later", "urgent", not_before=NOW + dt.timedelta(minutes=5))
    async with db.read() as conn:
        rows = await outbox.due(conn, now=NOW, lanes=("urgent", "normal", "bulk"), limit=10)
        quiet = await outbox.due(conn, now=NOW, lanes=("urgent",), limit=10)
        later = await outbox.due(conn, now=NOW + dt.timedelta(minutes=5), lanes=("urgent",), limit=10)
    assert [row.dedupe_key for row in rows] == ["u", "n", "b"]
    assert [row.dedupe_key for row in quiet] == ["u"]
    assert [row.dedupe_key for row in later] == ["u", "later"]


async def test_a_row_is_taken_for_sending_once(db: Database) -> None:
    await _queue(db, "x", "normal")
    async with db.write() as conn:
        [row] = await outbox.due(conn, now=NOW, lanes=("normal",), limit=1)
        assert await outbox.mark_sending(conn, row.id)
        assert not await outbox.mark_sending(conn, row.id)


async def test_after_a_crash_urgent_is_resent_and_the_rest_is_not(db: Database) -> None:
    await _queue(db, "u", "urgent")
    await _queue(db, "b", "bulk")
    await _queue(db, "waiting", "bulk")
    async with db.write() as conn:
        for row in await outbox.due(conn, now=NOW, lanes=("urgent", "bulk"), limit=2):
            await outbox.mark_sending(conn, row.id)
    async with db.write() as conn:
        assert await outbox.recover_interrupted(conn) == 1
    async with db.read() as conn:
        assert await outbox.count_by_status(conn) == {"pending": 2, "unknown": 1}
        assert [r.dedupe_key for r in await outbox.due(conn, now=NOW, lanes=("urgent", "bulk"), limit=5)] == [
            "u",
            "waiting",
        ]


async def test_blocking_the_bot_drops_pending_bulk_only(db: Database) -> None:
    await _queue(db, "b1", "bulk", recipient=7)
    await _queue(db, "b2", "bulk", recipient=7)
    await _queue(db, "n", "normal", recipient=7)
    await _queue(db, "other", "bulk", recipient=8)
    async with db.write() as conn:
        assert await outbox.drop_bulk_for(conn, 7, reason="unreachable") == 2
    async with db.read() as conn:
        assert await outbox.count_by_status(conn) == {"dropped": 2, "pending": 2}


async def test_used_keys_and_pruning(db: Database) -> None:
    await _queue(db, "digest:coord:2026-11-26:1", "bulk")
    await _queue(db, "digest:coord:2026-11-26:2", "bulk", skipped=True)
    await _queue(db, "digest:coord_x:2026-11-26:3", "bulk")
    async with db.read() as conn:
        assert await outbox.used_keys(conn, "digest:coord:2026-11-26:") == {
            "digest:coord:2026-11-26:1",
            "digest:coord:2026-11-26:2",
        }
    async with db.write() as conn:
        # Only finished rows go; the pending ones stay however old they are.
        assert await outbox.prune(conn, before=NOW + dt.timedelta(days=1)) == 1


async def test_a_row_for_holders_of_either_role_holds_while_one_is_held(db: Database) -> None:
    async with db.write() as conn:
        await users.touch_user(
            conn, user_id=7, first_name="周编辑", last_name=None, username=None, language="zh-CN", now=NOW
        )
        await users.grant_role(conn, 7, "editor", granted_by=None, now=NOW)
        await people.add_identity(conn, 7, people.TELEGRAM, 1_000_007, now=NOW)
    either = [notices.holds_role("coordinator", "editor")]
    async with db.read() as conn:
        assert await outbox.unmet_condition(conn, either, 7, admin_ids=()) is None
        assert await outbox.unmet_condition(conn, [notices.holds_role("coordinator")], 7, admin_ids=()) is not None
    async with db.write() as conn:
        await users.revoke_role(conn, 7, "editor")
    async with db.read() as conn:
        assert await outbox.unmet_condition(conn, either, 7, admin_ids=()) == (
            "recipient no longer holds ['coordinator', 'editor']"
        )
        assert await outbox.unmet_condition(conn, either, 7, admin_ids=(1_000_007,)) is None  # admins hold every role
