"""The broadcast action on the database (SQLite, and PostgreSQL with TEST_POSTGRES_URL): a confirmed
broadcast queues its whole audience in one statement, and its progress message is driven from the outbox
rows until the final totals, whatever process does the driving."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from actions import broadcast
from actions.env import Env
from core.clock import ManualClock
from core.settings import load_settings
from rules.roles import Role
from rules.wishes import Actor
from storage import broadcasts, outbox, people, staff, users
from storage.db import Database
from storage.errors import NotAllowed
from storage.schema import broadcasts as broadcasts_table
from storage.schema import outbox as outbox_table

NOW = dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC)
ADMIN = 900  # a person id; ADMIN_IDS name the admin's Telegram account
ADMIN_TELEGRAM = 1_000_900
COORDINATOR = Actor(ADMIN, frozenset({Role.ADMIN, Role.COORDINATOR}))
VOLUNTEERS = (11, 12, 13, 14)
RESIDENT = 20
PROGRESS_MESSAGE = 777


@pytest.fixture
def env(db: Database) -> Env:
    settings = load_settings(bot_token="1:T", database_url=str(db.url), admin_ids=[ADMIN_TELEGRAM], _env_file=None)
    return Env(db, ManualClock(NOW), settings)


async def _people(db: Database) -> None:
    """Four volunteers (13 blocked the bot, 14 was blocked by staff), a resident, and the admin."""
    async with db.write() as conn:
        for user_id in (ADMIN, RESIDENT, *VOLUNTEERS):
            await users.touch_user(
                conn,
                user_id=user_id,
                first_name=f"张{user_id}",
                last_name=None,
                username=None,
                language="zh-CN",
                now=NOW,
            )
        await people.add_identity(conn, ADMIN, people.TELEGRAM, ADMIN_TELEGRAM, now=NOW)
        for user_id in VOLUNTEERS:
            await users.grant_role(conn, user_id, "volunteer", granted_by=ADMIN, now=NOW)
        await users.mark_unreachable(conn, 13)
        await users.set_blocked(conn, 14, True)


async def _rows(db: Database, prefix: str) -> list[dict[str, Any]]:
    async with db.read() as conn:
        rows = await conn.execute(
            select(outbox_table).where(outbox_table.c.dedupe_key.startswith(prefix)).order_by(outbox_table.c.id)
        )
        return [dict(row) for row in rows.mappings()]


async def _settle(db: Database, broadcast_id: int, **statuses: str) -> None:
    """Give recipients' rows an end state, as the sender would (`sent`, `failed`, `unknown`)."""
    async with db.write() as conn:
        for person, status in statuses.items():
            key = f"{broadcasts.dedupe_prefix(broadcast_id)}{person.removeprefix('p')}"
            [row] = await _rows_in(conn, key)
            if status == "sent":
                await outbox.mark_sent(conn, row, now=NOW)
            elif status == "failed":
                await outbox.mark_failed(conn, row, error="403: Forbidden")
            else:
                await outbox.mark_sending(conn, row)
                await outbox.recover_interrupted(conn)


async def _rows_in(conn: Any, key: str) -> list[int]:
    return list((await conn.execute(select(outbox_table.c.id).where(outbox_table.c.dedupe_key == key))).scalars())


async def _broadcast(db: Database, broadcast_id: int) -> dict[str, Any]:
    async with db.read() as conn:
        row = (await conn.execute(select(broadcasts_table).where(broadcasts_table.c.id == broadcast_id))).mappings()
        return dict(row.one())


async def test_a_broadcast_queues_its_whole_audience_at_once(db: Database, env: Env) -> None:
    await _people(db)
    draft = broadcast.Draft("volunteers", "周六义诊，请报名")
    assert await broadcast.audience_size(env, COORDINATOR, "volunteers") == 3
    assert await broadcast.audience_size(env, COORDINATOR, "staff") == 1  # the admin, through their identity

    sent = await broadcast.send(env, COORDINATOR, draft, progress_message_id=PROGRESS_MESSAGE)

    assert sent.total == 3
    rows = await _rows(db, broadcasts.dedupe_prefix(sent.broadcast_id))
    assert [(r["recipient_id"], r["status"], r["lane"]) for r in rows] == [
        (11, "pending", "bulk"),
        (12, "pending", "bulk"),
        (13, "dropped", "bulk"),  # blocked the bot: recorded, never tried
    ]
    assert {r["dedupe_key"] for r in rows} == {f"broadcast:{sent.broadcast_id}:{p}" for p in (11, 12, 13)}
    assert all(r["payload"]["key"] == "broadcast.message" for r in rows)
    assert all(r["payload"]["values"] == {"text": "周六义诊，请报名"} for r in rows)
    assert all(r["created_at"] == NOW and r["not_before"] == NOW for r in rows)
    record = await _broadcast(db, sent.broadcast_id)
    assert (record["total"], record["status"], record["progress_message_id"]) == (3, "sending", PROGRESS_MESSAGE)
    async with db.read() as conn:
        [entry] = await staff.recent_audit(conn, 5)
    assert (entry.actor_id, entry.action, entry.subject, entry.detail) == (
        ADMIN,
        "broadcast.send",
        f"broadcast:{sent.broadcast_id}",
        "volunteers: 3",
    )
    [progress] = await _rows(db, f"broadcast-progress:{sent.broadcast_id}:")
    assert progress["recipient_id"] == ADMIN
    assert progress["payload"]["replaces"] == PROGRESS_MESSAGE
    assert progress["payload"]["values"] == {"sent": 0, "total": 3}

    # A second broadcast to the same people: new keys, nobody skipped.
    again = await broadcast.send(env, COORDINATOR, broadcast.Draft("everyone", "再次提醒"))
    assert again.total == 5
    assert len(await _rows(db, broadcasts.dedupe_prefix(again.broadcast_id))) == 5


async def test_only_coordinators_broadcast(db: Database, env: Env) -> None:
    await _people(db)
    volunteer = Actor(11, frozenset({Role.RESIDENT, Role.VOLUNTEER}))
    with pytest.raises(NotAllowed):
        await broadcast.send(env, volunteer, broadcast.Draft("everyone", "大家好"))
    async with db.read() as conn:
        assert (await conn.execute(select(broadcasts_table.c.id))).first() is None
        assert await outbox.count_by_status(conn) == {}


async def test_the_progress_message_follows_the_outbox_to_the_final_totals(db: Database, env: Env) -> None:
    await _people(db)
    sent = await broadcast.send(
        env, COORDINATOR, broadcast.Draft("volunteers", "周六义诊"), progress_message_id=PROGRESS_MESSAGE
    )
    [first] = await _rows(db, "broadcast-progress:")

    # The dropped row already counts; the first edit (0/3) is no longer the latest and will be superseded.
    assert await broadcast.report_progress(env) == 1
    assert await broadcast.report_progress(env) == 0  # nothing changed since
    edits = await _rows(db, "broadcast-progress:")
    assert [e["payload"]["values"] for e in edits] == [{"sent": 0, "total": 3}, {"sent": 1, "total": 3}]
    async with db.read() as conn:
        assert await outbox.unmet_condition(conn, first["condition"], ADMIN, admin_ids=[]) is not None
        assert await outbox.unmet_condition(conn, edits[1]["condition"], ADMIN, admin_ids=[]) is None

    await _settle(db, sent.broadcast_id, p11="sent")
    assert await broadcast.report_progress(env) == 1
    await _settle(db, sent.broadcast_id, p12="failed")
    assert await broadcast.report_progress(env) == 1  # the final totals
    assert await broadcast.report_progress(env) == 0  # … once

    record = await _broadcast(db, sent.broadcast_id)
    assert (record["status"], record["delivered"], record["unreachable"]) == ("done", 1, 2)
    assert record["finished_at"] == NOW
    [done] = await _rows(db, f"broadcast-done:{sent.broadcast_id}")
    assert done["payload"]["key"] == "broadcast.done"
    assert done["payload"]["values"] == {"delivered": 1, "unreachable": 2, "total": 3}
    assert (done["payload"]["replaces"], done["lane"], done["condition"]) == (PROGRESS_MESSAGE, "urgent", None)
    # Every progress edit still waiting is now stale: none may overwrite the final totals.
    async with db.read() as conn:
        for edit in await _rows(db, "broadcast-progress:"):
            assert await outbox.unmet_condition(conn, edit["condition"], ADMIN, admin_ids=[]) is not None


async def test_rows_killed_on_the_wire_are_reported_apart(db: Database, env: Env) -> None:
    await _people(db)
    sent = await broadcast.send(env, COORDINATOR, broadcast.Draft("volunteers", "周六义诊"))
    await _settle(db, sent.broadcast_id, p11="sent", p12="unknown")

    assert await broadcast.report_progress(env) == 1

    assert await _rows(db, "broadcast-progress:") == []  # no progress message to edit
    [done] = await _rows(db, f"broadcast-done:{sent.broadcast_id}")
    assert done["payload"]["key"] == "broadcast.done_uncertain"
    assert done["payload"]["values"] == {"delivered": 1, "unreachable": 1, "uncertain": 1, "total": 3}
    assert (done["payload"]["replaces"], done["lane"]) == (None, "normal")  # a new message with the totals


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        (broadcast.Draft("volunteers", "义诊", "photo-1").to_json(), broadcast.Draft("volunteers", "义诊", "photo-1")),
        ({"audience": "staff", "text": "开会", "photo": None}, broadcast.Draft("staff", "开会")),  # an old dict draft
        ('{"audience": "martians"}', None),
        ("not json", None),
        (None, None),
        ({"text": "no audience"}, None),
    ],
)
def test_a_draft_survives_the_conversation_or_is_refused(stored: object, expected: broadcast.Draft | None) -> None:
    assert broadcast.Draft.from_json(stored) == expected
