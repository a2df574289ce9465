"""Queries for role applications (volunteer, reporter): store one, move it between statuses, list pending.

Status changes go through `move_application`, an `UPDATE ... WHERE status = :expected` whose row count
tells whether the application was still where the caller saw it; it records the change in
`application_events` in the same transaction. Which changes are allowed, and what they grant, is decided
in `rules.applications`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.errors import Conflict, NotFound
from storage.schema import application_events, applications


@dataclass(frozen=True, slots=True)
class Application:
    """One person's application for one role."""

    id: int
    user_id: int
    role: str
    status: str
    created_at: dt.datetime
    decided_by: int | None
    reason: str | None


def _from_row(row: object) -> Application:
    mapping = row._mapping  # type: ignore[attr-defined]
    return Application(
        id=mapping["id"],
        user_id=mapping["user_id"],
        role=mapping["role"],
        status=mapping["status"],
        created_at=mapping["created_at"],
        decided_by=mapping["decided_by"],
        reason=mapping["reason"],
    )


async def find_application(conn: AsyncConnection, user_id: int, role: str) -> Application | None:
    """The person's application for a role, if they ever applied."""
    row = (
        await conn.execute(select(applications).where(applications.c.user_id == user_id, applications.c.role == role))
    ).first()
    return _from_row(row) if row else None


async def get_application(conn: AsyncConnection, application_id: int) -> Application:
    """One application by id; `NotFound` otherwise."""
    row = (await conn.execute(select(applications).where(applications.c.id == application_id))).first()
    if row is None:
        raise NotFound(f"application {application_id}")
    return _from_row(row)


async def insert_application(
    conn: AsyncConnection, *, user_id: int, role: str, status: str, now: dt.datetime, invite_code: str | None
) -> Application:
    """Store a new application in `status` and record its creation (by the applicant)."""
    result = await conn.execute(
        insert(applications)
        .values(user_id=user_id, role=role, status=status, created_at=now, invite_code=invite_code)
        .returning(applications.c.id)
    )
    application_id = int(result.scalar_one())
    await record_event(conn, application_id, None, status, actor_id=user_id, now=now, note=None)
    return await get_application(conn, application_id)


async def move_application(
    conn: AsyncConnection,
    application_id: int,
    expected: str,
    target: str,
    *,
    actor_id: int | None,
    now: dt.datetime,
    note: str | None = None,
    changes: dict[str, Any] | None = None,
) -> Application:
    """Change the status from `expected` to `target` (recording who decided, when and why, plus `changes`), or
    raise `Conflict` with the current status when the application is no longer in `expected`. Records the event."""
    result = await conn.execute(
        update(applications)
        .where(applications.c.id == application_id, applications.c.status == expected)
        .values(status=target, decided_by=actor_id, decided_at=now, reason=note, **(changes or {}))
    )
    if result.rowcount != 1:
        current = await get_application(conn, application_id)
        raise Conflict("the application changed meanwhile", current=current.status)
    await record_event(conn, application_id, expected, target, actor_id=actor_id, now=now, note=note)
    return await get_application(conn, application_id)


async def pending(conn: AsyncConnection, role: str, limit: int = 20, offset: int = 0) -> list[Application]:
    """Applications waiting for a decision, oldest first (`limit` of them from `offset`)."""
    rows = await conn.execute(
        select(applications)
        .where(applications.c.role == role, applications.c.status == "pending")
        .order_by(applications.c.created_at, applications.c.id)
        .limit(limit)
        .offset(offset)
    )
    return [_from_row(row) for row in rows]


async def count_pending(conn: AsyncConnection, role: str) -> int:
    """How many applications for `role` wait for a decision."""
    result = await conn.execute(
        select(func.count())
        .select_from(applications)
        .where(applications.c.role == role, applications.c.status == "pending")
    )
    return int(result.scalar_one())


async def record_event(
    conn: AsyncConnection,
    application_id: int,
    from_status: str | None,
    to_status: str,
    *,
    actor_id: int | None,
    now: dt.datetime,
    note: str | None,
) -> None:
    """Append one change to the application's history."""
    await conn.execute(
        insert(application_events).values(
            application_id=application_id,
            at=now,
            actor_id=actor_id,
            from_status=from_status,
            to_status=to_status,
            note=note,
        )
    )
