"""Queries behind /stats: wishes by status, category and area, waiting times, service hours, tips by outcome.

Plain counts and rows; `rules.stats.figures` puts them together (medians, rounding) for one period.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
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


async def confirmed_hours(conn: AsyncConnection, since: dt.datetime | None) -> tuple[float, int]:
    """Service hours and tasks confirmed since `since`."""
    query = select(func.coalesce(func.sum(wishes.c.hours), 0.0), func.count()).where(wishes.c.confirmed_at.is_not(None))
    if since is not None:
        query = query.where(wishes.c.confirmed_at >= since)
    total_hours, tasks = (await conn.execute(query)).one()
    return float(total_hours), int(tasks)
