"""People and their channel accounts: the internal person id (`users.id`) and `identities(channel, external_id)`.

A person id is never a chat id and a Telegram user id is never a person id: code that has one and needs the
other goes through here. `ADMIN_IDS` in the settings are Telegram ids; `admin_person_ids` / `person_ids_for`
turn them into person ids, `persons_with_identity` gives the same as a subquery for queries that filter on it.

People from before migration 0009 kept their Telegram id as their person id; everyone after takes the next
value of the `person` row of `reference_counters`, which started above the largest of those.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable

from sqlalchemy import Select, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.schema import identities, reference_counters, users
from storage.users import User, get_user, user_by_identity

# Channels as identities name them.
TELEGRAM = "telegram"
WECOM = "wecom"


def persons_with_identity(channel: str, external_ids: Iterable[int | str]) -> Select[tuple[int]]:
    """A subquery of the person ids behind these accounts of `channel` (e.g. ADMIN_IDS on Telegram)."""
    return select(identities.c.person_id).where(
        identities.c.channel == channel, identities.c.external_id.in_([str(x) for x in external_ids])
    )


async def person_ids_for(conn: AsyncConnection, channel: str, external_ids: Iterable[int | str]) -> list[int]:
    """The person ids behind these accounts of `channel`, for those who ever wrote to us (others are left out)."""
    wanted = [str(x) for x in external_ids]
    if not wanted:
        return []
    result = await conn.execute(persons_with_identity(channel, wanted).order_by(identities.c.person_id))
    return list(result.scalars())


async def admin_person_ids(conn: AsyncConnection, admin_ids: Collection[int]) -> frozenset[int]:
    """The person ids of the admins named by Telegram id in the settings."""
    return frozenset(await person_ids_for(conn, TELEGRAM, admin_ids))


async def find_person(conn: AsyncConnection, channel: str, external_id: int | str) -> User | None:
    """The person behind an account, or None when it never wrote to us (one statement: every update asks)."""
    return await user_by_identity(conn, channel, str(external_id))


async def person_for_identity(
    conn: AsyncConnection,
    channel: str,
    external_id: int | str,
    *,
    first_name: str,
    last_name: str | None = None,
    username: str | None = None,
    language: str,
    now: dt.datetime,
) -> User:
    """The person behind an account: created with a new person id and the identity on first contact, their
    profile refreshed (and `unreachable` cleared: they evidently reach us) afterwards.

    The language is only used on creation: afterwards the person's own choice (/language) wins. Concurrent
    first contacts of one account are serialised by the caller (updates of one user are handled in order).
    """
    profile = {
        "first_name": first_name[:128],
        "last_name": last_name[:128] if last_name else None,
        "username": username,
    }
    person_id = (
        await conn.execute(
            select(identities.c.person_id).where(
                identities.c.channel == channel, identities.c.external_id == str(external_id)
            )
        )
    ).scalar_one_or_none()
    if person_id is None:
        person_id = await _next_person_id(conn)
        await conn.execute(
            insert(users).values(id=person_id, language=language, created_at=now, last_seen_at=now, **profile)
        )
        await conn.execute(
            insert(identities).values(
                channel=channel, external_id=str(external_id), person_id=person_id, created_at=now
            )
        )
    else:
        await conn.execute(
            update(users).where(users.c.id == person_id).values(last_seen_at=now, unreachable=False, **profile)
        )
    return await get_user(conn, int(person_id))


async def add_identity(
    conn: AsyncConnection, person_id: int, channel: str, external_id: int | str, *, now: dt.datetime
) -> None:
    """Link one more account to an existing person (a second channel, or a person set up by a seed)."""
    await conn.execute(
        insert(identities).values(channel=channel, external_id=str(external_id), person_id=person_id, created_at=now)
    )


async def identity_of(conn: AsyncConnection, person_id: int, channel: str) -> str | None:
    """The person's account on `channel` (e.g. their Telegram user id as text), or None if they have none."""
    result = await conn.execute(
        select(identities.c.external_id)
        .where(identities.c.person_id == person_id, identities.c.channel == channel)
        .order_by(identities.c.created_at)
        .limit(1)
    )
    return result.scalar_one_or_none()


async def identities_of(conn: AsyncConnection, person_ids: Iterable[int], channel: str) -> dict[int, str]:
    """Each person's account on `channel` (the first one linked), for those who have one: the outbox sender
    looks up a whole batch of recipients at once."""
    wanted = sorted(set(person_ids))
    if not wanted:
        return {}
    result = await conn.execute(
        select(identities.c.person_id, identities.c.external_id)
        .where(identities.c.person_id.in_(wanted), identities.c.channel == channel)
        .order_by(identities.c.created_at.desc())
    )
    # Newest first, so the oldest account of a person is the one left in the dict (as `identity_of` picks it).
    return {int(row.person_id): str(row.external_id) for row in result}


async def telegram_id_of(conn: AsyncConnection, person_id: int) -> int | None:
    """The person's Telegram user id (also their private chat id), or None if they have no Telegram account."""
    found = await identity_of(conn, person_id, TELEGRAM)
    return None if found is None else int(found)


async def external_ids_of(conn: AsyncConnection, person_id: int, channel: str) -> list[str]:
    """Every account of the person on `channel` (for erasing channel state such as PTB's user_data)."""
    result = await conn.execute(
        select(identities.c.external_id).where(identities.c.person_id == person_id, identities.c.channel == channel)
    )
    return list(result.scalars())


async def _next_person_id(conn: AsyncConnection) -> int:
    """Bump the `person` counter inside the caller's transaction (its row lock queues concurrent callers).

    Never hands out an id already taken (people inserted with explicit ids, as seeds and tests do).
    """
    result = await conn.execute(
        update(reference_counters)
        .where(reference_counters.c.name == "person")
        .values(value=reference_counters.c.value + 1)
        .returning(reference_counters.c.value)
    )
    value = result.scalar_one_or_none()
    largest = (await conn.execute(select(func.max(users.c.id)))).scalar()
    wanted = max(int(value or 0), int(largest or 0) + 1)
    if value is None:
        await conn.execute(insert(reference_counters).values(name="person", value=wanted))
    elif wanted != value:
        await conn.execute(update(reference_counters).where(reference_counters.c.name == "person").values(value=wanted))
    return wanted


async def move_identity(conn: AsyncConnection, channel: str, external_id: int | str, person_id: int) -> bool:
    """Make an account (e.g. a WeChat openid) belong to another person (/link); False if the account is unknown.

    What the account's former person did stays theirs (their wishes, their history): only who the account is
    changes from now on.
    """
    result = await conn.execute(
        update(identities)
        .where(identities.c.channel == channel, identities.c.external_id == str(external_id))
        .values(person_id=person_id)
    )
    return bool(result.rowcount)
