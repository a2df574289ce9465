"""Read models of the command-centre screen and of Open311: counts, daily series and public request rows.

Only what may be public leaves here for Open311: category, area, status, times — never a name, phone, address,
coordinates or anything a person typed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.schema import cases, metadata, tips, wishes

# Wishes staff have not accepted (or turned down) are not public requests.
UNPUBLISHED_WISHES = ("pending_review", "rejected")


async def count_wishes(conn: AsyncConnection) -> int:
    """Needs collected: every wish submitted, except those staff turned down."""
    query = select(func.count()).select_from(wishes).where(wishes.c.status != "rejected")
    return int((await conn.execute(query)).scalar_one())


async def count_tips(conn: AsyncConnection, statuses: tuple[str, ...]) -> int:
    """Tips in these statuses."""
    query = select(func.count()).select_from(tips).where(tips.c.status.in_(statuses))
    return int((await conn.execute(query)).scalar_one())


async def count_projects(conn: AsyncConnection) -> int | None:
    """Volunteer projects run, when this deployment's schema has a `projects` table (None: it has none)."""
    table = metadata.tables.get("projects")
    if table is None:
        return None
    return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


async def created_since(conn: AsyncConnection, since: dt.datetime) -> dict[str, list[dt.datetime]]:
    """When each wish, tip and case of the period was created (for the 30-day trends)."""
    found: dict[str, list[dt.datetime]] = {}
    for name, table in (("wishes", wishes), ("tips", tips), ("cases", cases)):
        rows = await conn.execute(select(table.c.created_at).where(table.c.created_at >= since))
        found[name] = list(rows.scalars())
    return found


@dataclass(frozen=True, slots=True)
class PublicRequest:
    """A wish or a case as Open311 may show it."""

    kind: str  # wish | case
    ref_no: int
    category: str
    area: str | None
    status: str
    created_at: dt.datetime
    updated_at: dt.datetime
    department_id: int | None = None
    due_at: dt.datetime | None = None


async def public_requests(
    conn: AsyncConnection,
    *,
    since: dt.datetime,
    until: dt.datetime,
    wish_statuses: tuple[str, ...] | None,
    case_statuses: tuple[str, ...] | None,
    category: str | None,
    limit: int,
) -> list[PublicRequest]:
    """Wishes and cases created in [since, until), newest first (statuses None: any public one)."""
    found: list[PublicRequest] = []
    query = select(
        wishes.c.ref_no, wishes.c.category, wishes.c.area, wishes.c.status, wishes.c.created_at, wishes.c.updated_at
    ).where(wishes.c.created_at >= since, wishes.c.created_at < until, wishes.c.status.not_in(UNPUBLISHED_WISHES))
    if wish_statuses is not None:
        query = query.where(wishes.c.status.in_(wish_statuses))
    if category is not None:
        query = query.where(wishes.c.category == category)
    for row in await conn.execute(query.order_by(wishes.c.created_at.desc()).limit(limit)):
        found.append(
            PublicRequest("wish", row.ref_no, row.category, row.area, row.status, row.created_at, row.updated_at)
        )
    query = select(
        cases.c.ref_no,
        cases.c.category,
        cases.c.area,
        cases.c.status,
        cases.c.created_at,
        cases.c.updated_at,
        cases.c.department_id,
        cases.c.resolve_due_at,
    ).where(cases.c.created_at >= since, cases.c.created_at < until)
    if case_statuses is not None:
        query = query.where(cases.c.status.in_(case_statuses))
    if category is not None:
        query = query.where(cases.c.category == category)
    for row in await conn.execute(query.order_by(cases.c.created_at.desc()).limit(limit)):
        found.append(
            PublicRequest(
                "case",
                row.ref_no,
                row.category,
                row.area,
                row.status,
                row.created_at,
                row.updated_at,
                row.department_id,
                row.resolve_due_at,
            )
        )
    found.sort(key=lambda r: r.created_at, reverse=True)
    return found[:limit]


async def public_request(conn: AsyncConnection, kind: str, ref_no: int) -> PublicRequest | None:
    """One public wish or case by its reference number, or None."""
    if kind == "wish":
        row = (
            await conn.execute(
                select(
                    wishes.c.ref_no,
                    wishes.c.category,
                    wishes.c.area,
                    wishes.c.status,
                    wishes.c.created_at,
                    wishes.c.updated_at,
                ).where(wishes.c.ref_no == ref_no, wishes.c.status.not_in(UNPUBLISHED_WISHES))
            )
        ).first()
        if row is None:
            return None
        return PublicRequest("wish", row.ref_no, row.category, row.area, row.status, row.created_at, row.updated_at)
    row = (
        await conn.execute(
            select(
                cases.c.ref_no,
                cases.c.category,
                cases.c.area,
                cases.c.status,
                cases.c.created_at,
                cases.c.updated_at,
                cases.c.department_id,
                cases.c.resolve_due_at,
            ).where(cases.c.ref_no == ref_no)
        )
    ).first()
    if row is None:
        return None
    return PublicRequest(
        "case",
        row.ref_no,
        row.category,
        row.area,
        row.status,
        row.created_at,
        row.updated_at,
        row.department_id,
        row.resolve_due_at,
    )
