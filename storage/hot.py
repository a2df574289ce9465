"""Queries for hot topics: the texts people wrote (wishes and tips), and the alerts already sent."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, delete, func, insert, literal, or_, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.errors import NotFound
from storage.people import admin_person_ids
from storage.privacy import ERASED_TEXT
from storage.schema import hot_alerts, text_terms, tips, user_roles, users, wishes


@dataclass(frozen=True, slots=True)
class HotAlert:
    """A term that spiked on one local day, as alerted to staff."""

    id: int
    day: str
    term: str
    current_count: int
    previous_count: int
    wish_id: int | None = None
    tip_id: int | None = None


async def texts_since(conn: AsyncConnection, since: dt.datetime) -> list[tuple[dt.datetime, str]]:
    """(created_at, text) of every wish and tip written since `since` (erased texts left out)."""
    query = union_all(
        select(wishes.c.created_at, wishes.c.description.label("text")).where(
            wishes.c.created_at >= since, wishes.c.description != ERASED_TEXT
        ),
        select(tips.c.created_at, tips.c.description.label("text")).where(
            tips.c.created_at >= since, tips.c.description != ERASED_TEXT
        ),
    )
    rows = (await conn.execute(query)).all()
    # UNION loses the column type on SQLite, so the timestamp may come back as text.
    return [(_aware(row[0]), str(row[1])) for row in rows]


def _aware(value: object) -> dt.datetime:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    assert isinstance(value, dt.datetime)
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


# --- terms per text, stored once and summed per period ------------------------------------------------------

WISH, TIP = "w", "t"
# The row every segmented text has, also when none of its words is a term.
SEGMENTED = ""


@dataclass(frozen=True, slots=True)
class PendingText:
    """A wish or tip text not yet segmented."""

    source: str  # WISH or TIP
    source_id: int
    at: dt.datetime
    text: str


def _unsegmented(table: Any, source: str, since: dt.datetime, until: dt.datetime | None) -> Any:
    done = select(text_terms.c.source_id).where(
        text_terms.c.source == source, text_terms.c.source_id == table.c.id, text_terms.c.term == SEGMENTED
    )
    condition = and_(table.c.created_at >= since, table.c.description != ERASED_TEXT, ~done.exists())
    if until is not None:
        condition = and_(condition, table.c.created_at < until)
    return select(literal(source).label("source"), table.c.id, table.c.created_at, table.c.description).where(condition)


async def unsegmented_since(
    conn: AsyncConnection, since: dt.datetime, *, until: dt.datetime | None = None, limit: int | None = None
) -> list[PendingText]:
    """Wish and tip texts written in [since, until) whose terms are not stored yet (erased texts left out)."""
    found: list[PendingText] = []
    for table, source in ((wishes, WISH), (tips, TIP)):
        query = _unsegmented(table, source, since, until).order_by(table.c.created_at)
        if limit is not None:
            query = query.limit(limit - len(found))
        rows = (await conn.execute(query)).all()
        found += [PendingText(source, int(r[1]), _aware(r[2]), str(r[3])) for r in rows]
        if limit is not None and len(found) >= limit:
            break
    return found


async def store_terms(conn: AsyncConnection, segmented: Iterable[tuple[PendingText, Iterable[str]]]) -> int:
    """Remember the terms of texts (and that they were segmented); returns how many texts. A text segmented
    meanwhile by someone else is skipped."""
    texts = list(segmented)
    done: set[tuple[str, int]] = set()
    for source in (WISH, TIP):
        ids = [text.source_id for text, _terms in texts if text.source == source]
        for start in range(0, len(ids), 500):
            found = await conn.execute(
                select(text_terms.c.source_id).where(
                    text_terms.c.source == source,
                    text_terms.c.source_id.in_(ids[start : start + 500]),
                    text_terms.c.term == SEGMENTED,
                )
            )
            done.update((source, int(source_id)) for source_id in found.scalars())
    rows: list[dict[str, Any]] = []
    count = 0
    for text, terms in texts:
        if (text.source, text.source_id) in done:
            continue
        done.add((text.source, text.source_id))
        count += 1
        for term in {SEGMENTED, *(t[:16] for t in terms)}:
            rows.append({"source": text.source, "source_id": text.source_id, "term": term, "at": text.at})
    for start in range(0, len(rows), 5000):
        await conn.execute(insert(text_terms), rows[start : start + 5000])
    return count


async def forget_terms(conn: AsyncConnection, source: str, source_ids: Iterable[int]) -> None:
    """Drop the stored terms of texts (they were erased)."""
    ids = list(source_ids)
    for start in range(0, len(ids), 500):
        await conn.execute(
            delete(text_terms).where(
                text_terms.c.source == source, text_terms.c.source_id.in_(ids[start : start + 500])
            )
        )


async def term_counts(conn: AsyncConnection, since: dt.datetime, until: dt.datetime) -> tuple[Counter[str], int]:
    """(in how many stored texts of [since, until) each term appears, how many stored texts there are)."""
    rows = (
        await conn.execute(
            select(text_terms.c.term, func.count())
            .where(text_terms.c.at >= since, text_terms.c.at < until)
            .group_by(text_terms.c.term)
        )
    ).all()
    counts: Counter[str] = Counter({str(term): int(n) for term, n in rows})
    texts = counts.pop(SEGMENTED, 0)
    return counts, texts


async def record_alert(
    conn: AsyncConnection, *, day: str, term: str, current: int, previous: int, now: dt.datetime
) -> HotAlert | None:
    """Remember that `term` spiked on `day`; None when it was already alerted that day."""
    exists = (
        await conn.execute(select(hot_alerts.c.id).where(hot_alerts.c.day == day, hot_alerts.c.term == term))
    ).first()
    if exists is not None:
        return None
    result = await conn.execute(
        insert(hot_alerts)
        .values(day=day, term=term[:64], current_count=current, previous_count=previous, created_at=now)
        .returning(hot_alerts.c.id)
    )
    return HotAlert(int(result.scalar_one()), day, term[:64], current, previous)


async def get_alert(conn: AsyncConnection, alert_id: int) -> HotAlert:
    """One alert by id; `NotFound` otherwise."""
    row = (await conn.execute(select(hot_alerts).where(hot_alerts.c.id == alert_id))).first()
    if row is None:
        raise NotFound(f"hot alert {alert_id}")
    return HotAlert(row.id, row.day, row.term, row.current_count, row.previous_count, row.wish_id, row.tip_id)


async def link_alert(
    conn: AsyncConnection, alert_id: int, *, wish_id: int | None = None, tip_id: int | None = None
) -> bool:
    """Remember the wish draft or story lead made from an alert; False if one was made already."""
    column = hot_alerts.c.wish_id if wish_id is not None else hot_alerts.c.tip_id
    result = await conn.execute(
        update(hot_alerts)
        .where(hot_alerts.c.id == alert_id, column.is_(None))
        .values({column.name: wish_id if wish_id is not None else tip_id})
    )
    return bool(result.rowcount)


async def alert_recipients(
    conn: AsyncConnection, roles: Collection[str], *, admin_ids: Collection[int]
) -> dict[int, set[str]]:
    """The people holding one of `roles` (admins hold them all) whom the bot can reach, with those roles.

    `admin_ids` are Telegram ids (ADMIN_IDS), mapped to person ids through `identities`; keys are person ids.
    """
    admins = await admin_person_ids(conn, admin_ids)
    rows = (
        await conn.execute(
            select(users.c.id, user_roles.c.role)
            .outerjoin(user_roles, user_roles.c.user_id == users.c.id)
            .where(
                or_(user_roles.c.role.in_(list(roles)), users.c.id.in_(list(admins))),
                users.c.blocked.is_(False),
                users.c.unreachable.is_(False),
                users.c.erased_at.is_(None),
            )
        )
    ).all()
    found: dict[int, set[str]] = {}
    for row in rows:
        held = found.setdefault(row.id, set())
        if row.id in admins:
            held.update(roles)
        elif row.role in roles:
            held.add(row.role)
    return found
