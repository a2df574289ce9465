"""One person, several channels: the one-time codes of /link, the requests they make, and the wrong tries.

A code is live while unused, unexpired and guessed wrong fewer than `WRONG_GUESSES` times (by anyone: a wrong guess
counts against every live code). A right code is spent at once and makes a pending request, which the code's person
decides; an account's wrong tries are kept an hour, for the lock-out (`actions.links`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.schema import link_codes, link_failures, link_requests

WRONG_GUESSES = 5


@dataclass(frozen=True, slots=True)
class LinkRequest:
    """An account asking to join a person."""

    id: int
    person_id: int
    channel: str
    external_id: str
    status: str


def _live(now: dt.datetime) -> ColumnElement[bool]:
    return and_(
        link_codes.c.used_at.is_(None), link_codes.c.expires_at > now, link_codes.c.wrong_guesses < WRONG_GUESSES
    )


async def add_code(
    conn: AsyncConnection, code: str, person_id: int, *, now: dt.datetime, expires_at: dt.datetime
) -> bool:
    """Store a new code for the person, voiding their earlier ones; False when the code is taken (draw another)."""
    found = await conn.execute(select(link_codes.c.code).where(link_codes.c.code == code))
    if found.first() is not None:
        return False
    await conn.execute(
        update(link_codes)
        .where(link_codes.c.person_id == person_id, link_codes.c.used_at.is_(None))
        .values(used_at=now)
    )
    await conn.execute(insert(link_codes).values(code=code, person_id=person_id, created_at=now, expires_at=expires_at))
    return True


async def spend_code(conn: AsyncConnection, code: str, *, now: dt.datetime) -> int | None:
    """Spend a live code: the person it was made for, or None (unknown, used, expired or guessed at too often)."""
    result = await conn.execute(
        update(link_codes)
        .where(link_codes.c.code == code, _live(now))
        .values(used_at=now)
        .returning(link_codes.c.person_id)
    )
    person_id = result.scalar_one_or_none()
    return None if person_id is None else int(person_id)


async def count_wrong_guess(conn: AsyncConnection, channel: str, external_id: str, *, now: dt.datetime) -> None:
    """A wrong code: it counts against every live code, and against the account (its tries of the last hour)."""
    await conn.execute(update(link_codes).where(_live(now)).values(wrong_guesses=link_codes.c.wrong_guesses + 1))
    account = (link_failures.c.channel == channel, link_failures.c.external_id == external_id)
    await conn.execute(delete(link_failures).where(*account, link_failures.c.at <= now - dt.timedelta(hours=1)))
    await conn.execute(insert(link_failures).values(channel=channel, external_id=external_id, at=now))


async def recent_failures(
    conn: AsyncConnection, channel: str, external_id: str, *, since: dt.datetime
) -> tuple[int, dt.datetime | None]:
    """How many wrong codes the account sent since `since`, and the earliest of them."""
    row = (
        await conn.execute(
            select(func.count(), func.min(link_failures.c.at)).where(
                link_failures.c.channel == channel,
                link_failures.c.external_id == external_id,
                link_failures.c.at > since,
            )
        )
    ).one()
    return int(row[0]), row[1]


async def add_request(
    conn: AsyncConnection, person_id: int, channel: str, external_id: str, *, now: dt.datetime
) -> int:
    """A pending request of the account to join the person; its id."""
    result = await conn.execute(
        insert(link_requests)
        .values(person_id=person_id, channel=channel, external_id=external_id, created_at=now, status="pending")
        .returning(link_requests.c.id)
    )
    return int(result.scalar_one())


async def get_request(conn: AsyncConnection, request_id: int) -> LinkRequest | None:
    row = (await conn.execute(select(link_requests).where(link_requests.c.id == request_id))).first()
    if row is None:
        return None
    return LinkRequest(row.id, int(row.person_id), row.channel, row.external_id, row.status)


async def decide_request(conn: AsyncConnection, request_id: int, status: str, *, now: dt.datetime) -> bool:
    """Move a pending request to `status` (joined, declined); False when it was no longer pending."""
    result = await conn.execute(
        update(link_requests)
        .where(link_requests.c.id == request_id, link_requests.c.status == "pending")
        .values(status=status, decided_at=now)
    )
    return bool(result.rowcount)
