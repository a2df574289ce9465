"""Time-limited holds: after an auto-release a wish is reserved for the volunteers it was offered to, until
`wishes.held_until`. The people are in `wish_holds`; a hold is only in force while the wish is open and
the moment has not passed, so an old hold needs no clean-up to stop counting.

Claim cards: the messages that showed a claimer a wish's contact details (`claim_cards`), taken back when the
claim ends so the cards can be withdrawn."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.schema import claim_cards, wish_holds, wishes


async def hold(conn: AsyncConnection, wish_id: int, user_ids: Sequence[int], *, until: dt.datetime | None) -> None:
    """Reserve the wish for exactly these people until `until` (None, or nobody: no hold), replacing any
    earlier hold."""
    await conn.execute(delete(wish_holds).where(wish_holds.c.wish_id == wish_id))
    people = sorted(set(user_ids)) if until is not None else []
    if people:
        await conn.execute(insert(wish_holds), [{"wish_id": wish_id, "user_id": user_id} for user_id in people])
    await conn.execute(update(wishes).where(wishes.c.id == wish_id).values(held_until=until if people else None))


async def forget(conn: AsyncConnection, wish_id: int) -> None:
    """Drop who the wish was reserved for (it was claimed; `held_until` is cleared by the claim itself)."""
    await conn.execute(delete(wish_holds).where(wish_holds.c.wish_id == wish_id))


async def holders_of(conn: AsyncConnection, wish_id: int) -> list[int]:
    """The people the wish is (or was last) reserved for."""
    rows = await conn.execute(
        select(wish_holds.c.user_id).where(wish_holds.c.wish_id == wish_id).order_by(wish_holds.c.user_id)
    )
    return list(rows.scalars())


async def is_holder(conn: AsyncConnection, wish_id: int, user_id: int) -> bool:
    """Whether the wish is reserved for this person (among others)."""
    row = (
        await conn.execute(
            select(wish_holds.c.user_id).where(wish_holds.c.wish_id == wish_id, wish_holds.c.user_id == user_id)
        )
    ).first()
    return row is not None


async def held_from(conn: AsyncConnection, user_id: int, now: dt.datetime) -> set[int]:
    """Ids of the open wishes reserved, at `now`, for people other than this one."""
    theirs = select(wish_holds.c.wish_id).where(wish_holds.c.user_id == user_id)
    rows = await conn.execute(
        select(wishes.c.id).where(
            wishes.c.status == "open",
            wishes.c.held_until.is_not(None),
            wishes.c.held_until > now,
            wishes.c.id.not_in(theirs),
        )
    )
    return set(rows.scalars())


async def remember_card(
    conn: AsyncConnection, wish_id: int, person_id: int, message_id: int, kind: str = "card"
) -> None:
    """Note that this message showed the claimer the wish's contact details (once per message): a `card` (text,
    edited when withdrawn), or a `pin` or `photo` (deleted when withdrawn)."""
    exists = await conn.execute(
        select(claim_cards.c.wish_id).where(
            claim_cards.c.wish_id == wish_id,
            claim_cards.c.person_id == person_id,
            claim_cards.c.message_id == message_id,
        )
    )
    if exists.first() is None:
        await conn.execute(
            insert(claim_cards).values(wish_id=wish_id, person_id=person_id, message_id=message_id, kind=kind)
        )


async def cards_of(conn: AsyncConnection, wish_id: int, person_id: int) -> list[tuple[int, str]]:
    """The messages (id, kind) that showed this person the wish's contact details (kept remembered)."""
    found = await conn.execute(
        select(claim_cards.c.message_id, claim_cards.c.kind).where(
            claim_cards.c.wish_id == wish_id, claim_cards.c.person_id == person_id
        )
    )
    return sorted((int(row.message_id), str(row.kind)) for row in found)


async def take_cards(conn: AsyncConnection, wish_id: int, person_id: int) -> list[tuple[int, str]]:
    """The messages (id, kind) that showed this person the wish's contact details, forgotten as they are returned."""
    ids = await cards_of(conn, wish_id, person_id)
    await conn.execute(
        delete(claim_cards).where(claim_cards.c.wish_id == wish_id, claim_cards.c.person_id == person_id)
    )
    return ids
