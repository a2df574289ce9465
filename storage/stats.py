"""Queries behind /stats: wishes by status, category and area, waiting times, service hours, tips by outcome.

Plain counts and rows; `rules.stats.figures` puts them together (medians, rounding) for one period.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.schema import tips, wishes

WISH_COLUMNS = {"status": wishes.c.status, "category": wishes.c.category, "area": wishes.c.area}


async def _counts(conn: AsyncConnection, column: Any, since: dt.datetime | None, created: Any) -> dict[str, int]:
    query = select(column, func.count()).group_by(column)
    if since is not None:
        query = query.where(created >= since)
    rows = (await conn.execute(query)).all()
    return {str(key) if key is not None else "": int(count) for key, count in sorted(rows, key=lambda r: -r[1])}


async def wishes_by(conn: AsyncConnection, column: str, since: dt.datetime | None) -> dict[str, int]:
    """Wishes submitted since `since` (None: all time) counted by `status`, `category` or `area`, most first."""
    return await _counts(conn, WISH_COLUMNS[column], since, wishes.c.created_at)


async def tips_by_status(conn: AsyncConnection, since: dt.datetime | None) -> dict[str, int]:
    """Tips received since `since` (None: all time) counted by status, most first."""
    return await _counts(conn, tips.c.status, since, tips.c.created_at)


async def wish_spans(
    conn: AsyncConnection, since: dt.datetime | None
) -> list[tuple[dt.datetime, dt.datetime | None, dt.datetime | None]]:
    """(created, claimed, done) of every wish submitted since `since`."""
    query = select(wishes.c.created_at, wishes.c.claimed_at, wishes.c.done_at)
    if since is not None:
        query = query.where(wishes.c.created_at >= since)
    return [(row.created_at, row.claimed_at, row.done_at) for row in (await conn.execute(query)).all()]


def _hours_between(conn: AsyncConnection, start: Any, end: Any) -> Any:
    """(end - start) in hours, as SQL: julianday arithmetic on SQLite, epoch seconds on PostgreSQL."""
    if conn.dialect.name == "sqlite":
        return (func.julianday(end) - func.julianday(start)) * 24.0
    return func.extract("epoch", end - start) / 3600.0


async def median_hours(conn: AsyncConnection, since: dt.datetime | None, end_column: str) -> float | None:
    """The median time from submission to `claimed_at` or `done_at` (hours, one decimal) over the wishes
    submitted since `since` that got there; computed by the database, so no timestamp is loaded into Python:
    `percentile_cont` on PostgreSQL, the middle row or two by ORDER BY … OFFSET on SQLite."""
    end = wishes.c[end_column]
    span = _hours_between(conn, wishes.c.created_at, end)
    condition = and_(end.is_not(None), end >= wishes.c.created_at)
    if since is not None:
        condition = and_(condition, wishes.c.created_at >= since)
    if conn.dialect.name != "sqlite":
        median = (
            await conn.execute(select(func.percentile_cont(0.5).within_group(span)).where(condition))
        ).scalar_one()
        return None if median is None else round(float(median), 1)
    count = int((await conn.execute(select(func.count()).select_from(wishes).where(condition))).scalar_one())
    if count == 0:
        return None
    middle = (
        (
            await conn.execute(
                select(span.label("span")).where(condition).order_by(span).offset((count - 1) // 2).limit(2 - count % 2)
            )
        )
        .scalars()
        .all()
    )
    return round(sum(float(value) for value in middle) / len(middle), 1)


async def confirmed_hours(conn: AsyncConnection, since: dt.datetime | None) -> tuple[float, int]:
    """Service hours and tasks confirmed since `since`."""
    query = select(func.coalesce(func.sum(wishes.c.hours), 0.0), func.count()).where(wishes.c.confirmed_at.is_not(None))
    if since is not None:
        query = query.where(wishes.c.confirmed_at >= since)
    total_hours, tasks = (await conn.execute(query)).one()
    return float(total_hours), int(tasks)
