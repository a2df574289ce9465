"""The lease (issue 30): one row per lease name saying which instance leads, until when, and under which epoch.

The rules, all in database time (never an instance's clock):
- `acquire`: an instance takes the lease when there is none, or when it has expired (`expires_at` passed, or set to
  now by a clean `resign`); every takeover increments the epoch. On PostgreSQL it first ends the sessions of the
  expired holder (found by application_name, which every connection of an instance sets to its id): a frozen or
  cut-off leader's session may hold the row's share lock in a transaction, even in the middle of a statement that
  waits for its client, and no server timeout short of statement_timeout ends that. It then waits at most
  `LOCK_WAIT` for the row: when that is not enough it answers None and the caller tries again at its next poll.
- `renew`: only the holder of the current epoch, and only while its lease has not expired, pushes `expires_at` on.
- `check` (the fence): inside a leader's write transaction, raises `Fenced` unless its epoch still holds an unexpired
  lease. On PostgreSQL it takes FOR KEY SHARE on the row, so a takeover (which changes the epoch, part of the unique
  key (name, epoch), and therefore needs the row's FOR UPDATE lock) waits until every transaction that passed the
  check has ended: a transaction of epoch N never commits after epoch N+1 began. A renewal changes no key column
  and so never waits for them. On SQLite writes are serialised anyway (one instance).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

NAME = "bot"
# How long a takeover waits for the row lock of a leader's transaction before giving up until the next poll.
LOCK_WAIT = "500ms"


class Fenced(Exception):  # noqa: N818 - reads as what happened to the write
    """This instance's epoch no longer holds the lease: its transaction must not commit."""


@dataclass(frozen=True, slots=True)
class Lease:
    """The lease row as the database holds it now (`expired`: by the database's clock)."""

    name: str
    holder: str
    epoch: int
    expires_at: dt.datetime
    renewed_at: dt.datetime
    expired: bool


def _now(conn: AsyncConnection) -> str:
    """The database's current time (not the transaction's start), in the column's format."""
    if conn.dialect.name == "sqlite":
        return "strftime('%Y-%m-%d %H:%M:%f', 'now')"
    return "clock_timestamp()"


def _later(conn: AsyncConnection) -> str:
    """The database's current time plus `:ttl` seconds."""
    if conn.dialect.name == "sqlite":
        return "strftime('%Y-%m-%d %H:%M:%f', 'now', printf('%+.3f seconds', :ttl))"
    return "clock_timestamp() + make_interval(secs => :ttl)"


async def read(conn: AsyncConnection, name: str = NAME) -> Lease | None:
    """The lease row, or None when nobody ever took it."""
    row = (
        await conn.execute(
            text(
                "SELECT name, holder, epoch, expires_at, renewed_at, "
                f"CASE WHEN expires_at <= {_now(conn)} THEN 1 ELSE 0 END AS expired FROM leases WHERE name = :name"
            ),
            {"name": name},
        )
    ).one_or_none()
    if row is None:
        return None
    return Lease(row.name, row.holder, row.epoch, _aware(row.expires_at), _aware(row.renewed_at), bool(row.expired))


async def acquire(conn: AsyncConnection, holder: str, ttl: float, name: str = NAME) -> int | None:
    """Take the lease for `ttl` seconds if nobody holds it (none yet, expired or resigned): the new epoch, or None
    (someone holds it, or a leader's transaction still holds the row: try again later). Call it in a transaction
    of its own: on PostgreSQL a lock wait past `LOCK_WAIT` ends it."""
    current = await read(conn, name)
    if current is not None and not current.expired:
        return None
    params = {"name": name, "holder": holder[:120], "ttl": float(ttl)}
    if current is None:
        created = await conn.execute(
            text(
                "INSERT INTO leases (name, holder, epoch, expires_at, renewed_at) "
                f"VALUES (:name, :holder, 1, {_later(conn)}, {_now(conn)}) "
                "ON CONFLICT (name) DO NOTHING RETURNING epoch"
            ),
            params,
        )
        epoch = created.scalar()
        return int(epoch) if epoch is not None else None
    if conn.dialect.name == "postgresql":
        if current.holder != holder:
            # The expired holder froze or was cut off: its sessions may still hold the row's share lock (a fenced
            # transaction under way) and wait for a client that does not answer, which no idle timeout ends. They
            # are ended now (every connection of an instance carries its id as application_name: storage/db.py),
            # so what epoch N had not committed is rolled back before epoch N+1 begins.
            await conn.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE application_name = :old AND pid <> pg_backend_pid()"
                ),
                {"old": current.holder[:63]},
            )
        await conn.execute(text(f"SET LOCAL lock_timeout = '{LOCK_WAIT}'"))
    try:
        taken = await conn.execute(
            text(
                f"UPDATE leases SET holder = :holder, epoch = epoch + 1, expires_at = {_later(conn)}, "
                f"renewed_at = {_now(conn)} WHERE name = :name AND expires_at <= {_now(conn)} RETURNING epoch"
            ),
            params,
        )
    except DBAPIError as exc:
        if _lock_not_available(exc):
            return None
        raise
    epoch = taken.scalar()
    return int(epoch) if epoch is not None else None


async def renew(conn: AsyncConnection, holder: str, epoch: int, ttl: float, name: str = NAME) -> bool:
    """Push the expiry `ttl` seconds past the database's now; False when this holder's epoch no longer holds an
    unexpired lease (it must not lead: another instance may have taken it)."""
    renewed = await conn.execute(
        text(
            f"UPDATE leases SET expires_at = {_later(conn)}, renewed_at = {_now(conn)} "
            f"WHERE name = :name AND holder = :holder AND epoch = :epoch AND expires_at > {_now(conn)} "
            "RETURNING epoch"
        ),
        {"name": name, "holder": holder[:120], "epoch": epoch, "ttl": float(ttl)},
    )
    return renewed.scalar() is not None


async def resign(conn: AsyncConnection, holder: str, epoch: int, name: str = NAME) -> bool:
    """A clean stop: the lease expires now, so a standby takes it at its next poll; False if it was not ours."""
    resigned = await conn.execute(
        text(
            f"UPDATE leases SET expires_at = {_now(conn)} "
            "WHERE name = :name AND holder = :holder AND epoch = :epoch RETURNING epoch"
        ),
        {"name": name, "holder": holder[:120], "epoch": epoch},
    )
    return resigned.scalar() is not None


async def check(conn: AsyncConnection, epoch: int, name: str = NAME) -> None:
    """The fence, first in a leader's write transaction: raises `Fenced` unless `epoch` still holds an unexpired
    lease. On PostgreSQL the row stays share-locked until the transaction ends (see the module's docstring)."""
    lock = "" if conn.dialect.name == "sqlite" else " FOR KEY SHARE"
    held = await conn.execute(
        text(f"SELECT epoch FROM leases WHERE name = :name AND epoch = :epoch AND expires_at > {_now(conn)}{lock}"),
        {"name": name, "epoch": epoch},
    )
    if held.scalar() is None:
        raise Fenced(f"epoch {epoch} no longer holds the lease {name!r}")


def _aware(value: dt.datetime | str) -> dt.datetime:
    if isinstance(value, str):  # SQLite hands back the text strftime wrote
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _lock_not_available(exc: DBAPIError) -> bool:
    """PostgreSQL's lock_timeout (SQLSTATE 55P03)."""
    original = exc.orig
    code = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
    if code is None and original is not None:
        code = getattr(getattr(original, "__cause__", None), "sqlstate", None)
    return code == "55P03" or "lock timeout" in str(exc).lower()
