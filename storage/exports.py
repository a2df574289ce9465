"""Rows for /export: wishes and tips created in a date range, and service hours confirmed in it (wishes by
their confirmation, activities checked in on the spot by their start, as the certificate counts them).

Plain rows as stored; `rules.exports.export_rows` adds the references people see (W-0001, T-0001).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Sequence
from typing import Any

from sqlalchemy import Select, func, literal, select, tuple_, union_all
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.schema import activities, signups, tips, volunteers, wishes


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
    """Per volunteer: wish tasks, activities, all hours and the verified (activity) part, most hours first."""
    return [dict(row) for row in (await conn.execute(_hours_query(since, until))).mappings()]


async def stream_hours(
    conn: AsyncConnection, since: dt.datetime, until: dt.datetime, size: int
) -> AsyncIterator[list[dict[str, Any]]]:
    """`hours_rows` in lists of `size`, read through a server-side cursor: memory stays flat however many
    volunteers (the rows are summed by the database in one pass; only its result is streamed)."""
    result = await conn.stream(_hours_query(since, until))
    async for part in result.mappings().partitions(size):
        yield [dict(row) for row in part]


def _hours_query(since: dt.datetime, until: dt.datetime) -> Select[Any]:
    service = union_all(
        select(
            wishes.c.claimed_by.label("user_id"),
            wishes.c.hours.label("hours"),
            literal(0.0).label("verified"),
            literal(1).label("task"),
            literal(0).label("activity"),
        ).where(wishes.c.confirmed_at >= since, wishes.c.confirmed_at < until, wishes.c.claimed_by.is_not(None)),
        select(
            signups.c.user_id.label("user_id"),
            signups.c.hours.label("hours"),
            signups.c.hours.label("verified"),
            literal(0).label("task"),
            literal(1).label("activity"),
        )
        .select_from(signups.join(activities, activities.c.id == signups.c.activity_id))
        .where(
            signups.c.confirmed_at.is_not(None),
            signups.c.no_show.is_(False),
            signups.c.hours > 0,
            activities.c.starts_at >= since,
            activities.c.starts_at < until,
        ),
    ).subquery()
    hours = func.coalesce(func.sum(service.c.hours), 0.0)
    query = (
        select(
            service.c.user_id.label("volunteer_id"),
            volunteers.c.name,
            volunteers.c.area,
            func.sum(service.c.task).label("tasks"),
            func.sum(service.c.activity).label("activities"),
            hours.label("hours"),
            func.coalesce(func.sum(service.c.verified), 0.0).label("verified_hours"),
        )
        .outerjoin(volunteers, volunteers.c.user_id == service.c.user_id)
        .group_by(service.c.user_id, volunteers.c.name, volunteers.c.area)
        .order_by(hours.desc(), service.c.user_id)
    )
    return query
