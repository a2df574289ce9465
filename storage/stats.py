"""Queries behind /stats: wishes by status, category and area, waiting times, service hours, tips by outcome.

Plain counts and rows; `rules.stats.figures` puts them together (medians, rounding) for one period.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Table, and_, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncConnection

from storage import rollups
from storage.schema import (
    tip_days,
    tips,
    wish_area_days,
    wish_category_days,
    wish_claim_minutes,
    wish_confirmed_days,
    wish_done_minutes,
    wish_status_days,
    wishes,
)

WISH_COLUMNS = {"status": wishes.c.status, "category": wishes.c.category, "area": wishes.c.area}
WAIT_ROLLUPS = {"claimed_at": wish_claim_minutes, "done_at": wish_done_minutes}
WISH_ROLLUPS = {"status": wish_status_days, "category": wish_category_days, "area": wish_area_days}


async def _counts(
    conn: AsyncConnection, since: dt.datetime | None, rollup: Table, key: str, column: Any, created: Any
) -> dict[str, int]:
    """Rows created since `since` per value of `column`, most first: whole days from the daily `rollup`, the
    first partial day from the rows."""

    def rows(start: dt.datetime | None, end: dt.datetime | None) -> Any:
        return select(column, func.count()).where(rollups.between(created, start, end)).group_by(column)

    found = await rollups.counts(conn, since, None, rollup=rollup, key=key, rows=rows)
    return dict(sorted(found.items(), key=lambda item: (-item[1], item[0])))


async def wishes_by(conn: AsyncConnection, column: str, since: dt.datetime | None) -> dict[str, int]:
    """Wishes submitted since `since` (None: all time) counted by `status`, `category` or `area`, most first."""
    return await _counts(conn, since, WISH_ROLLUPS[column], column, WISH_COLUMNS[column], wishes.c.created_at)


async def tips_by_status(conn: AsyncConnection, since: dt.datetime | None) -> dict[str, int]:
    """Tips received since `since` (None: all time) counted by status, most first."""
    return await _counts(conn, since, tip_days, "status", tips.c.status, tips.c.created_at)


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


def _minutes_waited(conn: AsyncConnection, end: Any) -> Any:
    """Minutes from submission to `end`: migration 0016's `minutes_waited`, term for term (constants as
    literals), so its waiting-time indexes serve the query."""
    if conn.dialect.name == "sqlite":
        return (func.julianday(end) - func.julianday(wishes.c.created_at)) * literal_column("1440")
    return func.extract("epoch", end - wishes.c.created_at) / literal_column("60")


async def _median_of_all(conn: AsyncConnection, end_column: str) -> float | None:
    """The all-time median waiting time: the middle rank(s) located in the per-minute roll-up, then read
    among the wishes of that one minute through the waiting-time index."""
    rollup = WAIT_ROLLUPS[end_column]
    buckets = [
        (int(m), int(n)) for m, n in await conn.execute(select(rollup.c.minute, rollup.c.n).order_by(rollup.c.minute))
    ]
    count = sum(n for _minute, n in buckets)
    if count == 0:
        return None
    end = wishes.c[end_column]
    waited = _minutes_waited(conn, end)
    middle = []
    for rank in sorted({(count - 1) // 2, count // 2}):
        before, minute = 0, 0
        for bucket, n in buckets:
            if rank < before + n:
                minute = bucket
                break
            before += n
        query = (
            select(waited)
            .where(end >= wishes.c.created_at, waited >= minute, waited < minute + 1)
            .order_by(waited)
            .offset(rank - before)
            .limit(1)
        )
        middle.append(float((await conn.execute(query)).scalar_one()))
    return round(sum(middle) / len(middle) / 60, 1)


async def median_hours(conn: AsyncConnection, since: dt.datetime | None, end_column: str) -> float | None:
    """The median time from submission to `claimed_at` or `done_at` (hours, one decimal) over the wishes
    submitted since `since` that got there; computed by the database, so no timestamp is loaded into Python:
    for all time from the per-minute roll-up and an index (`_median_of_all`); for a period `percentile_cont`
    on PostgreSQL, the middle row or two by ORDER BY … OFFSET on SQLite."""
    if since is None:
        return await _median_of_all(conn, end_column)
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


async def confirmed_hours(
    conn: AsyncConnection, since: dt.datetime | None, until: dt.datetime | None = None
) -> tuple[float, int]:
    """Service hours and tasks confirmed in [since, until) (None: open): whole days from
    `wish_confirmed_days`, the partial days from the wishes."""
    parts = rollups.split(since, until)
    total_hours, tasks = 0.0, 0
    if parts.whole:
        query = select(
            func.coalesce(func.sum(wish_confirmed_days.c.hours), 0.0),
            func.coalesce(func.sum(wish_confirmed_days.c.n), 0),
        ).where(rollups.between(wish_confirmed_days.c.day, parts.first_day, parts.end_day))
        day_hours, day_tasks = (await conn.execute(query)).one()
        total_hours, tasks = float(day_hours), int(day_tasks)
    for start, end in parts.partial:
        query = select(func.coalesce(func.sum(wishes.c.hours), 0.0), func.count()).where(
            wishes.c.confirmed_at.is_not(None), rollups.between(wishes.c.confirmed_at, start, end)
        )
        row_hours, row_tasks = (await conn.execute(query)).one()
        total_hours, tasks = total_hours + float(row_hours), tasks + int(row_tasks)
    return total_hours, tasks
