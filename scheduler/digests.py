"""Digests: at their local time, each reader gets one summary in their language, or nothing if there is nothing to say.

Which occurrence is due comes from the clock (`scheduler.calendar`), and each reader's digest of one
occurrence is written to the outbox under `digest:<kind>:<local date>:<user id>`, so however often
the sweep runs, and after any restart, a digest fires once. A reader with nothing to say gets a
`skipped` row under the same key, so the decision is not taken again that day. Content functions
read the features' tables; they are the only part that knows what a digest says.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncConnection

from actions.messages import Notice, notice_to_payload
from rules.hot import hot_report
from rules.roles import Role
from rules.wishes import wish_ref
from scheduler.calendar import DigestPeriod, is_due, latest_daily, latest_weekly
from storage import digests as digest_storage
from storage import hot as hot_storage
from storage import outbox
from storage import wishes as wish_storage
from storage.digests import Reader

if TYPE_CHECKING:
    from bot.context import BotData
    from bot.settings import Settings

MONDAY = 0
DAY = dt.timedelta(days=1)
# Readers whose digests are built and written in one go; small enough that replies never wait long
# for the database while a 10,000-person digest is being written.
CHUNK = 200
# The editors' digest shows the top terms of the past week (rising ones marked against the week before).
HOT_DAYS = dt.timedelta(days=7)
HOT_TERMS = 5

Content = Callable[[AsyncConnection, Reader, DigestPeriod, "Settings"], Awaitable[Notice | None]]


@dataclass(frozen=True, slots=True)
class Digest:
    """One kind of digest: who reads it, when it falls due, and what it says."""

    kind: str
    role: Role
    occurrence: Callable[[Settings, dt.datetime], DigestPeriod]
    content: Content
    admins_read: bool = True  # admins hold every staff role, so they read staff digests too


async def coordinator_content(
    conn: AsyncConnection, reader: Reader, period: DigestPeriod, settings: Settings
) -> Notice | None:
    """New, claimed, done, overdue and pending wishes of the day before the digest, by area."""
    figures = await digest_storage.wish_figures(conn, since=period.due_at - DAY, until=period.due_at)
    if not figures.anything:
        return None
    areas = " · ".join(f"{area or '—'} {count}" for area, count in figures.by_area[:8]) or "—"
    return Notice(
        "digest.coord",
        {
            "date": period.local_date.isoformat(),
            "new": figures.new,
            "claimed": figures.claimed,
            "done": figures.done,
            "overdue": figures.overdue,
            "pending": figures.pending,
            "areas": areas,
        },
    )


async def editor_content(
    conn: AsyncConnection, reader: Reader, period: DigestPeriod, settings: Settings
) -> Notice | None:
    """New, accepted and published tips of the day before the digest, and the week's hot topics.

    Hot topics alone are worth a digest only when a term is rising; the usual top terms ride along.
    """
    figures = await digest_storage.tip_figures(conn, since=period.due_at - DAY, until=period.due_at)
    texts = await hot_storage.texts_since(conn, period.due_at - 2 * HOT_DAYS)
    report = hot_report(texts, now=period.due_at, days=HOT_DAYS.days, limit=HOT_TERMS)
    if not (figures.new or figures.accepted or figures.published or report.rising):
        return None
    rising = {term.term for term in report.rising}
    hot_line = " · ".join(f"{term.term} {term.count}{' ↑' if term.term in rising else ''}" for term in report.top)
    values: dict[str, str | int | float] = {
        "new": figures.new,
        "accepted": figures.accepted,
        "published": figures.published,
        "hot": hot_line or "—",
    }
    return Notice("digest.editor", {"date": period.local_date.isoformat(), **values})


async def volunteer_content(
    conn: AsyncConnection, reader: Reader, period: DigestPeriod, settings: Settings
) -> Notice | None:
    """Open wishes matching the volunteer's skills and area (the oldest few by reference), and their hours."""
    open_count, refs = await digest_storage.open_wishes_for_volunteer(conn, reader.id)
    if not open_count:
        return None
    hours, _tasks = await wish_storage.volunteer_hours(conn, reader.id)
    return Notice(
        "digest.volunteer",
        {
            "date": period.local_date.isoformat(),
            "open": open_count,
            "tasks": ", ".join(wish_ref(ref) for ref in refs),
            "hours": f"{hours:g}",
        },
    )


DIGESTS: tuple[Digest, ...] = (
    Digest(
        "coord",
        Role.COORDINATOR,
        lambda settings, now: latest_daily("coord", now, settings.coordinator_digest_time, settings.tz),
        coordinator_content,
    ),
    Digest(
        "editor",
        Role.EDITOR,
        lambda settings, now: latest_daily("editor", now, settings.editor_digest_time, settings.tz),
        editor_content,
    ),
    Digest(
        "volunteer",
        Role.VOLUNTEER,
        lambda settings, now: latest_weekly("volunteer", now, MONDAY, settings.volunteer_digest_time, settings.tz),
        volunteer_content,
        admins_read=False,
    ),
)


async def queue_due(services: BotData, now: dt.datetime, digests: Sequence[Digest] = DIGESTS) -> int:
    """Write every digest that is due now and not yet written; returns how many will be sent."""
    settings = services.settings
    queued = 0
    for digest in digests:
        period = digest.occurrence(settings, now)
        if not is_due(period, now):
            continue
        prefix = f"digest:{period.label}:"
        async with services.db.read() as conn:
            decided = await outbox.used_keys(conn, prefix)
            readers = await digest_storage.readers(
                conn, digest.role.value, also=settings.admin_ids if digest.admins_read else ()
            )
        todo = [reader for reader in readers if f"{prefix}{reader.id}" not in decided]
        for start in range(0, len(todo), CHUNK):
            async with services.db.read() as conn:
                written = [
                    (reader, await digest.content(conn, reader, period, settings))
                    for reader in todo[start : start + CHUNK]
                ]
            async with services.db.write() as conn:
                for reader, notice in written:
                    added = await outbox.enqueue(
                        conn,
                        recipient_id=reader.id,
                        payload=notice_to_payload(notice) if notice else {},
                        lane="bulk",
                        dedupe_key=f"{prefix}{reader.id}",
                        now=now,
                        skipped=notice is None,
                    )
                    queued += int(added and notice is not None)
    return queued
