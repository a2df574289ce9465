"""Queries for role applications (volunteer, reporter): apply, decide, list pending.

Every change goes through `transition`, which reads the current status inside the caller's
transaction, asks `rules.applications.next_status` whether the change is allowed, updates only if
the status is still the one read, records the event, and grants or revokes the role.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from rules.applications import ApplicationAction, ApplicationStatus, holds_role, next_status
from storage import users
from storage.errors import Conflict, NotFound
from storage.schema import application_events, applications


@dataclass(frozen=True, slots=True)
class Application:
    """One person's application for one role."""

    id: int
    user_id: int
    role: str
    status: ApplicationStatus
    created_at: dt.datetime
    decided_by: int | None
    reason: str | None


def _from_row(row: object) -> Application:
    mapping = row._mapping  # type: ignore[attr-defined]
    return Application(
        id=mapping["id"],
        user_id=mapping["user_id"],
        role=mapping["role"],
        status=ApplicationStatus(mapping["status"]),
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


async def apply(
    conn: AsyncConnection, *, user_id: int, role: str, now: dt.datetime, invite_code: str | None = None
) -> Application:
    """Submit (or resubmit after a rejection) an application; with an invite it is approved at once.

    `Conflict` when the person already has a pending or approved application for the role.
    """
    existing = await find_application(conn, user_id, role)
    status = next_status(existing.status if existing else None, ApplicationAction.APPLY)
    if existing is None:
        result = await conn.execute(
            insert(applications)
            .values(user_id=user_id, role=role, status=status, created_at=now, invite_code=invite_code)
            .returning(applications.c.id)
        )
        application_id = int(result.scalar_one())
        await _record(conn, application_id, None, status, actor_id=user_id, now=now, note=None)
    else:
        application_id = existing.id
        await _move(conn, existing, status, actor_id=user_id, now=now, note=None)
        await conn.execute(
            update(applications).where(applications.c.id == application_id).values(invite_code=invite_code)
        )
    if invite_code is not None:
        return await transition(
            conn,
            application_id,
            ApplicationAction.APPROVE,
            actor_id=None,
            now=now,
            note=f"invite {invite_code}",
        )
    return await get_application(conn, application_id)


async def transition(
    conn: AsyncConnection,
    application_id: int,
    action: ApplicationAction,
    *,
    actor_id: int | None,
    now: dt.datetime,
    note: str | None = None,
) -> Application:
    """Apply a staff decision; `Conflict` (with the current status) if the application moved meanwhile."""
    current = await get_application(conn, application_id)
    target = next_status(current.status, action)
    await _move(conn, current, target, actor_id=actor_id, now=now, note=note)
    if holds_role(target):
        await users.grant_role(conn, current.user_id, current.role, granted_by=actor_id, now=now)
    else:
        await users.revoke_role(conn, current.user_id, current.role)
    return await get_application(conn, application_id)


async def pending(conn: AsyncConnection, role: str, limit: int = 20) -> list[Application]:
    """Applications waiting for a decision, oldest first."""
    rows = await conn.execute(
        select(applications)
        .where(applications.c.role == role, applications.c.status == ApplicationStatus.PENDING)
        .order_by(applications.c.created_at, applications.c.id)
        .limit(limit)
    )
    return [_from_row(row) for row in rows]


async def _move(
    conn: AsyncConnection,
    current: Application,
    target: ApplicationStatus,
    *,
    actor_id: int | None,
    now: dt.datetime,
    note: str | None,
) -> None:
    result = await conn.execute(
        update(applications)
        .where(applications.c.id == current.id, applications.c.status == current.status)
        .values(status=target, decided_by=actor_id, decided_at=now, reason=note)
    )
    if result.rowcount != 1:
        raise Conflict("the application changed meanwhile", current=current.status)
    await _record(conn, current.id, current.status, target, actor_id=actor_id, now=now, note=note)


async def _record(
    conn: AsyncConnection,
    application_id: int,
    from_status: str | None,
    to_status: str,
    *,
    actor_id: int | None,
    now: dt.datetime,
    note: str | None,
) -> None:
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
