"""Queries for hot topics: the texts people wrote (wishes and tips), and the alerts already sent."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import insert, or_, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.errors import NotFound
from storage.people import admin_person_ids
from storage.privacy import ERASED_TEXT
from storage.schema import hot_alerts, tips, user_roles, users, wishes


@dataclass(frozen=True, slots=True)
class HotAlert:
    """A term that spiked on one local day, as alerted to staff."""

    id: int
    day: str
    term: str
    current_count: int
    previous_count: int
    wish_id: int | None = None
    tip_id: int | None = None


async def texts_since(conn: AsyncConnection, since: dt.datetime) -> list[tuple[dt.datetime, str]]:
    """(created_at, text) of every wish and tip written since `since` (erased texts left out)."""
    query = union_all(
        select(wishes.c.created_at, wishes.c.description.label("text")).where(
            wishes.c.created_at >= since, wishes.c.description != ERASED_TEXT
        ),
        select(tips.c.created_at, tips.c.description.label("text")).where(
            tips.c.created_at >= since, tips.c.description != ERASED_TEXT
        ),
    )
    rows = (await conn.execute(query)).all()
    # UNION loses the column type on SQLite, so the timestamp may come back as text.
    return [(_aware(row[0]), str(row[1])) for row in rows]


def _aware(value: object) -> dt.datetime:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    assert isinstance(value, dt.datetime)
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


async def record_alert(
    conn: AsyncConnection, *, day: str, term: str, current: int, previous: int, now: dt.datetime
) -> HotAlert | None:
    """Remember that `term` spiked on `day`; None when it was already alerted that day."""
    exists = (
        await conn.execute(select(hot_alerts.c.id).where(hot_alerts.c.day == day, hot_alerts.c.term == term))
    ).first()
    if exists is not None:
        return None
    result = await conn.execute(
        insert(hot_alerts)
        .values(day=day, term=term[:64], current_count=current, previous_count=previous, created_at=now)
        .returning(hot_alerts.c.id)
    )
    return HotAlert(int(result.scalar_one()), day, term[:64], current, previous)


async def get_alert(conn: AsyncConnection, alert_id: int) -> HotAlert:
    """One alert by id; `NotFound` otherwise."""
    row = (await conn.execute(select(hot_alerts).where(hot_alerts.c.id == alert_id))).first()
    if row is None:
        raise NotFound(f"hot alert {alert_id}")
    return HotAlert(row.id, row.day, row.term, row.current_count, row.previous_count, row.wish_id, row.tip_id)


async def link_alert(
    conn: AsyncConnection, alert_id: int, *, wish_id: int | None = None, tip_id: int | None = None
) -> bool:
    """Remember the wish draft or story lead made from an alert; False if one was made already."""
    column = hot_alerts.c.wish_id if wish_id is not None else hot_alerts.c.tip_id
    result = await conn.execute(
        update(hot_alerts)
        .where(hot_alerts.c.id == alert_id, column.is_(None))
        .values({column.name: wish_id if wish_id is not None else tip_id})
    )
    return bool(result.rowcount)


async def alert_recipients(
    conn: AsyncConnection, roles: Collection[str], *, admin_ids: Collection[int]
) -> dict[int, set[str]]:
    """The people holding one of `roles` (admins hold them all) whom the bot can reach, with those roles.

    `admin_ids` are Telegram ids (ADMIN_IDS), mapped to person ids through `identities`; keys are person ids.
    """
    admins = await admin_person_ids(conn, admin_ids)
    rows = (
        await conn.execute(
            select(users.c.id, user_roles.c.role)
            .outerjoin(user_roles, user_roles.c.user_id == users.c.id)
            .where(
                or_(user_roles.c.role.in_(list(roles)), users.c.id.in_(list(admins))),
                users.c.blocked.is_(False),
                users.c.unreachable.is_(False),
                users.c.erased_at.is_(None),
            )
        )
    ).all()
    found: dict[int, set[str]] = {}
    for row in rows:
        held = found.setdefault(row.id, set())
        if row.id in admins:
            held.update(roles)
        elif row.role in roles:
            held.add(row.role)
    return found
