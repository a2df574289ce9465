"""Team invite links: minted by staff, each with an expiry and a number of uses.

The deep link is `https://t.me/<bot>?start=<prefix>_<code>`; the prefix names the role
(see `INVITE_PREFIXES`) so each feature's conversation can pick up its own links.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.errors import LimitReached, NotFound
from storage.schema import invites

# Staff roles share one prefix: the role is the invite's own (`actions.invites.STAFF_INVITES`).
INVITE_PREFIXES = {"volunteer": "vinv", "reporter": "rinv", "coordinator": "sinv", "editor": "sinv", "monitor": "sinv"}


@dataclass(frozen=True, slots=True)
class Invite:
    """An invite link's record."""

    code: str
    role: str
    created_by: int
    expires_at: dt.datetime
    max_uses: int
    uses: int
    needs_review: bool = False  # the person only applies; a coordinator (or editor) still decides
    revoked_at: dt.datetime | None = None

    @property
    def payload(self) -> str:
        """The /start payload of the link."""
        return f"{INVITE_PREFIXES[self.role]}_{self.code}"


def _from_row(row: object) -> Invite:
    m = row._mapping  # type: ignore[attr-defined]
    return Invite(
        m["code"],
        m["role"],
        m["created_by"],
        m["expires_at"],
        m["max_uses"],
        m["uses"],
        bool(m["needs_review"]),
        m["revoked_at"],
    )


async def create_invite(
    conn: AsyncConnection,
    *,
    role: str,
    created_by: int,
    now: dt.datetime,
    valid_for: dt.timedelta = dt.timedelta(days=7),
    max_uses: int = 20,
    needs_review: bool = False,
) -> Invite:
    """Mint a new invite for `role`."""
    if role not in INVITE_PREFIXES:
        raise ValueError(f"no invites for role {role!r}")
    code = secrets.token_urlsafe(9)
    await conn.execute(
        insert(invites).values(
            code=code,
            role=role,
            created_by=created_by,
            created_at=now,
            expires_at=now + valid_for,
            max_uses=max_uses,
            needs_review=needs_review,
        )
    )
    return Invite(code, role, created_by, now + valid_for, max_uses, 0, needs_review)


async def check_invite(conn: AsyncConnection, code: str, role: str, now: dt.datetime) -> Invite:
    """The invite if it can still be used: `NotFound` if unknown, `LimitReached` if expired or used up."""
    row = (await conn.execute(select(invites).where(invites.c.code == code, invites.c.role == role))).first()
    if row is None:
        raise NotFound(f"invite {code}")
    invite = _from_row(row)
    if invite.revoked_at is not None or invite.expires_at <= now or invite.uses >= invite.max_uses:
        raise LimitReached(f"invite {code} revoked, expired or used up")
    return invite


async def use_invite(conn: AsyncConnection, code: str, role: str, now: dt.datetime) -> Invite:
    """Count one use, atomically; raises like `check_invite` when it can no longer be used."""
    await check_invite(conn, code, role, now)
    result = await conn.execute(
        update(invites)
        .where(
            invites.c.code == code,
            invites.c.uses < invites.c.max_uses,
            invites.c.expires_at > now,
            invites.c.revoked_at.is_(None),
        )
        .values(uses=invites.c.uses + 1)
    )
    if result.rowcount != 1:
        raise LimitReached(f"invite {code} used up")
    return await check_invite_any(conn, code)


async def check_invite_any(conn: AsyncConnection, code: str) -> Invite:
    """The invite whatever its state."""
    row = (await conn.execute(select(invites).where(invites.c.code == code))).first()
    if row is None:
        raise NotFound(f"invite {code}")
    return _from_row(row)


def _live(roles: Iterable[str], now: dt.datetime) -> Any:
    return and_(
        invites.c.role.in_(list(roles)),
        invites.c.revoked_at.is_(None),
        invites.c.expires_at > now,
        invites.c.uses < invites.c.max_uses,
    )


async def live_invites(
    conn: AsyncConnection, roles: Iterable[str], now: dt.datetime, *, offset: int = 0, limit: int = 20
) -> tuple[list[Invite], int]:
    """One page of the invites of these roles that can still be used, newest first, and how many there are."""
    roles = list(roles)
    total = (await conn.execute(select(func.count()).select_from(invites).where(_live(roles, now)))).scalar_one()
    rows = await conn.execute(
        select(invites)
        .where(_live(roles, now))
        .order_by(invites.c.created_at.desc(), invites.c.code)
        .offset(offset)
        .limit(limit)
    )
    return [_from_row(r) for r in rows], int(total)


async def revoke_invite(conn: AsyncConnection, code: str, now: dt.datetime) -> bool:
    """Stop an invite from being used; False when it was revoked before."""
    result = await conn.execute(
        update(invites).where(invites.c.code == code, invites.c.revoked_at.is_(None)).values(revoked_at=now)
    )
    return result.rowcount == 1
