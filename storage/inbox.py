"""The durable inbox of Telegram updates (`update_inbox`): written as an update arrives, deleted once its
conversation state is written, read back at start-up for the updates a crash interrupted (channels/telegram/inbox.py);
and the ids of handled updates (`handled_updates`), kept `KEEP_HANDLED` so that an update Telegram delivers again (a
webhook retry after a lost answer, a takeover) is handled once; and the Bot API requests made while an update in the
inbox was handled (`update_sends`, channels/telegram/send_journal.py), deleted with its row, so handling it again sends
nothing twice.

The rows hold people's messages: they live only until the update was handled, /deleteme deletes them
(storage/privacy.py) and nothing here logs a payload.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, delete, exists, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import BindParameter

from storage.db import Database
from storage.schema import handled_updates, update_inbox, update_sends

# Telegram keeps an update at most a day: an id known this long cannot come back unnoticed.
KEEP_HANDLED = dt.timedelta(hours=25)


@dataclass(frozen=True, slots=True)
class LeftOver:
    """What start-up found in the inbox: the updates to handle again (update id, payload), oldest first, and how
    many rows were dropped as too old or as tried too often."""

    updates: list[tuple[int, str]]
    too_old: int
    given_up: int


# Built once: every update's row is written and deleted through these.
_IDS: BindParameter[list[int]] = bindparam("ids", expanding=True)
_KNOWN = (
    select(update_inbox.c.update_id)
    .where(update_inbox.c.update_id.in_(_IDS))
    .union_all(select(handled_updates.c.update_id).where(handled_updates.c.update_id.in_(_IDS)))
)
_KEEP = update_inbox.insert()
_COLUMNS = ("update_id", "chat_key", "user_id", "payload", "received_at")


def _keep_one(insert: Any) -> Any:
    """One update's row written unless its id is known (in the inbox, or handled): the read of the known ids and the
    insert in one statement, which says by its row count whether the update was fresh."""
    values = select(*(bindparam(name, type_=update_inbox.c[name].type) for name in _COLUMNS)).where(
        ~exists().where(handled_updates.c.update_id == bindparam("update_id"))
    )
    return insert(update_inbox).from_select(list(_COLUMNS), values).on_conflict_do_nothing()


_KEEP_ONE = {"sqlite": _keep_one(sqlite.insert), "postgresql": _keep_one(postgresql.insert)}
_FORGET = delete(update_inbox).where(update_inbox.c.update_id.in_(_IDS))
_HANDLED = select(handled_updates.c.update_id).where(handled_updates.c.update_id.in_(_IDS))
_REMEMBER = handled_updates.insert()
_FORGET_SENDS = delete(update_sends).where(update_sends.c.update_id.in_(_IDS))
_SENDS_OF = select(update_sends.c.digest, update_sends.c.occurrence, update_sends.c.answer).where(
    update_sends.c.update_id == bindparam("update_id")
)
_RECORD_SEND = update_sends.insert()


def row(*, update_id: int, chat_key: int, user_id: int | None, payload: str, now: dt.datetime) -> dict[str, Any]:
    """An update's inbox row, for `keep`."""
    return {"update_id": update_id, "chat_key": chat_key, "user_id": user_id, "payload": payload, "received_at": now}


async def keep(conn: AsyncConnection, rows: list[dict[str, Any]], known: set[int] | None = None) -> None:
    """Write updates as they arrive, before they are handled, in the caller's transaction. Updates already known
    (handled, or in the inbox already) are not written again, and their ids are added to `known`: not to be handled
    again. One update (as they mostly arrive) costs one statement; more, two for all of them."""
    if len(rows) == 1:
        written = await conn.execute(_KEEP_ONE[conn.dialect.name], rows[0])
        if not written.rowcount and known is not None:
            known.add(rows[0]["update_id"])
        return
    ids = [r["update_id"] for r in rows]
    found = set((await conn.execute(_KNOWN, {"ids": ids})).scalars())
    fresh = [r for r in rows if r["update_id"] not in found]
    if fresh:
        await conn.execute(_KEEP, fresh)
    if known is not None:
        known.update(found)


async def forget(conn: AsyncConnection, update_ids: Iterable[int], now: dt.datetime) -> None:
    """Delete handled updates and remember their ids, in the caller's transaction (the one writing their
    conversation state)."""
    ids = sorted(set(update_ids))
    if not ids:
        return
    await conn.execute(_FORGET, {"ids": ids})
    await conn.execute(_FORGET_SENDS, {"ids": ids})
    already = set((await conn.execute(_HANDLED, {"ids": ids})).scalars())
    new = [{"update_id": i, "handled_at": now} for i in ids if i not in already]
    if new:
        await conn.execute(_REMEMBER, new)


async def sends_made(conn: AsyncConnection, update_id: int) -> dict[tuple[str, int], str]:
    """The Bot API answers recorded while the update was handled before, by (request digest, occurrence)."""
    rows = await conn.execute(_SENDS_OF, {"update_id": update_id})
    return {(row.digest, row.occurrence): row.answer for row in rows}


async def record_send(
    conn: AsyncConnection,
    *,
    update_id: int,
    user_id: int | None,
    digest: str,
    occurrence: int,
    answer: str,
    now: dt.datetime,
) -> None:
    """Record one request made while handling the update, and Telegram's answer to it, in the caller's transaction."""
    await conn.execute(
        _RECORD_SEND,
        {
            "update_id": update_id,
            "digest": digest,
            "occurrence": occurrence,
            "user_id": user_id,
            "answer": answer,
            "sent_at": now,
        },
    )


async def prune_handled(conn: AsyncConnection, *, before: dt.datetime) -> int:
    """Forget the ids of updates handled before `before` (the hourly sweep, `KEEP_HANDLED` ago)."""
    result = await conn.execute(delete(handled_updates).where(handled_updates.c.handled_at < before))
    return result.rowcount or 0


async def left_over(db: Database, *, received_after: dt.datetime, attempts: int) -> LeftOver:
    """The updates a crash left unhandled, each counted as tried once more; rows received before `received_after`
    or already tried `attempts` times (an update that kills the bot each time) are deleted instead."""
    async with db.write() as conn:
        too_old = await conn.execute(delete(update_inbox).where(update_inbox.c.received_at < received_after))
        given_up = await conn.execute(delete(update_inbox).where(update_inbox.c.attempts >= attempts))
        # The requests recorded for updates no longer in the inbox (dropped just now, or a write that failed).
        await conn.execute(
            delete(update_sends).where(update_sends.c.update_id.not_in(select(update_inbox.c.update_id)))
        )
        await conn.execute(update(update_inbox).values(attempts=update_inbox.c.attempts + 1))
        rows = (
            await conn.execute(
                select(update_inbox.c.update_id, update_inbox.c.payload).order_by(update_inbox.c.update_id)
            )
        ).all()
    return LeftOver([(row.update_id, row.payload) for row in rows], too_old.rowcount or 0, given_up.rowcount or 0)


async def waiting(db: Database, *, chat_key: int | None = None, limit: int = 1000) -> list[tuple[int, str]]:
    """Updates in the inbox (update id, payload), oldest first: of one chat, or of all (at most `limit`). What webhook
    mode's leader reads to handle the updates any instance received (channels/telegram/webhook.py)."""
    query = select(update_inbox.c.update_id, update_inbox.c.payload).order_by(update_inbox.c.update_id).limit(limit)
    if chat_key is not None:
        query = query.where(update_inbox.c.chat_key == chat_key)
    async with db.read() as conn:
        return [(row.update_id, row.payload) for row in (await conn.execute(query)).all()]
