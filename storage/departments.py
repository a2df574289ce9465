"""Departments in the database: each department, its members and its invite links."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.errors import Conflict, LimitReached, NotFound
from storage.schema import department_invites, department_members, departments, users

INVITE_PREFIX = "dinv"


@dataclass(frozen=True, slots=True)
class Department:
    """A government department that takes cases."""

    id: int
    name: str
    categories: tuple[str, ...]
    areas: tuple[str, ...]
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class DepartmentInvite:
    """An invite link's record for joining one department."""

    code: str
    department_id: int
    created_by: int
    expires_at: dt.datetime
    max_uses: int
    uses: int

    @property
    def payload(self) -> str:
        """The /start payload of the link."""
        return f"{INVITE_PREFIX}_{self.code}"


def _department(row: Any) -> Department:
    m = row._mapping
    return Department(m["id"], m["name"], tuple(m["categories"] or ()), tuple(m["areas"] or ()), m["created_at"])


async def create_department(
    conn: AsyncConnection,
    *,
    name: str,
    categories: Sequence[str],
    areas: Sequence[str],
    created_by: int | None,
    now: dt.datetime,
) -> Department:
    """A new department; `Conflict` when the name is taken."""
    if (await conn.execute(select(departments.c.id).where(departments.c.name == name))).first() is not None:
        raise Conflict(f"department {name} exists", current="exists")
    result = await conn.execute(
        insert(departments)
        .values(name=name, categories=list(categories), areas=list(areas), created_by=created_by, created_at=now)
        .returning(departments.c.id)
    )
    return Department(int(result.scalar_one()), name, tuple(categories), tuple(areas), now)


async def get_department(conn: AsyncConnection, department_id: int) -> Department:
    """One department; `NotFound` otherwise."""
    row = (await conn.execute(select(departments).where(departments.c.id == department_id))).first()
    if row is None:
        raise NotFound(f"department {department_id}")
    return _department(row)


async def find_department(conn: AsyncConnection, name: str) -> Department:
    """The department of that name; `NotFound` otherwise."""
    row = (await conn.execute(select(departments).where(departments.c.name == name))).first()
    if row is None:
        raise NotFound(f"department {name}")
    return _department(row)


async def all_departments(conn: AsyncConnection) -> list[Department]:
    """Every department, by name."""
    rows = await conn.execute(select(departments).order_by(departments.c.name))
    return [_department(row) for row in rows]


async def member_counts(conn: AsyncConnection) -> dict[int, int]:
    """How many members each department has."""
    rows = await conn.execute(
        select(department_members.c.department_id, func.count()).group_by(department_members.c.department_id)
    )
    return {int(dep): int(n) for dep, n in rows.all()}


async def add_member(conn: AsyncConnection, department_id: int, user_id: int, now: dt.datetime) -> bool:
    """Make someone a member; False when they already were."""
    found = await conn.execute(
        select(department_members.c.user_id).where(
            department_members.c.department_id == department_id, department_members.c.user_id == user_id
        )
    )
    if found.first() is not None:
        return False
    await conn.execute(insert(department_members).values(department_id=department_id, user_id=user_id, joined_at=now))
    return True


async def members_of(conn: AsyncConnection, department_id: int) -> list[int]:
    """The members of a department whom the bot can reach (not blocked, erased or unreachable)."""
    rows = await conn.execute(
        select(department_members.c.user_id)
        .join(users, users.c.id == department_members.c.user_id)
        .where(
            department_members.c.department_id == department_id,
            users.c.blocked.is_(False),
            users.c.unreachable.is_(False),
            users.c.erased_at.is_(None),
        )
        .order_by(department_members.c.joined_at, department_members.c.user_id)
    )
    return [int(user_id) for user_id in rows.scalars()]


async def is_member(conn: AsyncConnection, department_id: int, user_id: int) -> bool:
    """Whether someone is a member of the department."""
    found = await conn.execute(
        select(department_members.c.user_id).where(
            department_members.c.department_id == department_id, department_members.c.user_id == user_id
        )
    )
    return found.first() is not None


async def departments_of(conn: AsyncConnection, user_id: int) -> list[Department]:
    """The departments someone is a member of."""
    rows = await conn.execute(
        select(departments)
        .join(department_members, department_members.c.department_id == departments.c.id)
        .where(department_members.c.user_id == user_id)
        .order_by(departments.c.name)
    )
    return [_department(row) for row in rows]


async def create_invite(
    conn: AsyncConnection,
    *,
    department_id: int,
    created_by: int,
    now: dt.datetime,
    valid_for: dt.timedelta,
    max_uses: int,
) -> DepartmentInvite:
    """Mint an invite link to join the department."""
    code = secrets.token_urlsafe(9)
    await conn.execute(
        insert(department_invites).values(
            code=code,
            department_id=department_id,
            created_by=created_by,
            created_at=now,
            expires_at=now + valid_for,
            max_uses=max_uses,
        )
    )
    return DepartmentInvite(code, department_id, created_by, now + valid_for, max_uses, 0)


async def use_invite(conn: AsyncConnection, code: str, now: dt.datetime) -> DepartmentInvite:
    """Count one use of an invite, atomically: `NotFound` if unknown, `LimitReached` if expired or used up."""
    row = (await conn.execute(select(department_invites).where(department_invites.c.code == code))).first()
    if row is None:
        raise NotFound(f"department invite {code}")
    result = await conn.execute(
        update(department_invites)
        .where(
            department_invites.c.code == code,
            department_invites.c.uses < department_invites.c.max_uses,
            department_invites.c.expires_at > now,
        )
        .values(uses=department_invites.c.uses + 1)
    )
    if result.rowcount != 1:
        raise LimitReached(f"department invite {code} expired or used up")
    m = row._mapping
    return DepartmentInvite(
        m["code"], m["department_id"], m["created_by"], m["expires_at"], m["max_uses"], m["uses"] + 1
    )
