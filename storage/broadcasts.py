"""Broadcasts: who is in each audience, the broadcast record, and its delivery tally read from the outbox."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from storage.errors import NotFound
from storage.media import add_telegram_media
from storage.people import TELEGRAM, persons_with_identity
from storage.schema import broadcasts, outbox, user_roles, users

AUDIENCES = ("volunteers", "reporters", "everyone", "staff")
AUDIENCE_ROLES = {
    "volunteers": ("volunteer",),
    "reporters": ("reporter",),
    "staff": ("coordinator", "editor", "monitor"),
}
DELIVERED = ("sent",)
UNREACHABLE = ("dropped", "failed", "unknown")


@dataclass(frozen=True, slots=True)
class Tally:
    """How far a broadcast got: recipients, delivered, unreachable, still queued."""

    total: int
    delivered: int
    unreachable: int

    @property
    def finished(self) -> bool:
        """Every message reached an end state."""
        return self.delivered + self.unreachable >= self.total


async def audience_ids(conn: AsyncConnection, audience: str, *, admin_ids: Collection[int]) -> list[int]:
    """Everyone in an audience who has talked to the bot, is not blocked by staff and was not erased.

    `admin_ids` are Telegram ids (ADMIN_IDS), mapped to person ids through `identities`; the result is person ids.
    """
    query = select(users.c.id).where(users.c.blocked.is_(False), users.c.erased_at.is_(None))
    if audience != "everyone":
        holders = select(user_roles.c.user_id).where(user_roles.c.role.in_(AUDIENCE_ROLES[audience]))
        condition: ColumnElement[bool] = users.c.id.in_(holders)
        if audience == "staff":
            condition = or_(condition, users.c.id.in_(persons_with_identity(TELEGRAM, admin_ids)))
        query = query.where(condition)
    return list((await conn.execute(query.order_by(users.c.id))).scalars())


async def create_broadcast(
    conn: AsyncConnection,
    *,
    created_by: int,
    audience: str,
    text: str | None,
    photo_file_id: str | None,
    total: int,
    now: dt.datetime,
) -> int:
    """Record a confirmed broadcast; returns its id."""
    result = await conn.execute(
        insert(broadcasts)
        .values(
            created_by=created_by,
            audience=audience,
            text=text,
            photo_media_id=await add_telegram_media(conn, "photo", photo_file_id, now=now),
            status="sending",
            total=total,
            created_at=now,
        )
        .returning(broadcasts.c.id)
    )
    return int(result.scalar_one())


def dedupe_prefix(broadcast_id: int) -> str:
    """The outbox keys of one broadcast start with this."""
    return f"broadcast:{broadcast_id}:"


async def set_progress_message(conn: AsyncConnection, broadcast_id: int, message_id: int) -> None:
    """Remember the coordinator's progress message, the one that is edited as messages go out."""
    await conn.execute(update(broadcasts).where(broadcasts.c.id == broadcast_id).values(progress_message_id=message_id))


async def tally(conn: AsyncConnection, broadcast_id: int) -> Tally:
    """Delivered and unreachable so far, from the outbox rows of the broadcast."""
    total = (await conn.execute(select(broadcasts.c.total).where(broadcasts.c.id == broadcast_id))).scalar()
    if total is None:
        raise NotFound(f"broadcast {broadcast_id}")
    prefix = dedupe_prefix(broadcast_id)
    rows = (
        await conn.execute(
            select(outbox.c.status, func.count())
            .where(outbox.c.dedupe_key.startswith(prefix, autoescape=True))
            .group_by(outbox.c.status)
        )
    ).all()
    counts = {status: int(count) for status, count in rows}
    return Tally(
        int(total),
        sum(counts.get(s, 0) for s in DELIVERED),
        sum(counts.get(s, 0) for s in UNREACHABLE),
    )


async def finish(conn: AsyncConnection, broadcast_id: int, final: Tally, *, now: dt.datetime) -> None:
    """Store the final tally."""
    await conn.execute(
        update(broadcasts)
        .where(broadcasts.c.id == broadcast_id)
        .values(status="done", delivered=final.delivered, unreachable=final.unreachable, finished_at=now)
    )
