"""Media people sent (photos, videos, documents) and each channel's reference to them.

A row elsewhere (a wish's photo, a tip's album, a broadcast's picture) points at `media.id`; how a channel names
the file (Telegram's `file_id`) is kept per channel in `media_refs`. The storage functions of wishes, tips and
broadcasts still take and return Telegram file references (`*_file_id`) and store them here under the `telegram`
channel; `telegram_ref` is the read side of that, usable inside any SELECT.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, Label, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.schema import media, media_refs

TELEGRAM = "telegram"


async def add_media(
    conn: AsyncConnection,
    *,
    kind: str,
    channel: str,
    file_ref: str,
    file_unique_id: str | None = None,
    now: dt.datetime,
    draft_of: int | None = None,
) -> int:
    """Record a file that arrived on `channel`; returns its media id. `draft_of`: the person who sent it for a draft
    no row has taken yet (`take` clears it)."""
    result = await conn.execute(
        insert(media).values(kind=kind, created_at=now, draft_of=draft_of).returning(media.c.id)
    )
    media_id = int(result.scalar_one())
    await conn.execute(
        insert(media_refs).values(media_id=media_id, channel=channel, file_ref=file_ref, file_unique_id=file_unique_id)
    )
    return media_id


async def take(conn: AsyncConnection, media_id: int) -> int:
    """A row now points at the media: it is no draft's any more (erased through that row, never forgotten as
    abandoned). Returns `media_id`."""
    await conn.execute(update(media).where(media.c.id == media_id, media.c.draft_of.is_not(None)).values(draft_of=None))
    return media_id


async def add_telegram_media(
    conn: AsyncConnection, kind: str, file_id: str | None, *, file_unique_id: str | None = None, now: dt.datetime
) -> int | None:
    """`add_media` for a Telegram file_id; None stays None (no photo)."""
    if not file_id:
        return None
    return await add_media(conn, kind=kind, channel=TELEGRAM, file_ref=file_id, file_unique_id=file_unique_id, now=now)


async def file_ref(conn: AsyncConnection, media_id: int, channel: str) -> str | None:
    """How `channel` refers to the file, or None when it has no reference (never seen there, or erased)."""
    result = await conn.execute(
        select(media_refs.c.file_ref).where(media_refs.c.media_id == media_id, media_refs.c.channel == channel)
    )
    return result.scalar_one_or_none()


def telegram_ref(media_id: ColumnElement[int | None], label: str) -> Label[str | None]:
    """The Telegram file reference of the media row `media_id` points at, as a labelled column for a SELECT."""
    return (
        select(media_refs.c.file_ref)
        .where(media_refs.c.media_id == media_id, media_refs.c.channel == TELEGRAM)
        .scalar_subquery()
        .label(label)
    )


async def add_ref(conn: AsyncConnection, media_id: int, channel: str, file_ref: str) -> None:
    """One more channel's reference to a stored file (e.g. `file`: where its bytes were saved)."""
    await conn.execute(insert(media_refs).values(media_id=media_id, channel=channel, file_ref=file_ref))


async def set_ref(conn: AsyncConnection, media_id: int, channel: str, file_ref: str) -> None:
    """A channel's reference to a stored file, replacing the one it had (e.g. a fresh upload's id)."""
    await conn.execute(delete(media_refs).where(media_refs.c.media_id == media_id, media_refs.c.channel == channel))
    await add_ref(conn, media_id, channel, file_ref)
