"""Rows for /export: wishes and tips created in a date range, and service hours confirmed in it.

Plain rows as stored; `rules.exports.export_rows` adds the references people see (W-0001, T-0001).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.schema import tips, volunteers, wishes


def _columns(table: Any, names: Sequence[str] | None) -> list[Any]:
    """The table's columns named (always with `id`), or all of them."""
    if names is None:
        return list(table.c)
    return [table.c.id, *(table.c[name] for name in dict.fromkeys(names) if name in table.c and name != "id")]


async def wish_rows(
    conn: AsyncConnection,
    since: dt.datetime,
    until: dt.datetime,
    *,
    after_id: int = 0,
    limit: int | None = None,
    columns: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """Wishes created in [since, until), oldest first; a chunk of `limit` after the wish `after_id` (keyset),
    with only the named `columns` (and `id`) when given."""
    query = select(*_columns(wishes, columns)).where(
        wishes.c.created_at >= since, wishes.c.created_at < until, wishes.c.id > after_id
    )
    rows = (await conn.execute(query.order_by(wishes.c.id).limit(limit))).mappings()
    return [dict(row) for row in rows]


async def tip_rows(
    conn: AsyncConnection,
    since: dt.datetime,
    until: dt.datetime,
    *,
    after_id: int = 0,
    limit: int | None = None,
    columns: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """Tips received in [since, until), oldest first; a chunk of `limit` after the tip `after_id` (keyset),
    with only the named `columns` (and `id`) when given."""
    query = select(*_columns(tips, columns)).where(
        tips.c.created_at >= since, tips.c.created_at < until, tips.c.id > after_id
    )
    rows = (await conn.execute(query.order_by(tips.c.id).limit(limit))).mappings()
    return [dict(row) for row in rows]


async def hours_rows(conn: AsyncConnection, since: dt.datetime, until: dt.datetime) -> list[dict[str, Any]]:
    """Per volunteer: tasks and hours confirmed in [since, until), most hours first."""
    query = (
        select(
            wishes.c.claimed_by.label("volunteer_id"),
            volunteers.c.name,
            volunteers.c.area,
            func.count().label("tasks"),
            func.coalesce(func.sum(wishes.c.hours), 0.0).label("hours"),
        )
        .outerjoin(volunteers, volunteers.c.user_id == wishes.c.claimed_by)
        .where(wishes.c.confirmed_at >= since, wishes.c.confirmed_at < until, wishes.c.claimed_by.is_not(None))
        .group_by(wishes.c.claimed_by, volunteers.c.name, volunteers.c.area)
        .order_by(func.coalesce(func.sum(wishes.c.hours), 0.0).desc())
    )
    return [dict(row) for row in (await conn.execute(query)).mappings()]
