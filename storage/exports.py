"""Rows for /export: wishes and tips created in a date range, and service hours confirmed in it.

Plain rows as stored; `rules.exports.export_rows` adds the references people see (W-0001, T-0001).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, literal, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.schema import tips, volunteers, wishes


def _columns(table: Any, names: Sequence[str] | None) -> list[Any]:
    """The table's columns named (always with `id` and `created_at`, the chunks' keyset), or all of them."""
    if names is None:
        return list(table.c)
    wanted = dict.fromkeys(["id", "created_at", *names])
    return [table.c[name] for name in wanted if name in table.c]


async def wish_rows(
    conn: AsyncConnection,
    since: dt.datetime,
    until: dt.datetime,
    *,
    after: tuple[dt.datetime, int] | None = None,
    limit: int | None = None,
    columns: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """Wishes created in [since, until), oldest first; a chunk of `limit` after the wish at `after` (its
    created_at and id: keyset along the (created_at, id) index, so every chunk costs the same), with only the
    named `columns` (and `id`, `created_at`) when given."""
    return await _chunk(conn, wishes, since, until, after, limit, columns)


async def tip_rows(
    conn: AsyncConnection,
    since: dt.datetime,
    until: dt.datetime,
    *,
    after: tuple[dt.datetime, int] | None = None,
    limit: int | None = None,
    columns: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """Tips received in [since, until), oldest first; a chunk like `wish_rows`."""
    return await _chunk(conn, tips, since, until, after, limit, columns)


async def _chunk(
    conn: AsyncConnection,
    table: Any,
    since: dt.datetime,
    until: dt.datetime,
    after: tuple[dt.datetime, int] | None,
    limit: int | None,
    columns: Sequence[str] | None,
) -> list[dict[str, Any]]:
    query = select(*_columns(table, columns)).where(table.c.created_at >= since, table.c.created_at < until)
    if after is not None:
        bound = tuple_(literal(after[0], type_=table.c.created_at.type), literal(after[1]))
        query = query.where(tuple_(table.c.created_at, table.c.id) > bound)
    rows = (await conn.execute(query.order_by(table.c.created_at, table.c.id).limit(limit))).mappings()
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
