"""Whistles in the database: each urgent dispatch of a wish, its coordinator's summary message, and who
answered it first (filled in when the wish is claimed, whichever button the volunteer used)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.schema import users, whistles


@dataclass(frozen=True, slots=True)
class Whistle:
    """One dispatch of a wish to matching volunteers."""

    id: int
    wish_id: int
    coordinator_id: int
    sent_count: int
    summary_message_id: int | None
    created_at: dt.datetime
    claimed_by: int | None
    claimed_at: dt.datetime | None


def _from_row(row: Any) -> Whistle:
    m = row._mapping
    return Whistle(**{name: m[name] for name in Whistle.__slots__})


async def create_whistle(
    conn: AsyncConnection, *, wish_id: int, coordinator_id: int, sent_count: int, now: dt.datetime
) -> int:
    """Record a whistle; returns its id."""
    result = await conn.execute(
        insert(whistles)
        .values(wish_id=wish_id, coordinator_id=coordinator_id, sent_count=sent_count, created_at=now)
        .returning(whistles.c.id)
    )
    return int(result.scalar_one())


async def get_whistle(conn: AsyncConnection, whistle_id: int) -> Whistle | None:
    """One whistle, or None."""
    row = (await conn.execute(select(whistles).where(whistles.c.id == whistle_id))).first()
    return _from_row(row) if row is not None else None


async def latest_unanswered(conn: AsyncConnection, wish_id: int) -> Whistle | None:
    """The newest whistle of the wish that nobody has answered yet, or None."""
    row = (
        await conn.execute(
            select(whistles)
            .where(whistles.c.wish_id == wish_id, whistles.c.claimed_at.is_(None))
            .order_by(whistles.c.created_at.desc(), whistles.c.id.desc())
            .limit(1)
        )
    ).first()
    return _from_row(row) if row is not None else None


async def set_summary_message(conn: AsyncConnection, whistle_id: int, message_id: int) -> None:
    """Remember the coordinator's summary message, the one edited when someone claims."""
    await conn.execute(update(whistles).where(whistles.c.id == whistle_id).values(summary_message_id=message_id))


async def mark_claimed(conn: AsyncConnection, wish_id: int, *, claimed_by: int, now: dt.datetime) -> list[Whistle]:
    """Close the wish's unanswered whistles with who claimed it and when; returns the whistles closed."""
    open_ids = list(
        (
            await conn.execute(
                select(whistles.c.id).where(whistles.c.wish_id == wish_id, whistles.c.claimed_at.is_(None))
            )
        ).scalars()
    )
    if not open_ids:
        return []
    await conn.execute(
        update(whistles)
        .where(whistles.c.id.in_(open_ids), whistles.c.claimed_at.is_(None))
        .values(claimed_by=claimed_by, claimed_at=now)
    )
    rows = await conn.execute(select(whistles).where(whistles.c.id.in_(open_ids)).order_by(whistles.c.id))
    return [_from_row(row) for row in rows]


async def reachable_ids(conn: AsyncConnection, user_ids: Collection[int]) -> set[int]:
    """Those of `user_ids` who can be messaged: not blocked by staff, not erased, not known to have
    blocked the bot."""
    if not user_ids:
        return set()
    rows = await conn.execute(
        select(users.c.id).where(
            users.c.id.in_(list(user_ids)),
            users.c.blocked.is_(False),
            users.c.unreachable.is_(False),
            users.c.erased_at.is_(None),
        )
    )
    return set(rows.scalars())
