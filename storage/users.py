"""Queries about people: who they are, their language, their roles and whether we may message them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import RowMapping, bindparam, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.errors import NotFound
from storage.schema import identities, user_roles, users


@dataclass(frozen=True, slots=True)
class User:
    """A person as stored, with the roles granted to them (admin excluded: it comes from settings).

    `id` is the internal person id: not a Telegram id and not a chat id (see `storage.people`).
    """

    id: int
    first_name: str
    last_name: str | None
    username: str | None
    language: str
    phone: str | None
    blocked: bool
    unreachable: bool
    digest_enabled: bool
    created_at: dt.datetime
    roles: frozenset[str]

    @property
    def display_name(self) -> str:
        """First name, falling back to the username, for greetings and cards."""
        return self.first_name or self.username or str(self.id)


async def touch_user(
    conn: AsyncConnection,
    *,
    user_id: int,
    first_name: str,
    last_name: str | None,
    username: str | None,
    language: str,
    now: dt.datetime,
) -> tuple[User, bool]:
    """Create or refresh the person with this PERSON id. Returns (user, created).

    For seeds and tests that set people up under ids of their choosing (no identity is linked: add one with
    `storage.people.add_identity`). Someone writing to the bot comes through `people.person_for_identity`.
    The language is only used on creation: afterwards the person's own choice (/language) wins.
    """
    row = (await conn.execute(select(users.c.id).where(users.c.id == user_id))).first()
    created = row is None
    if created:
        await conn.execute(
            insert(users).values(
                id=user_id,
                first_name=first_name[:128],
                last_name=last_name[:128] if last_name else None,
                username=username,
                language=language,
                created_at=now,
                last_seen_at=now,
            )
        )
    else:
        await conn.execute(
            update(users)
            .where(users.c.id == user_id)
            .values(
                first_name=first_name[:128],
                last_name=last_name[:128] if last_name else None,
                username=username,
                last_seen_at=now,
                # Someone who writes to us has evidently unblocked the bot.
                unreachable=False,
            )
        )
    return await get_user(conn, user_id), created


# The person and their roles in one statement (a row per role), built once: `load_person` runs it on
# every update, so it is worth neither a second round trip nor rebuilding the statement each time.
# The columns a `User` holds, named (not `users.*`: a column added later is not read by code that needs none of it).
_USER_COLUMNS = (
    users.c.id,
    users.c.first_name,
    users.c.last_name,
    users.c.username,
    users.c.language,
    users.c.phone,
    users.c.blocked,
    users.c.unreachable,
    users.c.digest_enabled,
    users.c.created_at,
)
_USER_WITH_ROLES = (
    select(*_USER_COLUMNS, user_roles.c.role)
    .outerjoin(user_roles, user_roles.c.user_id == users.c.id)
    .where(users.c.id == bindparam("user_id"))
)


# The person behind a channel account, with their roles, in one statement: `load_person` runs it on every update.
_USER_BY_IDENTITY = (
    select(*_USER_COLUMNS, user_roles.c.role)
    .select_from(identities.join(users, users.c.id == identities.c.person_id))
    .outerjoin(user_roles, user_roles.c.user_id == users.c.id)
    .where(identities.c.channel == bindparam("channel"), identities.c.external_id == bindparam("external_id"))
)


async def get_user(conn: AsyncConnection, user_id: int) -> User:
    """One person with their roles; `NotFound` if they never wrote to the bot."""
    rows = (await conn.execute(_USER_WITH_ROLES, {"user_id": user_id})).mappings().all()
    if not rows:
        raise NotFound(f"user {user_id}")
    return _user(rows)


async def user_by_identity(conn: AsyncConnection, channel: str, external_id: str) -> User | None:
    """The person behind an account of `channel`, with their roles; None when it never wrote to us."""
    rows = (await conn.execute(_USER_BY_IDENTITY, {"channel": channel, "external_id": external_id})).mappings().all()
    return _user(rows) if rows else None


def _user(rows: Sequence[RowMapping]) -> User:
    """A person from their rows of `_USER_WITH_ROLES` or `_USER_BY_IDENTITY` (one per role, or one without)."""
    row = rows[0]
    roles = (r["role"] for r in rows if r["role"] is not None)
    return User(
        id=row["id"],
        first_name=row["first_name"],
        last_name=row["last_name"],
        username=row["username"],
        language=row["language"],
        phone=row["phone"],
        blocked=row["blocked"],
        unreachable=row["unreachable"],
        digest_enabled=row["digest_enabled"],
        created_at=row["created_at"],
        roles=frozenset(roles),
    )


async def set_language(conn: AsyncConnection, user_id: int, language: str) -> None:
    """Remember the person's chosen language."""
    await conn.execute(update(users).where(users.c.id == user_id).values(language=language))


async def set_phone(conn: AsyncConnection, user_id: int, phone: str | None) -> None:
    """Remember the phone number a person shared through the contact button."""
    await conn.execute(update(users).where(users.c.id == user_id).values(phone=phone))


async def grant_role(
    conn: AsyncConnection, user_id: int, role: str, *, granted_by: int | None, now: dt.datetime
) -> bool:
    """Give a role; returns False when the person already had it."""
    exists = (
        await conn.execute(select(user_roles.c.role).where(user_roles.c.user_id == user_id, user_roles.c.role == role))
    ).first()
    if exists:
        return False
    await conn.execute(insert(user_roles).values(user_id=user_id, role=role, granted_by=granted_by, granted_at=now))
    return True


async def revoke_role(conn: AsyncConnection, user_id: int, role: str) -> bool:
    """Take a role away; returns False when the person did not have it."""
    result = await conn.execute(delete(user_roles).where(user_roles.c.user_id == user_id, user_roles.c.role == role))
    return bool(result.rowcount)


async def ids_with_role(conn: AsyncConnection, role: str) -> list[int]:
    """Everyone holding a role, oldest grant first."""
    result = await conn.execute(
        select(user_roles.c.user_id).where(user_roles.c.role == role).order_by(user_roles.c.granted_at)
    )
    return list(result.scalars())


async def set_blocked(conn: AsyncConnection, user_id: int, blocked: bool) -> None:
    """Staff block or unblock a person."""
    result = await conn.execute(update(users).where(users.c.id == user_id).values(blocked=blocked))
    if not result.rowcount:
        raise NotFound(f"user {user_id}")


async def mark_unreachable(conn: AsyncConnection, user_id: int) -> None:
    """The person blocked the bot (Telegram answered 403): stop sending them anything but replies."""
    await conn.execute(update(users).where(users.c.id == user_id).values(unreachable=True))
