"""Queries for tips: store one with its media, move it between statuses, list the review queue and a
reporter's own tips, and keep the story leads offered from confirmed wishes.

Status changes go through `move_tip` (and `move_story_lead`), an `UPDATE ... WHERE status = :expected`
whose row count tells whether the row was still where the caller saw it (so of two editors pressing at
once exactly one wins); `move_tip` records the change in `tip_events` in the same transaction. Who may
act and where a tip goes next is decided in `rules.tips`, which calls these.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage import media as media_store
from storage.errors import Conflict, NotFound
from storage.media import TELEGRAM, add_telegram_media, telegram_ref
from storage.schema import story_leads, tip_events, tip_media, tips


@dataclass(frozen=True, slots=True)
class MediaItem:
    """One photo, video or document of a tip, as the channel describes it: Telegram's file_id, or the media another
    channel stored already (`media_id`: a WeChat photo whose bytes were saved, `storage.media`)."""

    kind: str
    file_id: str
    file_unique_id: str | None = None
    file_size: int | None = None
    media_id: int | None = None


@dataclass(frozen=True, slots=True)
class StoredMedia:
    """One photo, video or document of a tip: `file_id` is its Telegram reference ("" for a file that came in on
    another channel and was not sent on Telegram yet: `media_id` finds its saved bytes)."""

    id: int
    kind: str
    file_id: str
    file_size: int | None
    local_path: str | None
    media_id: int


@dataclass(frozen=True, slots=True)
class Tip:
    """A tip as stored, with its media in the order they were sent."""

    id: int
    reporter_id: int | None
    by_reporter: bool
    status: str
    category: str
    description: str
    location: tuple[float, float] | None
    source_wish_ref: int | None
    published_url: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    media: tuple[StoredMedia, ...]


@dataclass(frozen=True, slots=True)
class TipEvent:
    """One recorded change of a tip."""

    at: dt.datetime
    actor_id: int | None
    from_status: str | None
    to_status: str
    note: str | None


@dataclass(frozen=True, slots=True)
class StoryLead:
    """A confirmed wish's proof photo offered to the newsroom, waiting for the volunteer's consent."""

    wish_ref_no: int
    volunteer_id: int
    photo_file_id: str
    summary: str
    status: str
    tip_id: int | None


async def insert_tip(
    conn: AsyncConnection,
    *,
    reporter_id: int,
    by_reporter: bool,
    status: str,
    category: str,
    description: str,
    location: tuple[float, float] | None,
    media: Sequence[MediaItem],
    now: dt.datetime,
    source_wish_ref: int | None = None,
) -> Tip:
    """Store a submitted tip in `status` with its media, and record its creation."""
    result = await conn.execute(
        insert(tips)
        .values(
            reporter_id=reporter_id,
            by_reporter=by_reporter,
            status=status,
            category=category,
            description=description,
            latitude=location[0] if location else None,
            longitude=location[1] if location else None,
            source_wish_ref=source_wish_ref,
            created_at=now,
            updated_at=now,
        )
        .returning(tips.c.id)
    )
    tip_id = int(result.scalar_one())
    await add_media(conn, tip_id, media, now)
    await record_event(conn, tip_id, None, status, actor_id=reporter_id, now=now, note=None)
    return await get_tip(conn, tip_id)


async def get_tip(conn: AsyncConnection, tip_id: int) -> Tip:
    """One tip with its media; `NotFound` otherwise."""
    row = (await conn.execute(select(tips).where(tips.c.id == tip_id))).mappings().first()
    if row is None:
        raise NotFound(f"tip {tip_id}")
    media_rows = await conn.execute(
        select(tip_media, telegram_ref(tip_media.c.media_id, "file_id"))
        .where(tip_media.c.tip_id == tip_id)
        .order_by(tip_media.c.id)
    )
    media = tuple(StoredMedia(m.id, m.kind, m.file_id or "", m.file_size, m.local_path, m.media_id) for m in media_rows)
    latitude, longitude = row["latitude"], row["longitude"]
    return Tip(
        id=row["id"],
        reporter_id=row["reporter_id"],
        by_reporter=row["by_reporter"],
        status=row["status"],
        category=row["category"],
        description=row["description"],
        location=(latitude, longitude) if latitude is not None and longitude is not None else None,
        source_wish_ref=row["source_wish_ref"],
        published_url=row["published_url"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        media=media,
    )


async def move_tip(
    conn: AsyncConnection,
    tip_id: int,
    expected: str,
    target: str,
    *,
    actor_id: int | None,
    now: dt.datetime,
    note: str | None = None,
    changes: dict[str, Any] | None = None,
) -> Tip:
    """Change the status from `expected` to `target` (and other columns), or raise `Conflict` with the
    current status when the tip is no longer in `expected`. Records the event."""
    result = await conn.execute(
        update(tips)
        .where(tips.c.id == tip_id, tips.c.status == expected)
        .values(status=target, updated_at=now, **(changes or {}))
    )
    if result.rowcount != 1:
        current = await get_tip(conn, tip_id)
        raise Conflict("the tip changed meanwhile", current=current.status)
    await record_event(conn, tip_id, expected, target, actor_id=actor_id, now=now, note=note)
    return await get_tip(conn, tip_id)


async def set_local_path(conn: AsyncConnection, media_id: int, path: str) -> None:
    """Remember where a downloaded file was saved."""
    await conn.execute(update(tip_media).where(tip_media.c.id == media_id).values(local_path=path))


async def events_of(conn: AsyncConnection, tip_id: int) -> list[TipEvent]:
    """A tip's history, oldest first."""
    rows = await conn.execute(select(tip_events).where(tip_events.c.tip_id == tip_id).order_by(tip_events.c.id))
    return [TipEvent(r.at, r.actor_id, r.from_status, r.to_status, r.note) for r in rows]


async def in_status(conn: AsyncConnection, status: str, *, limit: int, offset: int = 0) -> list[Tip]:
    """Tips in one status, oldest first (a page of them: `limit` from `offset`)."""
    rows = await conn.execute(
        select(tips.c.id)
        .where(tips.c.status == status)
        .order_by(tips.c.created_at, tips.c.id)
        .limit(limit)
        .offset(offset)
    )
    return [await get_tip(conn, tip_id) for tip_id in rows.scalars().all()]


async def review_queue(conn: AsyncConnection, limit: int = 5, offset: int = 0) -> list[Tip]:
    """New tips waiting for an editor, oldest first."""
    return await in_status(conn, "new", limit=limit, offset=offset)


async def awaiting_publication(conn: AsyncConnection, limit: int = 10, offset: int = 0) -> list[Tip]:
    """Accepted tips whose story is not out yet, oldest first."""
    return await in_status(conn, "accepted", limit=limit, offset=offset)


async def count_in_status(conn: AsyncConnection, status: str) -> int:
    """How many tips are in one status."""
    result = await conn.execute(select(func.count()).select_from(tips).where(tips.c.status == status))
    return int(result.scalar_one())


async def tips_of(conn: AsyncConnection, reporter_id: int, limit: int = 20) -> list[Tip]:
    """A person's own tips, newest first."""
    rows = await conn.execute(
        select(tips.c.id)
        .where(tips.c.reporter_id == reporter_id)
        .order_by(tips.c.created_at.desc(), tips.c.id.desc())
        .limit(limit)
    )
    return [await get_tip(conn, tip_id) for tip_id in rows.scalars().all()]


async def counts_by_status(conn: AsyncConnection, reporter_id: int) -> dict[str, int]:
    """How many of a person's tips are in each status."""
    rows = await conn.execute(
        select(tips.c.status, func.count()).where(tips.c.reporter_id == reporter_id).group_by(tips.c.status)
    )
    return {str(status): int(count) for status, count in rows.all()}


async def submitted_since(conn: AsyncConnection, reporter_id: int, since: dt.datetime) -> int:
    """How many tips a person sent since a moment (for the daily limit)."""
    result = await conn.execute(
        select(func.count())
        .select_from(tips)
        .where(tips.c.reporter_id == reporter_id, tips.c.created_at >= since, tips.c.source_wish_ref.is_(None))
    )
    return int(result.scalar_one())


async def insert_story_lead(
    conn: AsyncConnection,
    *,
    wish_ref_no: int,
    volunteer_id: int,
    photo_file_id: str,
    summary: str,
    status: str,
    now: dt.datetime,
) -> StoryLead | None:
    """Remember that a confirmed wish's proof photo may become a story lead, in `status`."""
    await conn.execute(
        insert(story_leads).values(
            wish_ref=wish_ref_no,
            volunteer_id=volunteer_id,
            photo_media_id=await add_telegram_media(conn, "photo", photo_file_id, now=now),
            summary=summary[:1000],
            status=status,
            created_at=now,
        )
    )
    return await find_story_lead(conn, wish_ref_no)


async def find_story_lead(conn: AsyncConnection, wish_ref_no: int) -> StoryLead | None:
    """The lead offered from a wish, if any."""
    row = (
        await conn.execute(
            select(story_leads, telegram_ref(story_leads.c.photo_media_id, "photo_file_id")).where(
                story_leads.c.wish_ref == wish_ref_no
            )
        )
    ).first()
    if row is None:
        return None
    return StoryLead(row.wish_ref, row.volunteer_id, row.photo_file_id or "", row.summary, row.status, row.tip_id)


async def move_story_lead(
    conn: AsyncConnection, wish_ref_no: int, expected: str, target: str, *, now: dt.datetime
) -> None:
    """Record the volunteer's answer: `expected` → `target`, or `Conflict` when the lead was answered meanwhile."""
    result = await conn.execute(
        update(story_leads)
        .where(story_leads.c.wish_ref == wish_ref_no, story_leads.c.status == expected)
        .values(status=target, decided_at=now)
    )
    if result.rowcount != 1:
        raise Conflict("the lead was answered meanwhile", current=expected)


async def link_story_lead(conn: AsyncConnection, wish_ref_no: int, tip_id: int) -> None:
    """Remember the tip a lead became."""
    await conn.execute(update(story_leads).where(story_leads.c.wish_ref == wish_ref_no).values(tip_id=tip_id))


async def add_media(conn: AsyncConnection, tip_id: int, media: Sequence[MediaItem], now: dt.datetime) -> None:
    """Attach photos, videos or documents to a tip, in the order given: a Telegram file is recorded, media another
    channel stored for the draft is taken (no longer a draft's)."""
    if not media:
        return
    rows = []
    for item in media:
        if item.media_id is not None:
            media_id = await media_store.take(conn, item.media_id)
        else:
            media_id = await media_store.add_media(
                conn,
                kind=item.kind,
                channel=TELEGRAM,
                file_ref=item.file_id,
                file_unique_id=item.file_unique_id,
                now=now,
            )
        rows.append(
            {"tip_id": tip_id, "kind": item.kind, "media_id": media_id, "file_size": item.file_size, "added_at": now}
        )
    await conn.execute(insert(tip_media), rows)


async def record_event(
    conn: AsyncConnection,
    tip_id: int,
    from_status: str | None,
    to_status: str,
    *,
    actor_id: int | None,
    now: dt.datetime,
    note: str | None,
) -> None:
    """Append one change to the tip's history."""
    await conn.execute(
        insert(tip_events).values(
            tip_id=tip_id, at=now, actor_id=actor_id, from_status=from_status, to_status=to_status, note=note
        )
    )
