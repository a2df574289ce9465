"""Departments in the database: each department, its members and its invite links."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.errors import Conflict, LimitReached, NotFound
from storage.schema import (
    case_cards,
    cases,
    department_invites,
    department_members,
    department_requests,
    departments,
    users,
)

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


# --- requests to join, removal, and the case cards a member was shown -------------------------------------------


@dataclass(frozen=True, slots=True)
class JoinRequest:
    """Someone who followed a department's invite link, waiting for a coordinator."""

    id: int
    department_id: int
    user_id: int
    status: str


async def request_to_join(conn: AsyncConnection, department_id: int, user_id: int, code: str, now: dt.datetime) -> int:
    """A pending request of the person to join (the one already pending, if any); its id."""
    found = (
        await conn.execute(
            select(department_requests.c.id).where(
                department_requests.c.department_id == department_id,
                department_requests.c.user_id == user_id,
                department_requests.c.status == "pending",
            )
        )
    ).scalar_one_or_none()
    if found is not None:
        return int(found)
    result = await conn.execute(
        insert(department_requests)
        .values(department_id=department_id, user_id=user_id, invite_code=code, status="pending", created_at=now)
        .returning(department_requests.c.id)
    )
    return int(result.scalar_one())


async def get_request(conn: AsyncConnection, request_id: int) -> JoinRequest:
    row = (await conn.execute(select(department_requests).where(department_requests.c.id == request_id))).first()
    if row is None:
        raise NotFound(f"department request {request_id}")
    return JoinRequest(row.id, row.department_id, int(row.user_id), row.status)


async def decide_request(conn: AsyncConnection, request_id: int, status: str, *, by: int, now: dt.datetime) -> bool:
    """Move a pending request to `status` (approved, rejected); False when it was no longer pending."""
    result = await conn.execute(
        update(department_requests)
        .where(department_requests.c.id == request_id, department_requests.c.status == "pending")
        .values(status=status, decided_by=by, decided_at=now)
    )
    return bool(result.rowcount)


async def remove_member(conn: AsyncConnection, department_id: int, user_id: int) -> bool:
    """Take the person out of the department; False when they were not in it."""
    result = await conn.execute(
        delete(department_members).where(
            department_members.c.department_id == department_id, department_members.c.user_id == user_id
        )
    )
    return bool(result.rowcount)


async def member_list(conn: AsyncConnection, department_id: int) -> list[tuple[int, str]]:
    """Every member of the department (person id, name), in the order they joined."""
    rows = await conn.execute(
        select(department_members.c.user_id, users.c.first_name)
        .join(users, users.c.id == department_members.c.user_id)
        .where(department_members.c.department_id == department_id)
        .order_by(department_members.c.joined_at, department_members.c.user_id)
    )
    return [(int(row.user_id), row.first_name) for row in rows]


async def remember_case_card(conn: AsyncConnection, case_id: int, person_id: int, message_id: int) -> None:
    """A case card shown to a member as a direct reply (taken back if they leave the department)."""
    found = await conn.execute(
        select(case_cards.c.case_id).where(
            case_cards.c.case_id == case_id, case_cards.c.person_id == person_id, case_cards.c.message_id == message_id
        )
    )
    if found.first() is None:
        await conn.execute(insert(case_cards).values(case_id=case_id, person_id=person_id, message_id=message_id))


async def take_case_cards(conn: AsyncConnection, person_id: int, case_ids: Iterable[int]) -> list[int]:
    """The message ids of the case cards shown to the person as replies for these cases, forgotten now."""
    ids = list(case_ids)
    if not ids:
        return []
    where = (case_cards.c.person_id == person_id, case_cards.c.case_id.in_(ids))
    found = [int(m) for m in (await conn.execute(select(case_cards.c.message_id).where(*where))).scalars()]
    await conn.execute(delete(case_cards).where(*where))
    return found


async def case_ids_of(conn: AsyncConnection, department_id: int) -> list[int]:
    """Every case the department was ever sent (their cards are what a leaving member loses)."""
    return [
        int(i) for i in (await conn.execute(select(cases.c.id).where(cases.c.department_id == department_id))).scalars()
    ]
