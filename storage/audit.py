"""The audit log of staff actions (who did what to which record, when)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import insert, select
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


async def last_actor(conn: AsyncConnection, actions: Sequence[str], subject: str) -> int | None:
    """Who last did one of these actions to the subject (a person id; None: nobody, or the system)."""
    found = await conn.execute(
        select(audit_log.c.actor_id)
        .where(audit_log.c.action.in_(list(actions)), audit_log.c.subject == subject)
        .order_by(audit_log.c.id.desc())
        .limit(1)
    )
    actor = found.scalar_one_or_none()
    return int(actor) if actor is not None else None
