"""Queries for wishes: insert with a per-deployment reference, move between statuses, list, and sum hours.

Status changes go through `move_wish`, an `UPDATE ... WHERE status = :expected` whose row count
tells whether the wish was still where the caller saw it; it records the change in `wish_events`
in the same transaction. Which changes are allowed, and by whom, is decided in `rules.wishes`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, bindparam, case, func, insert, literal, or_, select, tuple_, union_all, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.errors import Conflict, NotFound
from storage.media import add_telegram_media, take, telegram_ref
from storage.schema import (
    activities,
    reference_counters,
    signups,
    users,
    wish_events,
    wish_followers,
    wish_holds,
    wishes,
)


@dataclass(frozen=True, slots=True)
class Wish:
    """A wish as stored. `ref_no` is the number behind the reference shown to people (W-0001)."""

    id: int
    ref_no: int
    resident_id: int
    category: str
    description: str
    area: str | None
    address: str | None
    latitude: float | None
    longitude: float | None
    photo_file_id: str | None
    phone: str | None
    status: str
    created_at: dt.datetime
    updated_at: dt.datetime
    reject_reason: str | None
    claimed_by: int | None
    claimed_at: dt.datetime | None
    due_at: dt.datetime | None
    done_at: dt.datetime | None
    hours: float | None
    proof_file_id: str | None
    done_note: str | None
    resident_note: str | None
    confirmed_at: dt.datetime | None
    rating: int | None
    # Set after an auto-release: until then only the volunteers it was offered to may claim it.
    held_until: dt.datetime | None = None
    # The stored photos (storage/media.py) behind `photo_file_id` / `proof_file_id`: what channel-neutral
    # code (notices) refers to.
    photo_media_id: int | None = None
    proof_media_id: int | None = None
    # A spoken wish: its voice note (and the channel's reference to it) and its length in seconds.
    voice_media_id: int | None = None
    voice_file_id: str | None = None
    voice_seconds: int | None = None

    @property
    def location(self) -> tuple[float, float] | None:
        """(latitude, longitude) when the resident shared a location."""
        if self.latitude is None or self.longitude is None:
            return None
        return (self.latitude, self.longitude)


@dataclass(frozen=True, slots=True)
class WishEvent:
    """One recorded change of a wish."""

    wish_id: int
    at: dt.datetime
    actor_id: int | None
    from_status: str | None
    to_status: str
    note: str | None


@dataclass(frozen=True, slots=True)
class HoursRow:
    """A volunteer's confirmed service in a period."""

    volunteer_id: int
    first_name: str
    hours: float  # wishes' and activities' hours together
    tasks: int
    activities: int = 0


# Every wish is read with its photos' Telegram file references (the rows keep media ids, see storage/media.py).
WISH_COLUMNS = select(
    wishes,
    telegram_ref(wishes.c.photo_media_id, "photo_file_id"),
    telegram_ref(wishes.c.proof_media_id, "proof_file_id"),
    telegram_ref(wishes.c.voice_media_id, "voice_file_id"),
)


def _from_row(row: Any) -> Wish:
    m = row._mapping
    return Wish(**{name: m[name] for name in Wish.__slots__})


async def next_reference(conn: AsyncConnection, name: str = "wish") -> int:
    """Bump and return the deployment's counter `name`; the row lock makes concurrent callers queue."""
    result = await conn.execute(
        update(reference_counters)
        .where(reference_counters.c.name == name)
        .values(value=reference_counters.c.value + 1)
        .returning(reference_counters.c.value)
    )
    value = result.scalar_one_or_none()
    if value is None:
        await conn.execute(insert(reference_counters).values(name=name, value=1))
        return 1
    return int(value)


async def insert_wish(
    conn: AsyncConnection,
    *,
    resident_id: int,
    category: str,
    description: str,
    area: str | None,
    address: str | None,
    location: tuple[float, float] | None,
    photo_file_id: str | None,
    phone: str | None,
    status: str,
    now: dt.datetime,
    photo_media_id: int | None = None,
    voice_file_id: str | None = None,
    voice_seconds: int | None = None,
) -> Wish:
    """Store a new wish in `status` with the next reference number, and record its creation."""
    ref_no = await next_reference(conn, "wish")
    result = await conn.execute(
        insert(wishes)
        .values(
            ref_no=ref_no,
            resident_id=resident_id,
            category=category,
            description=description,
            area=area,
            address=address,
            latitude=location[0] if location else None,
            longitude=location[1] if location else None,
            photo_media_id=await take(conn, photo_media_id)
            if photo_media_id is not None
            else await add_telegram_media(conn, "photo", photo_file_id, now=now),
            voice_media_id=await add_telegram_media(conn, "voice", voice_file_id, now=now),
            voice_seconds=voice_seconds if voice_file_id else None,
            phone=phone,
            status=status,
            created_at=now,
            updated_at=now,
        )
        .returning(wishes.c.id)
    )
    wish_id = int(result.scalar_one())
    await record_event(conn, wish_id, None, status, actor_id=resident_id, now=now, note=None)
    return await get_wish(conn, wish_id)


async def get_wish(conn: AsyncConnection, wish_id: int) -> Wish:
    """One wish by id; `NotFound` otherwise."""
    row = (await conn.execute(WISH_COLUMNS.where(wishes.c.id == wish_id))).first()
    if row is None:
        raise NotFound(f"wish {wish_id}")
    return _from_row(row)


async def lock_wish(conn: AsyncConnection, wish_id: int) -> None:
    """Hold the wish's row until the caller's transaction ends, so decisions that read other rows about it
    (e.g. "was it whistled in the last 30 minutes?") are not taken twice at once. PostgreSQL locks the row;
    SQLite needs nothing: its writes already run one at a time (`BEGIN IMMEDIATE`)."""
    await conn.execute(select(wishes.c.id).where(wishes.c.id == wish_id).with_for_update())


async def get_wish_by_ref(conn: AsyncConnection, ref_no: int) -> Wish:
    """One wish by its reference number (W-0042 → 42); `NotFound` otherwise."""
    row = (await conn.execute(WISH_COLUMNS.where(wishes.c.ref_no == ref_no))).first()
    if row is None:
        raise NotFound(f"wish W-{ref_no:04d}")
    return _from_row(row)


async def move_wish(
    conn: AsyncConnection,
    wish_id: int,
    expected: str,
    target: str,
    *,
    actor_id: int | None,
    now: dt.datetime,
    note: str | None = None,
    changes: dict[str, Any] | None = None,
) -> Wish:
    """Change the status from `expected` to `target` (and other columns), or raise `Conflict` with the
    current status when the wish is no longer in `expected`. Records the event."""
    values: dict[str, Any] = {"status": target, "updated_at": now, **await _media_changes(conn, changes or {}, now)}
    result = await conn.execute(
        update(wishes).where(wishes.c.id == wish_id, wishes.c.status == expected).values(**values)
    )
    if result.rowcount != 1:
        current = await get_wish(conn, wish_id)
        raise Conflict(f"wish {wish_id} is {current.status}, not {expected}", current=current.status)
    await record_event(conn, wish_id, expected, target, actor_id=actor_id, now=now, note=note)
    return await get_wish(conn, wish_id)


async def update_wish(
    conn: AsyncConnection, wish_id: int, expected: Sequence[str], *, now: dt.datetime, **changes: Any
) -> Wish:
    """Change columns other than the status while the wish is in one of `expected`; `Conflict` otherwise."""
    result = await conn.execute(
        update(wishes)
        .where(wishes.c.id == wish_id, wishes.c.status.in_(list(expected)))
        .values(updated_at=now, **await _media_changes(conn, changes, now))
    )
    if result.rowcount != 1:
        current = await get_wish(conn, wish_id)
        raise Conflict(f"wish {wish_id} is {current.status}", current=current.status)
    return await get_wish(conn, wish_id)


_MEDIA_COLUMNS = {"photo_file_id": "photo_media_id", "proof_file_id": "proof_media_id"}


async def _media_changes(conn: AsyncConnection, changes: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    """Changes naming a photo by its Telegram file id, with the photo stored as a media row instead."""
    stored = dict(changes)
    for name, column in _MEDIA_COLUMNS.items():
        if name in stored:
            stored[column] = await add_telegram_media(conn, "photo", stored.pop(name), now=now)
    return stored


async def record_event(
    conn: AsyncConnection,
    wish_id: int,
    from_status: str | None,
    to_status: str,
    *,
    actor_id: int | None,
    now: dt.datetime,
    note: str | None,
) -> None:
    """Append one change to the wish's history."""
    await conn.execute(
        insert(wish_events).values(
            wish_id=wish_id, at=now, actor_id=actor_id, from_status=from_status, to_status=to_status, note=note
        )
    )


async def events_of(conn: AsyncConnection, wish_id: int) -> list[WishEvent]:
    """The wish's history, oldest first."""
    rows = await conn.execute(select(wish_events).where(wish_events.c.wish_id == wish_id).order_by(wish_events.c.id))
    return [WishEvent(r.wish_id, r.at, r.actor_id, r.from_status, r.to_status, r.note) for r in rows]


async def wishes_of_resident(conn: AsyncConnection, resident_id: int, limit: int = 10, offset: int = 0) -> list[Wish]:
    """A resident's wishes, newest first (`limit` of them from `offset`)."""
    rows = await conn.execute(
        WISH_COLUMNS.where(wishes.c.resident_id == resident_id)
        .order_by(wishes.c.created_at.desc(), wishes.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [_from_row(r) for r in rows]


# A page of a resident's wishes with how many they have in all, in one statement (/mywishes on every press). The
# page's ids are chosen (and every wish counted) from the narrow rows first; only the page's own wishes are then read
# whole with their media references: sorting every wish of the resident with its references cost ten times more.
_PAGE_IDS = (
    select(wishes.c.id, func.count().over().label("total_of_resident"))
    .where(wishes.c.resident_id == bindparam("resident_id"))
    .order_by(wishes.c.created_at.desc(), wishes.c.id.desc())
    .limit(bindparam("limit"))
    .offset(bindparam("offset"))
    .subquery("page")
)
_RESIDENT_PAGE = (
    WISH_COLUMNS.add_columns(_PAGE_IDS.c.total_of_resident)
    .join(_PAGE_IDS, _PAGE_IDS.c.id == wishes.c.id)
    .order_by(wishes.c.created_at.desc(), wishes.c.id.desc())
)


async def page_of_resident(conn: AsyncConnection, resident_id: int, limit: int, offset: int) -> tuple[list[Wish], int]:
    """A page of a resident's wishes, newest first, and how many they made in all (counted by the same statement;
    for a page past the end, which has no row to carry it, by a count of its own)."""
    rows = (await conn.execute(_RESIDENT_PAGE, {"resident_id": resident_id, "limit": limit, "offset": offset})).all()
    if not rows:
        return [], await count_of_resident(conn, resident_id)
    return [_from_row(r) for r in rows], int(rows[0].total_of_resident)


_FOLLOWED_BY = (
    WISH_COLUMNS.join(wish_followers, wish_followers.c.wish_id == wishes.c.id)
    .where(wish_followers.c.user_id == bindparam("user_id"))
    .order_by(wish_followers.c.joined_at.desc(), wish_followers.c.wish_id.desc())
    .limit(bindparam("limit"))
)


async def followed_by(conn: AsyncConnection, user_id: int, limit: int) -> list[Wish]:
    """The wishes the person joined (storage/followers.py), most recently joined first: one statement."""
    rows = (await conn.execute(_FOLLOWED_BY, {"user_id": user_id, "limit": limit})).all()
    return [_from_row(r) for r in rows]


async def count_of_resident(conn: AsyncConnection, resident_id: int) -> int:
    """How many wishes a resident ever made (indexed by resident)."""
    result = await conn.execute(select(func.count()).select_from(wishes).where(wishes.c.resident_id == resident_id))
    return int(result.scalar_one())


async def count_submitted_since(conn: AsyncConnection, resident_id: int, since: dt.datetime) -> int:
    """How many wishes a resident submitted since a moment (the daily limit)."""
    result = await conn.execute(
        select(func.count())
        .select_from(wishes)
        .where(wishes.c.resident_id == resident_id, wishes.c.created_at >= since)
    )
    return int(result.scalar_one())


async def count_active_claims(conn: AsyncConnection, volunteer_id: int) -> int:
    """How many wishes a volunteer holds claimed right now (the contact details they can see)."""
    result = await conn.execute(
        select(func.count())
        .select_from(wishes)
        .where(wishes.c.claimed_by == volunteer_id, wishes.c.status == "claimed")
    )
    return int(result.scalar_one())


async def count_claims_and_releases_since(conn: AsyncConnection, volunteer_id: int, since: dt.datetime) -> int:
    """How many times a volunteer claimed or released a wish since a moment (the daily bound on claim cycles)."""
    result = await conn.execute(
        select(func.count())
        .select_from(wish_events)
        .where(
            wish_events.c.actor_id == volunteer_id,
            wish_events.c.at >= since,
            or_(
                wish_events.c.to_status == "claimed",
                and_(wish_events.c.from_status == "claimed", wish_events.c.to_status == "open"),
            ),
        )
    )
    return int(result.scalar_one())


async def wishes_in_status(
    conn: AsyncConnection,
    status: str,
    *,
    categories: Sequence[str] | None = None,
    updated_before: dt.datetime | None = None,
    updated_since: dt.datetime | None = None,
    limit: int = 500,
    offset: int = 0,
) -> list[Wish]:
    """Wishes in one status, oldest first; optionally only some categories, or those last changed in
    [updated_since, updated_before) (what the sweep finds due: indexed by (status, updated_at), and then
    ordered by the last change)."""
    query = WISH_COLUMNS.where(wishes.c.status == status)
    if categories is not None:
        query = query.where(wishes.c.category.in_(list(categories)))
    if updated_before is not None:
        query = query.where(wishes.c.updated_at < updated_before)
    if updated_since is not None:
        query = query.where(wishes.c.updated_at >= updated_since)
    # Within a window of changes, the longest untouched first: read along (status, updated_at), not every row
    # of the status sorted by creation.
    order = (wishes.c.updated_at, wishes.c.id) if updated_before is not None else (wishes.c.created_at, wishes.c.id)
    rows = await conn.execute(query.order_by(*order).limit(limit).offset(offset))
    return [_from_row(r) for r in rows]


async def count_in_status(conn: AsyncConnection, status: str) -> int:
    """How many wishes are in one status (indexed by status)."""
    result = await conn.execute(select(func.count()).select_from(wishes).where(wishes.c.status == status))
    return int(result.scalar_one())


async def claimed_overdue(
    conn: AsyncConnection, now: dt.datetime, limit: int = 500, *, since: dt.datetime | None = None
) -> list[Wish]:
    """Claimed wishes whose due time has passed (the scheduler's reminders and release offers), optionally
    only those due since `since` (indexed by (status, due_at))."""
    condition = and_(wishes.c.status == "claimed", wishes.c.due_at < now)
    if since is not None:
        condition = and_(condition, wishes.c.due_at >= since)
    rows = await conn.execute(WISH_COLUMNS.where(condition).order_by(wishes.c.due_at, wishes.c.id).limit(limit))
    return [_from_row(r) for r in rows]


async def tasks_of_volunteer(conn: AsyncConnection, volunteer_id: int, statuses: Sequence[str]) -> list[Wish]:
    """The wishes a volunteer holds in these statuses, oldest claim first."""
    rows = await conn.execute(
        WISH_COLUMNS.where(wishes.c.claimed_by == volunteer_id, wishes.c.status.in_(list(statuses))).order_by(
            wishes.c.claimed_at, wishes.c.id
        )
    )
    return [_from_row(r) for r in rows]


def _confirmed_between(since: dt.datetime | None, until: dt.datetime | None) -> Any:
    condition = and_(wishes.c.status == "confirmed", wishes.c.hours.is_not(None))
    if since is not None:
        condition = and_(condition, wishes.c.confirmed_at >= since)
    if until is not None:
        condition = and_(condition, wishes.c.confirmed_at < until)
    return condition


async def volunteer_hours(
    conn: AsyncConnection, volunteer_id: int, *, since: dt.datetime | None = None, until: dt.datetime | None = None
) -> tuple[float, int]:
    """(confirmed service hours, confirmed tasks) of one volunteer, optionally within [since, until)."""
    result = await conn.execute(
        select(func.coalesce(func.sum(wishes.c.hours), 0.0), func.count()).where(
            wishes.c.claimed_by == volunteer_id, _confirmed_between(since, until)
        )
    )
    hours, tasks = result.one()
    return float(hours), int(tasks)


def _activity_hours_between(since: dt.datetime | None, until: dt.datetime | None) -> Any:
    """Confirmed activity places with hours, by the activity's start (as the certificate counts them)."""
    condition = and_(signups.c.confirmed_at.is_not(None), signups.c.no_show.is_(False), signups.c.hours > 0)
    if since is not None:
        condition = and_(condition, activities.c.starts_at >= since)
    if until is not None:
        condition = and_(condition, activities.c.starts_at < until)
    return condition


async def activity_hours(
    conn: AsyncConnection, volunteer_id: int, *, since: dt.datetime | None = None, until: dt.datetime | None = None
) -> tuple[float, int]:
    """(confirmed activity hours, activities) of one person, checked in on the spot, optionally in [since, until)."""
    result = await conn.execute(
        select(func.coalesce(func.sum(signups.c.hours), 0.0), func.count())
        .select_from(signups.join(activities, activities.c.id == signups.c.activity_id))
        .where(signups.c.user_id == volunteer_id, _activity_hours_between(since, until))
    )
    hours, count = result.one()
    return float(hours), int(count)


async def hours_leaderboard(
    conn: AsyncConnection, *, since: dt.datetime | None = None, until: dt.datetime | None = None, limit: int = 10
) -> list[HoursRow]:
    """People by confirmed hours (wishes and activities) within [since, until), most first (ties: more tasks and
    activities, then earlier id)."""
    service = union_all(
        select(
            wishes.c.claimed_by.label("user_id"),
            wishes.c.hours.label("hours"),
            literal(1).label("task"),
            literal(0).label("activity"),
        ).where(_confirmed_between(since, until)),
        select(
            signups.c.user_id.label("user_id"),
            signups.c.hours.label("hours"),
            literal(0).label("task"),
            literal(1).label("activity"),
        )
        .select_from(signups.join(activities, activities.c.id == signups.c.activity_id))
        .where(_activity_hours_between(since, until)),
    ).subquery()
    hours = func.sum(service.c.hours).label("hours")
    tasks = func.sum(service.c.task).label("tasks")
    done = func.sum(service.c.activity).label("activities")
    rows = await conn.execute(
        select(service.c.user_id, users.c.first_name, hours, tasks, done)
        .join(users, users.c.id == service.c.user_id)
        .group_by(service.c.user_id, users.c.first_name)
        .order_by(hours.desc(), (tasks + done).desc(), service.c.user_id)
        .limit(limit)
    )
    return [HoursRow(int(r.user_id), r.first_name, float(r.hours), int(r.tasks), int(r.activities)) for r in rows]


async def service_records(
    conn: AsyncConnection, *, since: dt.datetime | None = None, until: dt.datetime | None = None
) -> list[Wish]:
    """Confirmed wishes with their hours within [since, until), for exports and statistics."""
    rows = await conn.execute(
        WISH_COLUMNS.where(_confirmed_between(since, until)).order_by(wishes.c.confirmed_at, wishes.c.id)
    )
    return [_from_row(r) for r in rows]


async def hours_rank(
    conn: AsyncConnection, volunteer_id: int, *, since: dt.datetime | None = None, until: dt.datetime | None = None
) -> int | None:
    """The volunteer's place (1 = most hours) within [since, until), or None without confirmed hours there."""
    board = await hours_leaderboard(conn, since=since, until=until, limit=100_000)
    for place, row in enumerate(board, start=1):
        if row.volunteer_id == volunteer_id:
            return place
    return None


# --- open wishes for one volunteer, matched and ordered in SQL -------------------------------------------


@dataclass(frozen=True, slots=True)
class OpenQuery:
    """Which open wishes a volunteer is offered and in what order.

    `categories` None offers every category. With an `origin` the order is: wishes with a location, nearest
    first, then those without, oldest first; without one, oldest first. The distance used for ordering is
    the squared equirectangular distance (latitude degrees, longitude degrees scaled by cos(origin
    latitude)): plain arithmetic, so it is computed the same way by SQLite and PostgreSQL, and within a
    district it orders exactly as the great-circle distance shown to people up to centimetres.
    """

    volunteer_id: int
    now: dt.datetime
    categories: tuple[str, ...] | None
    origin: tuple[float, float] | None


def _open_filter(q: OpenQuery) -> Any:
    """Open, matching the categories, and not held for other volunteers at `q.now`."""
    theirs = select(wish_holds.c.wish_id).where(wish_holds.c.user_id == q.volunteer_id)
    condition = and_(
        wishes.c.status == "open",
        or_(wishes.c.held_until.is_(None), wishes.c.held_until <= q.now, wishes.c.id.in_(theirs)),
    )
    if q.categories is not None:
        condition = and_(condition, wishes.c.category.in_(list(q.categories)))
    return condition


def _order_key(q: OpenQuery) -> list[Any]:
    """The columns of the ordering, most significant first; the last one (`id`) makes it total."""
    if q.origin is None:
        return [wishes.c.created_at, wishes.c.id]
    lat0, lon0 = q.origin
    scale = math.cos(math.radians(lat0))
    unplaced = or_(wishes.c.latitude.is_(None), wishes.c.longitude.is_(None))
    d_lat = wishes.c.latitude - literal(lat0)
    d_lon = (wishes.c.longitude - literal(lon0)) * literal(scale)
    squared = case((unplaced, literal(0.0)), else_=d_lat * d_lat + d_lon * d_lon)
    return [case((unplaced, 1), else_=0), squared, wishes.c.created_at, wishes.c.id]


async def count_open_for(conn: AsyncConnection, q: OpenQuery, *, up_to: int | None = None) -> int:
    """How many open wishes the volunteer is offered; with `up_to`, counting stops after `up_to + 1` of them
    (so the cost stays that of `up_to` index entries however many match: a caller shows "more than")."""
    offered = select(wishes.c.id).where(_open_filter(q))
    if up_to is not None:
        offered = offered.limit(up_to + 1)
    return int((await conn.execute(select(func.count()).select_from(offered.subquery()))).scalar_one())


async def open_page_for(
    conn: AsyncConnection, q: OpenQuery, *, after: int | None = None, before: int | None = None, limit: int
) -> list[Wish]:
    """One page of the volunteer's open wishes, by keyset: the first `limit` after the wish `after` in the
    order (or the last `limit` before the wish `before`, or the first page). The cursor wish need not be
    open any more: its place in the order is computed from its row, so a page never skips or repeats a wish
    because another was claimed meanwhile. Every offered wish is reachable, however many there are.

    Nearest first, a page is first looked for in growing bounding boxes around the volunteer (an indexed
    latitude range): the wishes within distance R of the volunteer all lie in the box of half-side R, so
    when at least a page of them is within R the page is exact; otherwise the next box is tried, and at
    last the whole district (with the wishes without a place after the placed ones)."""
    key = _order_key(q)
    condition = _open_filter(q)
    cursor_id = after if after is not None else before
    cursor: tuple[Any, ...] | None = None
    if cursor_id is not None:
        cursor = tuple((await conn.execute(select(*key).where(wishes.c.id == cursor_id))).first() or ()) or None
        if cursor is not None:
            bound = tuple_(*[literal(value, type_=column.type) for value, column in zip(cursor, key, strict=True)])
            condition = and_(condition, tuple_(*key) > bound if before is None else tuple_(*key) < bound)
    if before is not None:
        ids = list(
            (await conn.execute(select(wishes.c.id).where(condition).order_by(*[c.desc() for c in key]).limit(limit)))
            .scalars()
            .all()
        )
        return await _wishes_in_order(conn, ids[::-1])
    if q.origin is not None and (cursor is None or cursor[0] == 0):
        boxed = await _nearest_in_boxes(conn, q, condition, key, limit, cursor[1] if cursor is not None else 0.0)
        if boxed is not None:
            return await _wishes_in_order(conn, boxed)
    ids = list((await conn.execute(select(wishes.c.id).where(condition).order_by(*key).limit(limit))).scalars().all())
    return await _wishes_in_order(conn, ids)


# Half-sides of the bounding boxes tried, in degrees of latitude (about 1, 4 and 16 km).
BOXES = (0.01, 0.04, 0.16)


async def _nearest_in_boxes(
    conn: AsyncConnection, q: OpenQuery, condition: Any, key: list[Any], limit: int, from_squared: float
) -> list[int] | None:
    """The ids of the next page of placed wishes if a page of them lies within one of the `BOXES` (past the
    cursor's squared distance `from_squared`); None when the page reaches beyond the largest box."""
    assert q.origin is not None
    lat0, lon0 = q.origin
    scale = max(math.cos(math.radians(lat0)), 0.01)
    squared = key[1]
    for half in BOXES:
        if half * half <= from_squared:
            continue
        box = and_(
            wishes.c.latitude.between(lat0 - half, lat0 + half),
            wishes.c.longitude.between(lon0 - half / scale, lon0 + half / scale),
            squared <= half * half,
        )
        ids = list(
            (await conn.execute(select(wishes.c.id).where(condition, box).order_by(*key).limit(limit))).scalars().all()
        )
        if len(ids) == limit:
            return ids
    return None


async def _wishes_in_order(conn: AsyncConnection, ids: list[int]) -> list[Wish]:
    """The wishes with these ids, in this order (read after the ids were chosen from an index)."""
    if not ids:
        return []
    found = {w.id: w for w in (_from_row(r) for r in await conn.execute(WISH_COLUMNS.where(wishes.c.id.in_(ids))))}
    return [found[i] for i in ids if i in found]
