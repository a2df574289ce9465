"""Queries behind /stats: wishes by status, category and area, waiting times, service hours, tips by outcome."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from rules.stats import Figures, median_hours
from storage.schema import tips, wishes


async def _counts(conn: AsyncConnection, column: Any, since: dt.datetime | None, created: Any) -> dict[str, int]:
    query = select(column, func.count()).group_by(column)
    if since is not None:
        query = query.where(created >= since)
    rows = (await conn.execute(query)).all()
    return {str(key) if key is not None else "": int(count) for key, count in sorted(rows, key=lambda r: -r[1])}


async def figures(conn: AsyncConnection, period: str, since: dt.datetime | None) -> Figures:
    """The figures of wishes submitted and tips received since `since` (None: all time)."""
    spans = select(wishes.c.created_at, wishes.c.claimed_at, wishes.c.done_at)
    hours = select(func.coalesce(func.sum(wishes.c.hours), 0.0), func.count()).where(wishes.c.confirmed_at.is_not(None))
    if since is not None:
        spans = spans.where(wishes.c.created_at >= since)
        hours = hours.where(wishes.c.confirmed_at >= since)
    rows = (await conn.execute(spans)).all()
    total_hours, tasks = (await conn.execute(hours)).one()
    return Figures(
        period=period,
        wishes_by_status=await _counts(conn, wishes.c.status, since, wishes.c.created_at),
        wishes_by_category=await _counts(conn, wishes.c.category, since, wishes.c.created_at),
        wishes_by_area=await _counts(conn, wishes.c.area, since, wishes.c.created_at),
        median_hours_to_claim=median_hours((row.created_at, row.claimed_at) for row in rows),
        median_hours_to_done=median_hours((row.created_at, row.done_at) for row in rows),
        volunteer_hours=round(float(total_hours), 1),
        volunteer_tasks=int(tasks),
        tips_by_status=await _counts(conn, tips.c.status, since, tips.c.created_at),
    )
