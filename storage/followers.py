"""Followers of a wish: residents who joined someone else's similar open wish instead of submitting
their own, and are told of its progress like its resident."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from storage import wishes as store
from storage.schema import wish_followers
from storage.wishes import Wish


async def follow(conn: AsyncConnection, wish_id: int, user_id: int, *, now: dt.datetime) -> bool:
    """Add the person to the wish's followers; False when they already followed it (nothing changes)."""
    values = {"wish_id": wish_id, "user_id": user_id, "joined_at": now}
    keys = ["wish_id", "user_id"]
    statement: Any
    if conn.dialect.name == "postgresql":
        statement = pg_insert(wish_followers).values(values).on_conflict_do_nothing(index_elements=keys)
    else:
        statement = sqlite_insert(wish_followers).values(values).on_conflict_do_nothing(index_elements=keys)
    result = await conn.execute(statement)
    return bool(result.rowcount)


async def is_following(conn: AsyncConnection, wish_id: int, user_id: int) -> bool:
    """Whether the person follows the wish."""
    row = (
        await conn.execute(
            select(wish_followers.c.user_id).where(
                wish_followers.c.wish_id == wish_id, wish_followers.c.user_id == user_id
            )
        )
    ).first()
    return row is not None


async def followers_of(conn: AsyncConnection, wish_id: int) -> list[int]:
    """The people following the wish, in the order they joined."""
    rows = await conn.execute(
        select(wish_followers.c.user_id)
        .where(wish_followers.c.wish_id == wish_id)
        .order_by(wish_followers.c.joined_at, wish_followers.c.user_id)
    )
    return list(rows.scalars())


async def count_followers(conn: AsyncConnection, wish_id: int) -> int:
    """How many people joined the wish."""
    result = await conn.execute(
        select(func.count()).select_from(wish_followers).where(wish_followers.c.wish_id == wish_id)
    )
    return int(result.scalar_one())


async def wishes_followed_by(conn: AsyncConnection, user_id: int, *, limit: int = 10) -> list[Wish]:
    """The wishes the person joined, most recently joined first."""
    return await store.followed_by(conn, user_id, limit)
