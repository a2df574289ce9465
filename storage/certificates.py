"""Volunteer-service certificates (志愿服务记录证明): what each one certified, so /verify can confirm it, and the
confirmed service (activities and wishes) a certificate lists."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.activities import ServiceLine, confirmed_activity_hours
from storage.schema import certificates, wishes
from storage.wishes import next_reference


@dataclass(frozen=True, slots=True)
class Certificate:
    """An issued certificate."""

    number: str
    code: str
    holder_id: int | None
    holder_name: str
    volunteer_no: str
    period_from: str
    period_to: str
    hours: float
    issued_at: dt.datetime
    verified_hours: float | None = None
    reported_hours: float | None = None


def _certificate(row: Any) -> Certificate:
    m = row._mapping
    return Certificate(**{name: m[name] for name in Certificate.__slots__})


async def service_lines(
    conn: AsyncConnection, user_id: int, *, since: dt.datetime, until: dt.datetime
) -> list[ServiceLine]:
    """The person's confirmed service in [since, until): activities (by start) and wishes (by confirmation)."""
    lines = await confirmed_activity_hours(conn, user_id, since=since, until=until)
    rows = await conn.execute(
        select(wishes.c.confirmed_at, wishes.c.category, wishes.c.ref_no, wishes.c.hours).where(
            wishes.c.claimed_by == user_id,
            wishes.c.status == "confirmed",
            wishes.c.hours > 0,
            wishes.c.confirmed_at >= since,
            wishes.c.confirmed_at < until,
        )
    )
    lines += [
        ServiceLine(row.confirmed_at, row.category, f"W-{row.ref_no:04d}", float(row.hours), verified=False)
        for row in rows
    ]
    return sorted(lines, key=lambda line: line.day)


async def issue(
    conn: AsyncConnection,
    *,
    code: str,
    holder_id: int,
    holder_name: str,
    volunteer_no: str,
    period_from: str,
    period_to: str,
    verified_hours: float,
    reported_hours: float,
    now: dt.datetime,
) -> Certificate:
    """Record a new certificate with the next number (TX-<year>-000001)."""
    serial = await next_reference(conn, "certificate")
    number = f"TX-{now.year}-{serial:06d}"
    hours = round(verified_hours + reported_hours, 2)
    certificate = Certificate(
        number,
        code,
        holder_id,
        holder_name,
        volunteer_no,
        period_from,
        period_to,
        hours,
        now,
        verified_hours,
        reported_hours,
    )
    await conn.execute(insert(certificates).values(**{n: getattr(certificate, n) for n in Certificate.__slots__}))
    return certificate


async def find_by_code(conn: AsyncConnection, code: str) -> Certificate | None:
    """The certificate with this verification code (only the code: its number is printed for all to see)."""
    row = (await conn.execute(select(certificates).where(certificates.c.code == code.strip().upper()))).first()
    return _certificate(row) if row is not None else None
