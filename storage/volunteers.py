"""Queries for volunteer profiles: who they are, what they help with (skills = wish categories), where.

The `volunteer` role itself is granted through an application (`rules.applications.register_volunteer` saves the
profile and applies); this is the profile behind it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.errors import NotFound
from storage.schema import user_roles, volunteer_skills, volunteers


@dataclass(frozen=True, slots=True)
class Volunteer:
    """A volunteer's profile."""

    user_id: int
    name: str
    phone: str | None
    skills: frozenset[str]
    area: str | None
    latitude: float | None
    longitude: float | None
    created_at: dt.datetime

    @property
    def location(self) -> tuple[float, float] | None:
        """(latitude, longitude) when the volunteer shared one."""
        if self.latitude is None or self.longitude is None:
            return None
        return (self.latitude, self.longitude)


async def _skills(conn: AsyncConnection, user_id: int) -> frozenset[str]:
    rows = await conn.execute(select(volunteer_skills.c.category).where(volunteer_skills.c.user_id == user_id))
    return frozenset(rows.scalars())


def _from_row(row: Any, skills: frozenset[str]) -> Volunteer:
    return Volunteer(
        user_id=row.user_id,
        name=row.name,
        phone=row.phone,
        skills=skills,
        area=row.area,
        latitude=row.latitude,
        longitude=row.longitude,
        created_at=row.created_at,
    )


async def save_volunteer(
    conn: AsyncConnection,
    *,
    user_id: int,
    name: str,
    phone: str | None,
    skills: Iterable[str],
    area: str | None,
    location: tuple[float, float] | None,
    now: dt.datetime,
) -> Volunteer:
    """Create or replace a person's volunteer profile (registering again updates it)."""
    values: dict[str, Any] = {
        "name": name,
        "phone": phone,
        "area": area,
        "latitude": location[0] if location else None,
        "longitude": location[1] if location else None,
        "updated_at": now,
    }
    result = await conn.execute(update(volunteers).where(volunteers.c.user_id == user_id).values(**values))
    if result.rowcount == 0:
        await conn.execute(insert(volunteers).values(user_id=user_id, created_at=now, **values))
    await conn.execute(delete(volunteer_skills).where(volunteer_skills.c.user_id == user_id))
    unique = sorted(set(skills))
    if unique:
        await conn.execute(insert(volunteer_skills), [{"user_id": user_id, "category": c} for c in unique])
    return await get_volunteer(conn, user_id)


async def get_volunteer(conn: AsyncConnection, user_id: int) -> Volunteer:
    """One profile; `NotFound` if the person never registered."""
    row = (await conn.execute(select(volunteers).where(volunteers.c.user_id == user_id))).first()
    if row is None:
        raise NotFound(f"volunteer {user_id}")
    return _from_row(row, await _skills(conn, user_id))


async def find_volunteer(conn: AsyncConnection, user_id: int) -> Volunteer | None:
    """One profile, or None."""
    try:
        return await get_volunteer(conn, user_id)
    except NotFound:
        return None


async def volunteers_matching(conn: AsyncConnection, category: str, *, area: str | None = None) -> list[Volunteer]:
    """Approved volunteers who help with `category` (and, when given, live in `area`), oldest first.

    Used to dispatch a wish to the right people (the coordinator's whistle, weekly digests).
    """
    query = (
        select(volunteers)
        .join(volunteer_skills, volunteer_skills.c.user_id == volunteers.c.user_id)
        .join(user_roles, (user_roles.c.user_id == volunteers.c.user_id) & (user_roles.c.role == "volunteer"))
        .where(volunteer_skills.c.category == category)
        .order_by(volunteers.c.created_at, volunteers.c.user_id)
    )
    if area is not None:
        query = query.where(volunteers.c.area == area)
    rows = (await conn.execute(query)).all()
    return [_from_row(row, await _skills(conn, row.user_id)) for row in rows]
