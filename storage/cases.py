"""Cases in the database: a case sent to a department, every change of its status, and the read models of
the rates, the command-centre screen, /export and Open311."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.errors import Conflict, NotFound
from storage.schema import case_events, cases, departments
from storage.wishes import next_reference

OPEN = ("sent", "acknowledged")


@dataclass(frozen=True, slots=True)
class Case:
    """One case sent to a department."""

    id: int
    ref_no: int
    department_id: int
    source: str
    source_id: int
    resident_id: int | None
    category: str
    area: str | None
    summary: str
    tier: str
    status: str
    created_by: int | None
    created_at: dt.datetime
    updated_at: dt.datetime
    ack_due_at: dt.datetime
    resolve_due_at: dt.datetime
    acknowledged_by: int | None
    acknowledged_at: dt.datetime | None
    resolved_at: dt.datetime | None
    resolution_note: str | None
    resolution_media_id: int | None
    returned_at: dt.datetime | None
    return_reason: str | None
    rating: int | None
    rated_at: dt.datetime | None


def _from_row(row: Any) -> Case:
    m = row._mapping
    return Case(**{name: m[name] for name in Case.__slots__})


async def insert_case(
    conn: AsyncConnection,
    *,
    department_id: int,
    source: str,
    source_id: int,
    resident_id: int | None,
    category: str,
    area: str | None,
    summary: str,
    tier: str,
    created_by: int | None,
    now: dt.datetime,
    ack_due_at: dt.datetime,
    resolve_due_at: dt.datetime,
) -> Case:
    """A new case in `sent`, with its reference number (C-0001…) and its first event."""
    ref_no = await next_reference(conn, "case")
    result = await conn.execute(
        insert(cases)
        .values(
            ref_no=ref_no,
            department_id=department_id,
            source=source,
            source_id=source_id,
            resident_id=resident_id,
            category=category,
            area=area,
            summary=summary,
            tier=tier,
            status="sent",
            created_by=created_by,
            created_at=now,
            updated_at=now,
            ack_due_at=ack_due_at,
            resolve_due_at=resolve_due_at,
        )
        .returning(cases.c.id)
    )
    case_id = int(result.scalar_one())
    await record_event(conn, case_id, None, "sent", actor_id=created_by, now=now, note=tier)
    return await get_case(conn, case_id)


async def get_case(conn: AsyncConnection, case_id: int) -> Case:
    """One case by id; `NotFound` otherwise."""
    row = (await conn.execute(select(cases).where(cases.c.id == case_id))).first()
    if row is None:
        raise NotFound(f"case {case_id}")
    return _from_row(row)


async def open_case_for(conn: AsyncConnection, source: str, source_id: int, department_id: int) -> Case | None:
    """The open case of this source at this department, if there is one (a second send changes nothing)."""
    row = (
        await conn.execute(
            select(cases).where(
                cases.c.source == source,
                cases.c.source_id == source_id,
                cases.c.department_id == department_id,
                cases.c.status.in_(OPEN),
            )
        )
    ).first()
    return _from_row(row) if row is not None else None


@dataclass(frozen=True, slots=True)
class Referral:
    """Where a wish sent to a department stands: its latest case, that case's department and status."""

    case_ref_no: int
    department: str
    status: str


async def referrals_of_wishes(conn: AsyncConnection, ref_nos: Sequence[int]) -> dict[int, Referral]:
    """The latest case of each of these wishes (by wish reference number) that was sent to a department."""
    if not ref_nos:
        return {}
    rows = await conn.execute(
        select(cases.c.source_id, cases.c.ref_no, cases.c.status, departments.c.name)
        .join(departments, departments.c.id == cases.c.department_id)
        .where(cases.c.source == "wish", cases.c.source_id.in_(list(ref_nos)))
        .order_by(cases.c.source_id, cases.c.id)
    )
    return {int(r.source_id): Referral(int(r.ref_no), str(r.name), str(r.status)) for r in rows}


async def any_open_for(conn: AsyncConnection, source: str, source_id: int) -> bool:
    """Whether any department still holds an open case of this source."""
    row = await conn.execute(
        select(cases.c.id).where(cases.c.source == source, cases.c.source_id == source_id, cases.c.status.in_(OPEN))
    )
    return row.first() is not None


async def move_case(
    conn: AsyncConnection,
    case_id: int,
    expected: str,
    target: str,
    *,
    actor_id: int | None,
    now: dt.datetime,
    note: str | None = None,
    changes: dict[str, Any] | None = None,
) -> Case:
    """Compare-and-set the status from `expected` to `target` (and other columns) and record the event;
    `Conflict` with the current status when the case moved on (two members pressing 签收 at once: one wins)."""
    result = await conn.execute(
        update(cases)
        .where(cases.c.id == case_id, cases.c.status == expected)
        .values(status=target, updated_at=now, **(changes or {}))
    )
    if result.rowcount != 1:
        current = await get_case(conn, case_id)
        raise Conflict(f"case {case_id} is {current.status}, not {expected}", current=current.status)
    await record_event(conn, case_id, expected, target, actor_id=actor_id, now=now, note=note)
    return await get_case(conn, case_id)


async def rate_case(conn: AsyncConnection, case_id: int, rating: int, now: dt.datetime) -> Case:
    """Store the resident's rating of a resolved case (once); `Conflict` otherwise."""
    result = await conn.execute(
        update(cases)
        .where(cases.c.id == case_id, cases.c.status == "resolved", cases.c.rating.is_(None))
        .values(rating=rating, rated_at=now)
    )
    if result.rowcount != 1:
        current = await get_case(conn, case_id)
        raise Conflict(f"case {case_id} cannot be rated", current="rated" if current.rating else current.status)
    return await get_case(conn, case_id)


async def record_event(
    conn: AsyncConnection,
    case_id: int,
    from_status: str | None,
    to_status: str,
    *,
    actor_id: int | None,
    now: dt.datetime,
    note: str | None,
) -> None:
    """Append one change to the case's history (also escalations: same status, a note saying to whom)."""
    await conn.execute(
        insert(case_events).values(
            case_id=case_id, at=now, actor_id=actor_id, from_status=from_status, to_status=to_status, note=note
        )
    )


async def events_of(conn: AsyncConnection, case_id: int) -> list[tuple[str | None, str, str | None]]:
    """The case's history as (from, to, note), oldest first."""
    rows = await conn.execute(
        select(case_events.c.from_status, case_events.c.to_status, case_events.c.note)
        .where(case_events.c.case_id == case_id)
        .order_by(case_events.c.id)
    )
    return [(r.from_status, r.to_status, r.note) for r in rows]


async def open_cases(conn: AsyncConnection, *, department_id: int | None = None, limit: int = 500) -> list[Case]:
    """Open cases (sent or acknowledged), oldest first; of one department or all."""
    query = select(cases).where(cases.c.status.in_(OPEN))
    if department_id is not None:
        query = query.where(cases.c.department_id == department_id)
    rows = await conn.execute(query.order_by(cases.c.created_at, cases.c.id).limit(limit))
    return [_from_row(row) for row in rows]


async def held_by(conn: AsyncConnection, department_id: int, person_id: int) -> list[Case]:
    """The department's cases the person acknowledged and has not finished."""
    rows = await conn.execute(
        select(cases)
        .where(
            cases.c.department_id == department_id,
            cases.c.status == "acknowledged",
            cases.c.acknowledged_by == person_id,
        )
        .order_by(cases.c.created_at, cases.c.id)
    )
    return [_from_row(row) for row in rows]


async def overdue_cases(conn: AsyncConnection, now: dt.datetime, limit: int = 500) -> list[Case]:
    """Open cases past a deadline: not acknowledged by `ack_due_at`, or not resolved by `resolve_due_at`."""
    rows = await conn.execute(
        select(cases)
        .where(
            or_(
                and_(cases.c.status == "sent", cases.c.ack_due_at <= now),
                and_(cases.c.status.in_(OPEN), cases.c.resolve_due_at <= now),
            )
        )
        .order_by(cases.c.created_at, cases.c.id)
        .limit(limit)
    )
    return [_from_row(row) for row in rows]


async def cases_between(
    conn: AsyncConnection, since: dt.datetime | None, until: dt.datetime | None, limit: int | None = None
) -> list[Case]:
    """Cases sent in [since, until), oldest first."""
    query = select(cases)
    if since is not None:
        query = query.where(cases.c.created_at >= since)
    if until is not None:
        query = query.where(cases.c.created_at < until)
    query = query.order_by(cases.c.created_at, cases.c.id)
    if limit is not None:
        query = query.limit(limit)
    return [_from_row(row) for row in await conn.execute(query)]


async def stream_cases_between(
    conn: AsyncConnection, since: dt.datetime, until: dt.datetime, size: int
) -> AsyncIterator[list[Case]]:
    """`cases_between` in lists of `size`, through a server-side cursor (the export's memory stays flat)."""
    query = (
        select(cases)
        .where(cases.c.created_at >= since, cases.c.created_at < until)
        .order_by(cases.c.created_at, cases.c.id)
    )
    result = await conn.stream(query)
    async for part in result.partitions(size):
        yield [_from_row(row) for row in part]


async def department_names(conn: AsyncConnection) -> dict[int, str]:
    """Every department's name by id."""
    return {int(r.id): str(r.name) for r in await conn.execute(select(departments.c.id, departments.c.name))}


async def open_by_area(conn: AsyncConnection) -> dict[str, int]:
    """How many cases are open in each area ("" for none)."""
    rows = await conn.execute(select(cases.c.area, func.count()).where(cases.c.status.in_(OPEN)).group_by(cases.c.area))
    return {str(area or ""): int(n) for area, n in rows.all()}


async def cases_with_ids(conn: AsyncConnection, ids: Sequence[int]) -> list[Case]:
    """The cases with these ids."""
    if not ids:
        return []
    return [_from_row(row) for row in await conn.execute(select(cases).where(cases.c.id.in_(list(ids))))]


async def count_open(conn: AsyncConnection) -> int:
    """How many cases are open."""
    query = select(func.count()).select_from(cases).where(cases.c.status.in_(OPEN))
    return int((await conn.execute(query)).scalar_one())
