"""Queries behind the digests: who receives which digest, and the day's figures each one reports."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, exists, func, insert, or_, select, union, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.errors import NotFound
from storage.people import TELEGRAM, persons_with_identity
from storage.schema import digest_runs, tip_events, tips, user_roles, users, volunteer_skills, volunteers, wishes


@dataclass(frozen=True, slots=True)
class Reader:
    """Someone a digest may go to."""

    id: int
    language: str


async def readers(
    conn: AsyncConnection, role: str, *, also: Collection[int] = (), changed_since: dt.datetime | None = None
) -> list[Reader]:
    """People holding `role` (and the Telegram ids in `also`, i.e. ADMIN_IDS, mapped to people through `identities`)
    who want digests and can get them. With `changed_since`, only those who became readers after it: granted the
    role, or their digest turned on (two index ranges, whatever the number of readers)."""
    holders = select(user_roles.c.user_id).where(user_roles.c.role == role)
    admins = persons_with_identity(TELEGRAM, also)
    if changed_since is None:
        # One IN over a UNION: both sides and the users found by their keys (an OR of two INs has PostgreSQL read
        # every user).
        who = users.c.id.in_(union(holders, admins))
    else:
        granted = select(user_roles.c.user_id).where(
            user_roles.c.role == role, user_roles.c.granted_at >= changed_since
        )
        holds = exists().where(user_roles.c.user_id == users.c.id, user_roles.c.role == role)
        turned_on = select(users.c.id).where(
            users.c.digest_changed_at >= changed_since, or_(holds, users.c.id.in_(admins))
        )
        who = users.c.id.in_(union(granted, turned_on))
    query = (
        select(users.c.id, users.c.language)
        .where(
            who,
            users.c.digest_enabled.is_(True),
            users.c.unreachable.is_(False),
            users.c.blocked.is_(False),
            users.c.erased_at.is_(None),
        )
        .order_by(users.c.id)
    )
    return [Reader(row.id, row.language) for row in (await conn.execute(query)).all()]


async def decided(conn: AsyncConnection, labels: Collection[str]) -> dict[str, dt.datetime]:
    """When each of these occurrences was decided for every reader of the time (`mark_decided`), if it was."""
    rows = await conn.execute(select(digest_runs.c.label, digest_runs.c.done_at).where(digest_runs.c.label.in_(labels)))
    return {row.label: row.done_at for row in rows}


async def latest_changes(
    conn: AsyncConnection, roles: Collection[str]
) -> tuple[dict[str, dt.datetime], dt.datetime | None]:
    """When each role was last granted to anyone, and when anyone last switched their digest: one statement, each
    the end of an index (`ix_user_roles_role_granted`, `ix_users_digest_changed_at`), so a sweep can tell nobody
    became a reader since an occurrence was decided without looking at the readers."""
    granted = {
        role: select(func.max(user_roles.c.granted_at)).where(user_roles.c.role == role).scalar_subquery().label(role)
        for role in roles
    }
    toggled = select(func.max(users.c.digest_changed_at)).scalar_subquery().label("digest_changed_at")
    row = (await conn.execute(select(*granted.values(), toggled))).one()
    return {role: getattr(row, role) for role in roles if getattr(row, role) is not None}, row.digest_changed_at


async def mark_decided(conn: AsyncConnection, label: str, *, now: dt.datetime) -> None:
    """Every reader of the occurrence has their digest (or their `skipped` row): later sweeps look only at who
    became a reader since `now`."""
    written = await conn.execute(update(digest_runs).where(digest_runs.c.label == label).values(done_at=now))
    if not written.rowcount:
        await conn.execute(insert(digest_runs).values(label=label, done_at=now))


# One statement, built once: /digest is the benchmark's read-and-write command (UPDATE … RETURNING needs
# SQLite 3.35+, which Python 3.11 ships, or PostgreSQL).
_TOGGLE_DIGEST = (
    update(users)
    .where(users.c.id == bindparam("user_id"))
    .values(digest_enabled=~users.c.digest_enabled, digest_changed_at=bindparam("now"))
    .returning(users.c.digest_enabled)
)


async def toggle_digest(conn: AsyncConnection, user_id: int, *, now: dt.datetime) -> bool:
    """Turn the person's digest off if it was on and on if it was off; returns the new setting. When it changed is
    kept: a digest turned on during its morning still comes that morning (`readers(changed_since=…)`)."""
    enabled = (await conn.execute(_TOGGLE_DIGEST, {"user_id": user_id, "now": now})).scalar()
    if enabled is None:
        raise NotFound(f"user {user_id}")
    return bool(enabled)


async def wants_digest(conn: AsyncConnection, user_id: int) -> bool:
    """Whether the person still wants digests (False for someone unknown)."""
    enabled = (await conn.execute(select(users.c.digest_enabled).where(users.c.id == user_id))).scalar()
    return bool(enabled)


@dataclass(frozen=True, slots=True)
class WishFigures:
    """What the coordinators' digest reports about one day of wishes."""

    new: int
    claimed: int
    done: int
    overdue: int
    pending: int
    by_area: list[tuple[str, int]]  # open or pending wishes per area, largest first

    @property
    def anything(self) -> bool:
        """Whether there is anything to say."""
        return any((self.new, self.claimed, self.done, self.overdue, self.pending))


async def wish_figures(conn: AsyncConnection, *, since: dt.datetime, until: dt.datetime) -> WishFigures:
    """Wishes created, claimed and done in [since, until), and overdue and pending at `until`."""

    async def count(*conditions: Any) -> int:
        return int((await conn.execute(select(func.count()).select_from(wishes).where(*conditions))).scalar() or 0)

    new = await count(wishes.c.created_at >= since, wishes.c.created_at < until)
    claimed = await count(wishes.c.claimed_at >= since, wishes.c.claimed_at < until)
    done = await count(wishes.c.done_at >= since, wishes.c.done_at < until)
    overdue = await count(wishes.c.status == "claimed", wishes.c.due_at < until)
    pending = await count(wishes.c.status == "pending_review")
    area = func.coalesce(wishes.c.area, "")
    rows = await conn.execute(
        select(area, func.count())
        .where(wishes.c.status.in_(["open", "pending_review"]))
        .group_by(area)
        .order_by(func.count().desc(), area)
    )
    return WishFigures(new, claimed, done, overdue, pending, [(str(a), int(n)) for a, n in rows.all()])


@dataclass(frozen=True, slots=True)
class TipFigures:
    """What the editors' digest reports about one day of tips."""

    new: int
    accepted: int
    published: int


async def tip_figures(conn: AsyncConnection, *, since: dt.datetime, until: dt.datetime) -> TipFigures:
    """Tips that came in, were accepted and were published in [since, until)."""
    new = (
        await conn.execute(
            select(func.count()).select_from(tips).where(tips.c.created_at >= since, tips.c.created_at < until)
        )
    ).scalar()

    async def moved_to(status: str) -> int:
        query = select(func.count(func.distinct(tip_events.c.tip_id))).where(
            tip_events.c.to_status == status, tip_events.c.at >= since, tip_events.c.at < until
        )
        return int((await conn.execute(query)).scalar() or 0)

    return TipFigures(int(new or 0), await moved_to("accepted"), await moved_to("published"))


async def open_wishes_for_volunteer(conn: AsyncConnection, user_id: int, *, limit: int = 3) -> tuple[int, list[int]]:
    """(how many open wishes match the volunteer's skills and area, the reference numbers of the oldest few)."""
    skills = select(volunteer_skills.c.category).where(volunteer_skills.c.user_id == user_id)
    area = select(volunteers.c.area).where(volunteers.c.user_id == user_id).scalar_subquery()
    condition = (
        wishes.c.status == "open",
        wishes.c.category.in_(skills),
        or_(area.is_(None), wishes.c.area.is_(None), wishes.c.area == area),
    )
    total = (await conn.execute(select(func.count()).select_from(wishes).where(*condition))).scalar()
    refs = await conn.execute(select(wishes.c.ref_no).where(*condition).order_by(wishes.c.created_at).limit(limit))
    return int(total or 0), [int(ref) for ref in refs.scalars()]
