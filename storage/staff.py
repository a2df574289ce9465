"""Staff administration in the database: granting and revoking roles, blocking people, reading the audit log.

Every change here writes its audit entry in the same transaction, so the log cannot miss an action
that happened nor record one that was rolled back.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from storage import audit, users
from storage.schema import audit_log, user_roles
from storage.schema import users as users_table

STAFF_ROLE_NAMES = ("coordinator", "editor", "monitor")


@dataclass(frozen=True, slots=True)
class StaffMember:
    """Someone holding at least one granted staff role."""

    user_id: int
    name: str
    username: str | None
    roles: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One line of the audit log."""

    at: dt.datetime
    actor_id: int | None
    action: str
    subject: str | None
    detail: str | None


async def grant(conn: AsyncConnection, *, actor_id: int, user_id: int, role: str, now: dt.datetime) -> bool:
    """Give `role` to a person who has written to the bot; False if they already had it (nothing recorded)."""
    await users.get_user(conn, user_id)  # NotFound for someone the bot has never met
    changed = await users.grant_role(conn, user_id, role, granted_by=actor_id, now=now)
    if changed:
        await audit.record(
            conn, actor_id=actor_id, action="role.grant", subject=f"user:{user_id}", now=now, detail=role
        )
    return changed


async def revoke(conn: AsyncConnection, *, actor_id: int, user_id: int, role: str, now: dt.datetime) -> bool:
    """Take `role` away; False if the person did not hold it (nothing recorded)."""
    await users.get_user(conn, user_id)
    changed = await users.revoke_role(conn, user_id, role)
    if changed:
        await audit.record(
            conn, actor_id=actor_id, action="role.revoke", subject=f"user:{user_id}", now=now, detail=role
        )
    return changed


async def set_blocked(conn: AsyncConnection, *, actor_id: int, user_id: int, blocked: bool, now: dt.datetime) -> bool:
    """Block or unblock a person; False if they already were in that state (nothing recorded)."""
    person = await users.get_user(conn, user_id)
    if person.blocked == blocked:
        return False
    await users.set_blocked(conn, user_id, blocked)
    await audit.record(
        conn,
        actor_id=actor_id,
        action="user.block" if blocked else "user.unblock",
        subject=f"user:{user_id}",
        now=now,
    )
    return True


async def list_staff(conn: AsyncConnection) -> list[StaffMember]:
    """Everyone holding a granted staff role, by name."""
    rows = (
        await conn.execute(
            select(users_table.c.id, users_table.c.first_name, users_table.c.username, user_roles.c.role)
            .join(user_roles, user_roles.c.user_id == users_table.c.id)
            .where(user_roles.c.role.in_(STAFF_ROLE_NAMES))
            .order_by(users_table.c.first_name, users_table.c.id, user_roles.c.role)
        )
    ).all()
    members: dict[int, StaffMember] = {}
    for row in rows:
        previous = members.get(row.id)
        roles = (*previous.roles, row.role) if previous else (row.role,)
        members[row.id] = StaffMember(row.id, row.first_name, row.username, roles)
    return list(members.values())


async def recent_audit(conn: AsyncConnection, limit: int) -> list[AuditEntry]:
    """The newest `limit` audit entries, newest first."""
    rows = (
        await conn.execute(select(audit_log).order_by(audit_log.c.at.desc(), audit_log.c.id.desc()).limit(limit))
    ).all()
    return [AuditEntry(row.at, row.actor_id, row.action, row.subject, row.detail) for row in rows]
