"""Public-opinion events in the database: the event, its clocks and the record of what was done against them, and
the reads the sweep, /events and the screen need."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.errors import Conflict, NotFound
from storage.schema import cases, event_clocks, event_records, events, hot_alerts, tips, wishes
from storage.wishes import next_reference


@dataclass(frozen=True, slots=True)
class Event:
    """One public-opinion event."""

    id: int
    ref_no: int
    source: str
    source_id: int | None
    level: int
    title: str
    raised_by: int | None
    raised_at: dt.datetime
    status: str
    summary: str | None
    closed_by: int | None
    closed_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class EventClock:
    """One clock of an event."""

    id: int
    event_id: int
    kind: str
    due_at: dt.datetime
    met_at: dt.datetime | None
    met_by: int | None
    met_what: str | None
    warned_at: dt.datetime | None
    escalated_at: dt.datetime | None


def _event(row: Any) -> Event:
    m = row._mapping
    return Event(**{name: m[name] for name in Event.__slots__})


def _clock(row: Any) -> EventClock:
    m = row._mapping
    return EventClock(**{name: m[name] for name in EventClock.__slots__})


async def insert_event(
    conn: AsyncConnection,
    *,
    source: str,
    source_id: int | None,
    level: int,
    title: str,
    raised_by: int | None,
    now: dt.datetime,
    clocks: Mapping[str, dt.datetime],
) -> Event:
    """A new open event with its reference number (E-1…), its clocks (kind → due) and the record of its raising."""
    ref_no = await next_reference(conn, "event")
    result = await conn.execute(
        insert(events)
        .values(
            ref_no=ref_no,
            source=source,
            source_id=source_id,
            level=level,
            title=title,
            raised_by=raised_by,
            raised_at=now,
            status="open",
        )
        .returning(events.c.id)
    )
    event_id = int(result.scalar_one())
    if clocks:
        await conn.execute(
            insert(event_clocks), [{"event_id": event_id, "kind": k, "due_at": d} for k, d in clocks.items()]
        )
    await add_record(conn, event_id, actor_id=raised_by, now=now, clock=None, what=f"raised:{level}")
    return await get_event(conn, event_id)


async def get_event(conn: AsyncConnection, event_id: int) -> Event:
    """One event by id; `NotFound` otherwise."""
    row = (await conn.execute(select(events).where(events.c.id == event_id))).first()
    if row is None:
        raise NotFound(f"event {event_id}")
    return _event(row)


async def get_event_by_ref(conn: AsyncConnection, ref_no: int) -> Event:
    """One event by its reference number; `NotFound` otherwise."""
    row = (await conn.execute(select(events).where(events.c.ref_no == ref_no))).first()
    if row is None:
        raise NotFound(f"event E-{ref_no}")
    return _event(row)


async def open_event_for(conn: AsyncConnection, source: str, source_id: int) -> Event | None:
    """The open event raised from this source, if there is one."""
    row = (
        await conn.execute(
            select(events).where(events.c.source == source, events.c.source_id == source_id, events.c.status == "open")
        )
    ).first()
    return _event(row) if row is not None else None


async def open_events(conn: AsyncConnection, limit: int = 50) -> list[Event]:
    """Open events, gravest first, then oldest."""
    rows = await conn.execute(
        select(events).where(events.c.status == "open").order_by(events.c.level, events.c.raised_at).limit(limit)
    )
    return [_event(row) for row in rows]


async def clocks_of(conn: AsyncConnection, event_ids: Sequence[int]) -> dict[int, list[EventClock]]:
    """The clocks of these events, each event's in the order they fall due."""
    found: dict[int, list[EventClock]] = {event_id: [] for event_id in event_ids}
    if not event_ids:
        return found
    rows = await conn.execute(
        select(event_clocks)
        .where(event_clocks.c.event_id.in_(list(event_ids)))
        .order_by(event_clocks.c.due_at, event_clocks.c.id)
    )
    for row in rows:
        found[int(row.event_id)].append(_clock(row))
    return found


async def meet_clock(
    conn: AsyncConnection, event_id: int, kind: str, *, by: int | None, what: str, now: dt.datetime
) -> EventClock:
    """Mark the clock met now (compare-and-set: `Conflict` when it was met before, `NotFound` when the event's
    level runs no such clock)."""
    result = await conn.execute(
        update(event_clocks)
        .where(event_clocks.c.event_id == event_id, event_clocks.c.kind == kind, event_clocks.c.met_at.is_(None))
        .values(met_at=now, met_by=by, met_what=what)
    )
    row = (
        await conn.execute(select(event_clocks).where(event_clocks.c.event_id == event_id, event_clocks.c.kind == kind))
    ).first()
    if row is None:
        raise NotFound(f"event {event_id} runs no {kind} clock")
    if result.rowcount != 1:
        raise Conflict(f"event {event_id} {kind} was met already", current="met")
    return _clock(row)


async def add_record(
    conn: AsyncConnection, event_id: int, *, actor_id: int | None, now: dt.datetime, clock: str | None, what: str
) -> None:
    """Append one thing done (or noted) to the event's record."""
    await conn.execute(
        insert(event_records).values(event_id=event_id, at=now, actor_id=actor_id, clock=clock, what=what)
    )


async def records_of(conn: AsyncConnection, event_id: int) -> list[tuple[str | None, str]]:
    """The event's record as (clock, what), oldest first."""
    rows = await conn.execute(
        select(event_records.c.clock, event_records.c.what)
        .where(event_records.c.event_id == event_id)
        .order_by(event_records.c.id)
    )
    return [(r.clock, r.what) for r in rows]


async def close_event(conn: AsyncConnection, event_id: int, *, by: int, summary: str, now: dt.datetime) -> Event:
    """`open → closed` with a summary (compare-and-set: `Conflict` when it was closed before)."""
    result = await conn.execute(
        update(events)
        .where(events.c.id == event_id, events.c.status == "open")
        .values(status="closed", summary=summary, closed_by=by, closed_at=now)
    )
    if result.rowcount != 1:
        raise Conflict(f"event {event_id} is closed", current="closed")
    await add_record(conn, event_id, actor_id=by, now=now, clock=None, what=f"closed: {summary}")
    return await get_event(conn, event_id)


@dataclass(frozen=True, slots=True)
class DueClock:
    """An unmet clock of an open event that the sweep looks at."""

    event: Event
    clock: EventClock


async def unmet_clocks_due(conn: AsyncConnection, before: dt.datetime, limit: int = 500) -> list[DueClock]:
    """Unmet clocks of open events falling due before `before` (the sweep passes now plus the longest warning)."""
    rows = await conn.execute(
        select(event_clocks, *[column.label(f"e_{column.name}") for column in events.c])
        .join(events, events.c.id == event_clocks.c.event_id)
        .where(event_clocks.c.met_at.is_(None), event_clocks.c.due_at <= before, events.c.status == "open")
        .order_by(event_clocks.c.due_at, event_clocks.c.id)
        .limit(limit)
    )
    found = []
    for row in rows:
        m = row._mapping
        event = Event(**{name: m[f"e_{name}"] for name in Event.__slots__})
        found.append(DueClock(event, _clock(row)))
    return found


async def mark_clock(conn: AsyncConnection, clock_id: int, column: str, now: dt.datetime) -> bool:
    """Set `warned_at` or `escalated_at` once; False when it was set before."""
    target = event_clocks.c[column]
    result = await conn.execute(
        update(event_clocks).where(event_clocks.c.id == clock_id, target.is_(None)).values({column: now})
    )
    return bool(result.rowcount)


async def open_from(conn: AsyncConnection, source: str) -> list[Event]:
    """Open events raised from records of this kind (the sweep checks whether their case was resolved)."""
    rows = await conn.execute(select(events).where(events.c.status == "open", events.c.source == source))
    return [_event(row) for row in rows]


async def count_open(conn: AsyncConnection) -> int:
    """How many events are open."""
    query = select(func.count()).select_from(events).where(events.c.status == "open")
    return int((await conn.execute(query)).scalar_one())


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """What an event needs of a case it is raised from: its summary and area, and when and by whom it was resolved."""

    ref_no: int
    summary: str
    area: str | None
    status: str
    resolved_at: dt.datetime | None
    acknowledged_by: int | None


async def case_facts(conn: AsyncConnection, ref_nos: Sequence[int]) -> dict[int, CaseFacts]:
    """The cases with these reference numbers (C-0001 → 1), by reference number."""
    if not ref_nos:
        return {}
    rows = await conn.execute(
        select(
            cases.c.ref_no, cases.c.summary, cases.c.area, cases.c.status, cases.c.resolved_at, cases.c.acknowledged_by
        ).where(cases.c.ref_no.in_(list(ref_nos)))
    )
    return {int(r.ref_no): CaseFacts(*r) for r in rows}


async def areas_mentioning(conn: AsyncConnection, words: str, since: dt.datetime) -> list[str | None]:
    """The areas of the wishes since `since` whose text holds `words` (one per wish, at most 500)."""
    rows = await conn.execute(
        select(wishes.c.area)
        .where(wishes.c.created_at >= since, wishes.c.description.contains(words, autoescape=True))
        .limit(500)
    )
    return [row.area for row in rows]


@dataclass(frozen=True, slots=True)
class PublishedPost:
    """A tip the newsroom published: its id, link, when it was last changed (its publication) and by whom."""

    tip_id: int
    url: str | None
    at: dt.datetime
    by: int | None


async def posts_from(conn: AsyncConnection, source: str, source_id: int) -> list[PublishedPost]:
    """Published tips made from an event's source: the story lead of a hot alert, a tip from a wish."""
    if source == "hot":
        query = select(tips).join(hot_alerts, hot_alerts.c.tip_id == tips.c.id).where(hot_alerts.c.id == source_id)
    elif source == "wish":
        query = select(tips).where(tips.c.source_wish_ref == source_id)
    else:
        return []
    rows = await conn.execute(query.where(tips.c.status == "published").order_by(tips.c.updated_at, tips.c.id))
    return [PublishedPost(int(r.id), r.published_url, r.updated_at, r.decided_by) for r in rows]
