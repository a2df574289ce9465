"""Queries behind the monthly report (/report): what came in and what the newsroom made of it in [start, end).

Plain counts, and the public-opinion events (the tables of `storage.events`) by level with their clocks;
`rules.monthly_report` puts them together with the activities' figures and the departments' 三率.
Every bound is half-open, `start <= at < end`, in UTC: the caller turns a local month into those two moments.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.schema import event_clocks, events, tip_events, tips, wishes

# Event levels as stored (1–4) are written I–IV.
LEVELS = ("I", "II", "III", "IV")
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
    earlier = tip_events.alias("earlier")
    before = exists().where(
        earlier.c.tip_id == tip_events.c.tip_id, earlier.c.to_status.in_(TAKEN_ON), earlier.c.at < start
    )
    query = select(func.count(func.distinct(tip_events.c.tip_id))).where(
        tip_events.c.to_status.in_(TAKEN_ON), tip_events.c.at >= start, tip_events.c.at < end, ~before
    )
    return int((await conn.execute(query)).scalar_one())


async def tips_published(conn: AsyncConnection, start: dt.datetime, end: dt.datetime) -> int:
    """Reports published: tips that became published in [start, end)."""
    query = select(func.count(func.distinct(tip_events.c.tip_id))).where(
        tip_events.c.to_status == "published", tip_events.c.at >= start, tip_events.c.at < end
    )
    return int((await conn.execute(query)).scalar_one())


async def events_section(conn: AsyncConnection, start: dt.datetime, end: dt.datetime) -> list[EventLevel]:
    """Public-opinion events raised in [start, end) per level (I first), with their clocks met (by the deadline) and
    missed (run out unmet — the sweep marks `escalated_at` once and it stays missed — or met late). A clock still
    running is neither."""
    raised = events.c.raised_at >= start, events.c.raised_at < end
    counts = await conn.execute(select(events.c.level, func.count()).where(*raised).group_by(events.c.level))
    missed = or_(event_clocks.c.escalated_at.is_not(None), event_clocks.c.met_at > event_clocks.c.due_at)
    met = and_(event_clocks.c.escalated_at.is_(None), event_clocks.c.met_at <= event_clocks.c.due_at)
    clocks = await conn.execute(
        select(events.c.level, func.sum(case((met, 1), else_=0)), func.sum(case((missed, 1), else_=0)))
        .select_from(event_clocks.join(events, events.c.id == event_clocks.c.event_id))
        .where(*raised)
        .group_by(events.c.level)
    )
    kept = {int(level): (int(on_time or 0), int(late or 0)) for level, on_time, late in clocks}
    return [
        EventLevel(LEVELS[int(level) - 1], int(n), *kept.get(int(level), (0, 0)))
        for level, n in sorted(counts, key=lambda row: int(row[0]))
        if 1 <= int(level) <= len(LEVELS)
    ]
