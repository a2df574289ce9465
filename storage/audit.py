"""The audit log of staff actions (who did what to which record, when)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.schema import audit_log


async def record(
    conn: AsyncConnection,
    *,
    actor_id: int | None,
    action: str,
    subject: str | None,
    now: dt.datetime,
    detail: str | None = None,
) -> None:
    """Append one staff action to the audit log, in the caller's transaction."""
    await conn.execute(
        insert(audit_log).values(at=now, actor_id=actor_id, action=action, subject=subject, detail=detail)
    )
