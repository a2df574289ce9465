"""Queries behind the monthly report (/report): what came in and what the newsroom made of it in [start, end).

Plain counts; `rules.monthly_report` puts them together with the activities' figures and the departments' 三率.
Every bound is half-open, `start <= at < end`, in UTC: the caller turns a local month into those two moments.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.schema import tip_events, tips, wishes

# A tip the newsroom took on: accepted, or published straight away (accepting it is implied).
TAKEN_ON = ("accepted", "published")


@dataclass(frozen=True, slots=True)
class EventLevel:
    """Public-opinion events of one level (I–IV) raised in the period, and how their clocks went."""

    level: str
    raised: int
    clocks_met: int
    clocks_missed: int


async def wishes_submitted(conn: AsyncConnection, start: dt.datetime, end: dt.datetime) -> int:
    """Needs collected: wishes submitted in [start, end), whatever became of them."""
    query = select(func.count()).select_from(wishes).where(wishes.c.created_at >= start, wishes.c.created_at < end)
    return int((await conn.execute(query)).scalar_one())


async def tips_received(conn: AsyncConnection, start: dt.datetime, end: dt.datetime) -> int:
    """Leads received: tips sent in [start, end), whatever became of them."""
    query = select(func.count()).select_from(tips).where(tips.c.created_at >= start, tips.c.created_at < end)
    return int((await conn.execute(query)).scalar_one())


async def tips_taken_on(conn: AsyncConnection, start: dt.datetime, end: dt.datetime) -> int:
    """Media products: tips first accepted (or published straight away) in [start, end) — a tip accepted last
    month and published in this one counts in last month's products and this month's reports, never twice."""
    first = (
        select(tip_events.c.tip_id, func.min(tip_events.c.at).label("first_at"))
        .where(tip_events.c.to_status.in_(TAKEN_ON))
        .group_by(tip_events.c.tip_id)
        .subquery()
    )
    query = select(func.count()).select_from(first).where(first.c.first_at >= start, first.c.first_at < end)
    return int((await conn.execute(query)).scalar_one())


async def tips_published(conn: AsyncConnection, start: dt.datetime, end: dt.datetime) -> int:
    """Reports published: tips that became published in [start, end)."""
    query = select(func.count(func.distinct(tip_events.c.tip_id))).where(
        tip_events.c.to_status == "published", tip_events.c.at >= start, tip_events.c.at < end
    )
    return int((await conn.execute(query)).scalar_one())


async def events_section(conn: AsyncConnection, start: dt.datetime, end: dt.datetime) -> list[EventLevel]:
    """Public-opinion events raised in [start, end) per level, with their clocks met and missed.

    Events (issue 29, part 2) are not stored yet: until `storage/events.py` exists this is empty, and the report
    says no event was raised. It should then return one `EventLevel` per level that had events, I to IV in order:
    events whose raising falls in the period, and over their clocks those answered by their deadline (met) and
    those past it unanswered or answered late (missed)."""
    del conn, start, end
    return []
