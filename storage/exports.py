"""Rows for /export: wishes and tips created in a date range, and service hours confirmed in it (wishes by
their confirmation, activities checked in on the spot by their start, as the certificate counts them).

Plain rows as stored; `rules.exports.export_rows` adds the references people see (W-0001, T-0001).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.schema import activities, signups, tips, volunteers, wishes


async def wish_rows(conn: AsyncConnection, since: dt.datetime, until: dt.datetime) -> list[dict[str, Any]]:
    """Wishes created in [since, until), oldest first."""
    rows = (
        await conn.execute(
            select(wishes).where(wishes.c.created_at >= since, wishes.c.created_at < until).order_by(wishes.c.id)
        )
    ).mappings()
    return [dict(row) for row in rows]


async def tip_rows(conn: AsyncConnection, since: dt.datetime, until: dt.datetime) -> list[dict[str, Any]]:
    """Tips received in [since, until), oldest first."""
    rows = (
        await conn.execute(
            select(tips).where(tips.c.created_at >= since, tips.c.created_at < until).order_by(tips.c.id)
        )
    ).mappings()
    return [dict(row) for row in rows]


async def hours_rows(conn: AsyncConnection, since: dt.datetime, until: dt.datetime) -> list[dict[str, Any]]:
    """Per volunteer: wish tasks, activities, all hours and the verified (activity) part, most hours first."""
    service = union_all(
        select(
            wishes.c.claimed_by.label("user_id"),
            wishes.c.hours.label("hours"),
            literal(0.0).label("verified"),
            literal(1).label("task"),
            literal(0).label("activity"),
        ).where(wishes.c.confirmed_at >= since, wishes.c.confirmed_at < until, wishes.c.claimed_by.is_not(None)),
        select(
            signups.c.user_id.label("user_id"),
            signups.c.hours.label("hours"),
            signups.c.hours.label("verified"),
            literal(0).label("task"),
            literal(1).label("activity"),
        )
        .select_from(signups.join(activities, activities.c.id == signups.c.activity_id))
        .where(
            signups.c.confirmed_at.is_not(None),
            signups.c.no_show.is_(False),
            signups.c.hours > 0,
            activities.c.starts_at >= since,
            activities.c.starts_at < until,
        ),
    ).subquery()
    hours = func.coalesce(func.sum(service.c.hours), 0.0)
    query = (
        select(
            service.c.user_id.label("volunteer_id"),
            volunteers.c.name,
            volunteers.c.area,
            func.sum(service.c.task).label("tasks"),
            func.sum(service.c.activity).label("activities"),
            hours.label("hours"),
            func.coalesce(func.sum(service.c.verified), 0.0).label("verified_hours"),
        )
        .outerjoin(volunteers, volunteers.c.user_id == service.c.user_id)
        .group_by(service.c.user_id, volunteers.c.name, volunteers.c.area)
        .order_by(hours.desc(), service.c.user_id)
    )
    return [dict(row) for row in (await conn.execute(query)).mappings()]
