"""Broadcasts: who is in each audience, the broadcast record, its recipients queued in one statement, and
its delivery tally read from the outbox.

A broadcast's recipients are outbox rows keyed `broadcast:<id>:<person>` (see `queue_recipients`); how far
it got is always counted from those rows, never kept anywhere else. `delivered` and `unreachable` on the
broadcast row are the tally last shown to its author (the final one once `finished_at` is set).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, Select, String, case, cast, func, insert, literal, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from storage.errors import NotFound
from storage.media import add_telegram_media
from storage.outbox import LANE_RANK
from storage.people import TELEGRAM, persons_with_identity
from storage.schema import broadcasts, outbox, user_roles, users
from storage.types import UTCDateTime

AUDIENCES = ("volunteers", "reporters", "everyone", "staff")
AUDIENCE_ROLES = {
    "volunteers": ("volunteer",),
    "reporters": ("reporter",),
    "staff": ("coordinator", "editor", "monitor"),
}
DELIVERED = ("sent",)
# On the wire when the process was killed: not sent again, and most likely delivered (see README "Delivery").
UNCERTAIN = ("unknown",)
IN_FLIGHT = ("pending", "sending")


@dataclass(frozen=True, slots=True)
class Tally:
    """How far a broadcast got: recipients, delivered, not delivered, and still queued.

    `unreachable` counts every settled row that was not delivered (blocked the bot, refused, or on the
    wire at a crash: `uncertain` says how many of those were the last kind).
    """

    total: int
    delivered: int
    unreachable: int
    uncertain: int = 0
    in_flight: int = 0

    @property
    def settled(self) -> int:
        """How many messages reached an end state."""
        return self.delivered + self.unreachable

    @property
    def finished(self) -> bool:
        """Every message reached an end state (none is queued or on the wire any more)."""
        return self.in_flight == 0


@dataclass(frozen=True, slots=True)
class Broadcast:
    """A broadcast that is still going out, with what its author was last shown."""

    id: int
    created_by: int
    total: int
    shown_delivered: int
    shown_unreachable: int
    progress_message_id: int | None


def audience_query(audience: str, *, admin_ids: Collection[int]) -> Select[Any]:
    """Everyone in an audience who has talked to the bot, is not blocked by staff and was not erased (their
    person id and whether they blocked the bot).

    `admin_ids` are Telegram ids (ADMIN_IDS), mapped to person ids through `identities`.
    """
    query = select(users.c.id, users.c.unreachable).where(users.c.blocked.is_(False), users.c.erased_at.is_(None))
    if audience != "everyone":
        holders = select(user_roles.c.user_id).where(user_roles.c.role.in_(AUDIENCE_ROLES[audience]))
        condition: ColumnElement[bool] = users.c.id.in_(holders)
        if audience == "staff":
            condition = or_(condition, users.c.id.in_(persons_with_identity(TELEGRAM, admin_ids)))
        query = query.where(condition)
    return query


async def audience_ids(conn: AsyncConnection, audience: str, *, admin_ids: Collection[int]) -> list[int]:
    """The ids of everyone in an audience (see `audience_query`), in id order."""
    query = audience_query(audience, admin_ids=admin_ids).order_by(users.c.id)
    return [int(row.id) for row in await conn.execute(query)]


async def audience_size(conn: AsyncConnection, audience: str, *, admin_ids: Collection[int]) -> int:
    """How many people an audience holds now (the preview's count)."""
    members = audience_query(audience, admin_ids=admin_ids).subquery()
    return int((await conn.execute(select(func.count()).select_from(members))).scalar_one())


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


async def photo_of(conn: AsyncConnection, broadcast_id: int) -> int | None:
    """The media id of the broadcast's photo (see storage/media.py), or None when it has none."""
    result = await conn.execute(select(broadcasts.c.photo_media_id).where(broadcasts.c.id == broadcast_id))
    return result.scalar_one_or_none()


def dedupe_prefix(broadcast_id: int) -> str:
    """The outbox keys of one broadcast start with this."""
    return f"broadcast:{broadcast_id}:"


async def queue_recipients(
    conn: AsyncConnection,
    broadcast_id: int,
    *,
    audience: str,
    admin_ids: Collection[int],
    payload: dict[str, Any],
    now: dt.datetime,
) -> int:
    """Queue the broadcast for everyone in its audience with ONE `INSERT … SELECT`; returns how many rows
    were written, and records that as the broadcast's total.

    One bulk row per person, keyed `broadcast:<id>:<person>`; people who blocked the bot get their row as
    `dropped` at once (as `outbox.enqueue` does), so the tally counts them without a send being tried.
    """
    people = audience_query(audience, admin_ids=admin_ids).subquery()
    rows = select(
        case((people.c.unreachable.is_(True), "dropped"), else_="pending").label("status"),
        (literal(dedupe_prefix(broadcast_id)) + cast(people.c.id, String)).label("dedupe_key"),
        literal("bulk").label("lane"),
        literal(LANE_RANK["bulk"]).label("lane_rank"),
        people.c.id.label("recipient_id"),
        literal(payload, JSON).label("payload"),
        literal(now, UTCDateTime).label("created_at"),
        literal(now, UTCDateTime).label("not_before"),
    ).where(people.c.id.is_not(None))  # SQLite needs a WHERE before ON CONFLICT in an INSERT … SELECT
    columns = ["status", "dedupe_key", "lane", "lane_rank", "recipient_id", "payload", "created_at", "not_before"]
    statement: Any
    if conn.dialect.name == "postgresql":
        statement = pg_insert(outbox).from_select(columns, rows).on_conflict_do_nothing(index_elements=["dedupe_key"])
    else:
        statement = (
            sqlite_insert(outbox).from_select(columns, rows).on_conflict_do_nothing(index_elements=["dedupe_key"])
        )
    queued = int((await conn.execute(statement)).rowcount)
    await conn.execute(update(broadcasts).where(broadcasts.c.id == broadcast_id).values(total=queued))
    return queued


async def set_progress_message(conn: AsyncConnection, broadcast_id: int, message_id: int) -> None:
    """Remember the coordinator's progress message, the one that is edited as messages go out."""
    await conn.execute(update(broadcasts).where(broadcasts.c.id == broadcast_id).values(progress_message_id=message_id))


async def unfinished(conn: AsyncConnection) -> list[Broadcast]:
    """The broadcasts still going out (whose final tally is not written yet), oldest first."""
    rows = await conn.execute(
        select(
            broadcasts.c.id,
            broadcasts.c.created_by,
            broadcasts.c.total,
            broadcasts.c.delivered,
            broadcasts.c.unreachable,
            broadcasts.c.progress_message_id,
        )
        .where(broadcasts.c.finished_at.is_(None))
        .order_by(broadcasts.c.id)
    )
    return [
        Broadcast(
            int(row.id),
            int(row.created_by),
            int(row.total),
            int(row.delivered),
            int(row.unreachable),
            None if row.progress_message_id is None else int(row.progress_message_id),
        )
        for row in rows
    ]


async def record_shown(conn: AsyncConnection, broadcast_id: int, shown: Tally) -> bool:
    """Remember the tally the author is being shown; False if the broadcast finished meanwhile."""
    result = await conn.execute(
        update(broadcasts)
        .where(broadcasts.c.id == broadcast_id, broadcasts.c.finished_at.is_(None))
        .values(delivered=shown.delivered, unreachable=shown.unreachable)
    )
    return bool(result.rowcount)


async def tally(conn: AsyncConnection, broadcast_id: int) -> Tally:
    """Delivered, not delivered and still queued so far, from the outbox rows of the broadcast."""
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
    counts = {str(status): int(count) for status, count in rows}
    delivered = sum(counts.get(s, 0) for s in DELIVERED)
    in_flight = sum(counts.get(s, 0) for s in IN_FLIGHT)
    return Tally(
        int(total),
        delivered,
        sum(counts.values()) - delivered - in_flight,
        uncertain=sum(counts.get(s, 0) for s in UNCERTAIN),
        in_flight=in_flight,
    )


async def finish(conn: AsyncConnection, broadcast_id: int, final: Tally, *, now: dt.datetime) -> bool:
    """Store the final tally; False (and nothing changes) if it was stored before."""
    result = await conn.execute(
        update(broadcasts)
        .where(broadcasts.c.id == broadcast_id, broadcasts.c.finished_at.is_(None))
        .values(status="done", delivered=final.delivered, unreachable=final.unreachable, finished_at=now)
    )
    return bool(result.rowcount)
