"""Queries for tips: submit one with its media, move it through its lifecycle, list the review queue and a
reporter's own tips, and turn a confirmed wish's proof photo into a story lead once the volunteer agrees.

Every status change goes through `transition`: it reads the tip inside the caller's transaction, asks
`rules.tips` whether the person may act and where the tip goes next, updates only while the status is
still the one read (so of two editors pressing at once exactly one wins), and records the event.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from rules.roles import Role
from rules.tips import (
    COUNTED_AS_ACCEPTED,
    WISH_LEAD_CATEGORY,
    LeadStatus,
    MediaItem,
    TipAction,
    TipStatus,
    check_may_act,
    decide_lead,
    next_status,
    tip_reference,
)
from storage.errors import Conflict, NotAllowed, NotFound
from storage.media import TELEGRAM, add_media, add_telegram_media, telegram_ref
from storage.schema import story_leads, tip_events, tip_media, tips


@dataclass(frozen=True, slots=True)
class StoredMedia:
    """One photo, video or document of a tip."""

    id: int
    kind: str
    file_id: str
    file_size: int | None
    local_path: str | None


@dataclass(frozen=True, slots=True)
class Tip:
    """A tip as stored, with its media in the order they were sent."""

    id: int
    reporter_id: int | None
    by_reporter: bool
    status: TipStatus
    category: str
    description: str
    location: tuple[float, float] | None
    source_wish_ref: int | None
    published_url: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    media: tuple[StoredMedia, ...]

    @property
    def reference(self) -> str:
        """`T-0001`."""
        return tip_reference(self.id)


@dataclass(frozen=True, slots=True)
class TipEvent:
    """One recorded change of a tip."""

    at: dt.datetime
    actor_id: int | None
    from_status: str | None
    to_status: str
    note: str | None


@dataclass(frozen=True, slots=True)
class TipCounts:
    """A reporter's record: tips sent, accepted (published ones included) and published."""

    submitted: int
    accepted: int
    published: int


@dataclass(frozen=True, slots=True)
class StoryLead:
    """A confirmed wish's proof photo offered to the newsroom, waiting for the volunteer's consent."""

    wish_ref_no: int
    volunteer_id: int
    photo_file_id: str
    summary: str
    status: LeadStatus
    tip_id: int | None


async def create_tip(
    conn: AsyncConnection,
    *,
    reporter_id: int,
    by_reporter: bool,
    category: str,
    description: str,
    location: tuple[float, float] | None,
    media: Sequence[MediaItem],
    now: dt.datetime,
    source_wish_ref: int | None = None,
) -> Tip:
    """Store a submitted tip as `new` with its media, and record its creation."""
    result = await conn.execute(
        insert(tips)
        .values(
            reporter_id=reporter_id,
            by_reporter=by_reporter,
            status=TipStatus.NEW,
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
    await _add_media(conn, tip_id, media, now)
    await _record(conn, tip_id, None, TipStatus.NEW, actor_id=reporter_id, now=now, note=None)
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
    media = tuple(StoredMedia(m.id, m.kind, m.file_id or "", m.file_size, m.local_path) for m in media_rows)
    latitude, longitude = row["latitude"], row["longitude"]
    return Tip(
        id=row["id"],
        reporter_id=row["reporter_id"],
        by_reporter=row["by_reporter"],
        status=TipStatus(row["status"]),
        category=row["category"],
        description=row["description"],
        location=(latitude, longitude) if latitude is not None and longitude is not None else None,
        source_wish_ref=row["source_wish_ref"],
        published_url=row["published_url"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        media=media,
    )


async def transition(
    conn: AsyncConnection,
    tip_id: int,
    action: TipAction,
    *,
    actor_id: int,
    actor_roles: Iterable[Role],
    now: dt.datetime,
    note: str | None = None,
    link: str | None = None,
    expected: TipStatus | None = None,
) -> Tip:
    """Apply an editor's decision (or the reporter's answer) to a tip.

    `NotFound` for an unknown tip, `NotAllowed` when the person may not do this (checked against the
    stored tip, never against button data), `Conflict` (with the current status) when the tip moved
    meanwhile or the action does not fit its status. `expected` is the status the editor saw: a Decline
    pressed on a card that still showed "new" must not overrule a colleague's Accept a moment earlier.
    """
    current = await get_tip(conn, tip_id)
    check_may_act(action, actor_id=actor_id, roles=actor_roles, reporter_id=current.reporter_id)
    if expected is not None and current.status is not expected:
        raise Conflict("the tip changed since it was shown", current=current.status)
    target = next_status(current.status, action)
    values: dict[str, object] = {"status": target, "updated_at": now}
    if action is not TipAction.ANSWER:
        values["decided_by"] = actor_id
    if action is TipAction.PUBLISH:
        if not link:
            raise ValueError("publishing needs the story's link")
        values["published_url"] = link
    result = await conn.execute(
        update(tips).where(tips.c.id == tip_id, tips.c.status == current.status).values(**values)
    )
    if result.rowcount != 1:
        raise Conflict("the tip changed meanwhile", current=current.status)
    await _record(conn, tip_id, current.status, target, actor_id=actor_id, now=now, note=note or link)
    return await get_tip(conn, tip_id)


async def answer_question(
    conn: AsyncConnection,
    tip_id: int,
    *,
    reporter_id: int,
    text: str | None,
    media: Sequence[MediaItem],
    now: dt.datetime,
) -> Tip:
    """The reporter answers an editor's question: the answer is attached and the tip returns to the queue."""
    tip = await transition(conn, tip_id, TipAction.ANSWER, actor_id=reporter_id, actor_roles=(), now=now, note=text)
    if media:
        await _add_media(conn, tip_id, media, now)
        tip = await get_tip(conn, tip_id)
    return tip


async def attach_media(
    conn: AsyncConnection, tip_id: int, *, reporter_id: int, media: Sequence[MediaItem], now: dt.datetime
) -> Tip:
    """More photos of an answer that came as an album (the later items arrive as separate messages).

    Only the tip's reporter may attach, and only while the tip waits in the queue (it just returned).
    """
    tip = await get_tip(conn, tip_id)
    if tip.reporter_id != reporter_id:
        raise NotAllowed("only the tip's reporter adds to it")
    if tip.status is not TipStatus.NEW:
        raise Conflict("the tip is no longer waiting for review", current=tip.status)
    await _add_media(conn, tip_id, media, now)
    return await get_tip(conn, tip_id)


async def set_local_path(conn: AsyncConnection, media_id: int, path: str) -> None:
    """Remember where a downloaded file was saved."""
    await conn.execute(update(tip_media).where(tip_media.c.id == media_id).values(local_path=path))


async def events_of(conn: AsyncConnection, tip_id: int) -> list[TipEvent]:
    """A tip's history, oldest first."""
    rows = await conn.execute(select(tip_events).where(tip_events.c.tip_id == tip_id).order_by(tip_events.c.id))
    return [TipEvent(r.at, r.actor_id, r.from_status, r.to_status, r.note) for r in rows]


async def review_queue(conn: AsyncConnection, limit: int = 5) -> list[Tip]:
    """New tips waiting for an editor, oldest first."""
    rows = await conn.execute(
        select(tips.c.id).where(tips.c.status == TipStatus.NEW).order_by(tips.c.created_at, tips.c.id).limit(limit)
    )
    return [await get_tip(conn, tip_id) for tip_id in rows.scalars().all()]


async def awaiting_publication(conn: AsyncConnection, limit: int = 10) -> list[Tip]:
    """Accepted tips whose story is not out yet, oldest first."""
    rows = await conn.execute(
        select(tips.c.id).where(tips.c.status == TipStatus.ACCEPTED).order_by(tips.c.created_at, tips.c.id).limit(limit)
    )
    return [await get_tip(conn, tip_id) for tip_id in rows.scalars().all()]


async def count_in_status(conn: AsyncConnection, status: TipStatus) -> int:
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


async def counts_of(conn: AsyncConnection, reporter_id: int) -> TipCounts:
    """A person's record: tips sent, accepted (published included) and published."""
    rows = await conn.execute(
        select(tips.c.status, func.count()).where(tips.c.reporter_id == reporter_id).group_by(tips.c.status)
    )
    by_status = {TipStatus(status): int(count) for status, count in rows.all()}
    return TipCounts(
        submitted=sum(by_status.values()),
        accepted=sum(by_status.get(s, 0) for s in COUNTED_AS_ACCEPTED),
        published=by_status.get(TipStatus.PUBLISHED, 0),
    )


async def submitted_since(conn: AsyncConnection, reporter_id: int, since: dt.datetime) -> int:
    """How many tips a person sent since a moment (for the daily limit)."""
    result = await conn.execute(
        select(func.count())
        .select_from(tips)
        .where(tips.c.reporter_id == reporter_id, tips.c.created_at >= since, tips.c.source_wish_ref.is_(None))
    )
    return int(result.scalar_one())


async def offer_story_lead(
    conn: AsyncConnection,
    *,
    wish_ref_no: int,
    volunteer_id: int,
    photo_file_id: str,
    summary: str,
    now: dt.datetime,
) -> StoryLead | None:
    """Remember that a confirmed wish's proof photo may become a story lead; the volunteer is asked next.

    Returns None when this wish was already offered (confirming twice must not ask twice).
    """
    if await find_story_lead(conn, wish_ref_no) is not None:
        return None
    await conn.execute(
        insert(story_leads).values(
            wish_ref=wish_ref_no,
            volunteer_id=volunteer_id,
            photo_media_id=await add_telegram_media(conn, "photo", photo_file_id, now=now),
            summary=summary[:1000],
            status=LeadStatus.ASKED,
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
    return StoryLead(
        row.wish_ref, row.volunteer_id, row.photo_file_id or "", row.summary, LeadStatus(row.status), row.tip_id
    )


async def decide_story_lead(
    conn: AsyncConnection, wish_ref_no: int, *, volunteer_id: int, agree: bool, by_reporter: bool, now: dt.datetime
) -> Tip | None:
    """The volunteer's answer: on yes the lead becomes a new tip linked to the wish (returned), on no nothing.

    `NotFound` when there is no such offer, `NotAllowed` when it was offered to someone else,
    `Conflict` when it was already answered.
    """
    lead = await find_story_lead(conn, wish_ref_no)
    if lead is None:
        raise NotFound(f"story lead for wish {wish_ref_no}")
    if lead.volunteer_id != volunteer_id:
        raise NotAllowed("the lead was offered to another volunteer")
    target = decide_lead(lead.status, agree=agree)
    result = await conn.execute(
        update(story_leads)
        .where(story_leads.c.wish_ref == wish_ref_no, story_leads.c.status == lead.status)
        .values(status=target, decided_at=now)
    )
    if result.rowcount != 1:
        raise Conflict("the lead was answered meanwhile", current=lead.status)
    if not agree:
        return None
    tip = await create_tip(
        conn,
        reporter_id=volunteer_id,
        by_reporter=by_reporter,
        category=WISH_LEAD_CATEGORY,
        description=lead.summary,
        location=None,
        media=[MediaItem("photo", lead.photo_file_id)],
        now=now,
        source_wish_ref=wish_ref_no,
    )
    await conn.execute(update(story_leads).where(story_leads.c.wish_ref == wish_ref_no).values(tip_id=tip.id))
    return tip


async def _add_media(conn: AsyncConnection, tip_id: int, media: Sequence[MediaItem], now: dt.datetime) -> None:
    if not media:
        return
    rows = []
    for item in media:
        media_id = await add_media(
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


async def _record(
    conn: AsyncConnection,
    tip_id: int,
    from_status: str | None,
    to_status: str,
    *,
    actor_id: int | None,
    now: dt.datetime,
    note: str | None,
) -> None:
    await conn.execute(
        insert(tip_events).values(
            tip_id=tip_id, at=now, actor_id=actor_id, from_status=from_status, to_status=to_status, note=note
        )
    )
