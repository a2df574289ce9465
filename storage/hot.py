"""Queries for hot topics: the texts people wrote (wishes and tips), and the alerts already sent."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import (
    Integer,
    Text,
    and_,
    case,
    delete,
    func,
    insert,
    literal,
    literal_column,
    select,
    tuple_,
    type_coerce,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import NullType

from storage import rollups
from storage.errors import NotFound
from storage.people import admin_person_ids
from storage.privacy import ERASED_TEXT
from storage.schema import (
    hot_alerts,
    reference_counters,
    term_days,
    term_weeks,
    text_term_sets,
    text_terms,
    tips,
    user_roles,
    users,
    wishes,
)


@dataclass(frozen=True, slots=True)
class HotAlert:
    """The topic that rose fastest on one local day, as alerted to staff: its leading terms in one string
    (`term`), its messages in the week (`current_count`), its best-ranked term's in the weeks before
    (`previous_count`), its rise, areas and a quoted example (alerts before migration 0030 were words: no rise,
    areas or example)."""

    id: int
    day: str
    term: str
    current_count: int
    previous_count: int
    wish_id: int | None = None
    tip_id: int | None = None
    rise: float | None = None
    areas: tuple[str, ...] = ()
    example: str | None = None


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
# Between a text's terms read in one row (terms never hold a line break: the segmenter splits on it).
TERM_SEPARATOR = "\n"


@dataclass(frozen=True, slots=True)
class PendingText:
    """A wish or tip text not yet segmented."""

    source: str  # WISH or TIP
    source_id: int
    at: dt.datetime
    text: str
    area: str | None = None  # a wish's area


# How far each source's texts are segmented: every text with an id up to this is stored (reference_counters).
_WATERMARK = {WISH: "hot_terms_wish", TIP: "hot_terms_tip"}
_TABLES = {WISH: wishes, TIP: tips}


async def watermarks(conn: AsyncConnection) -> dict[str, int]:
    """Per source, the id up to which every text's terms are stored (0: none yet)."""
    rows = await conn.execute(
        select(reference_counters.c.name, reference_counters.c.value).where(
            reference_counters.c.name.in_(list(_WATERMARK.values()))
        )
    )
    found = {str(name): int(value) for name, value in rows}
    return {source: found.get(name, 0) for source, name in _WATERMARK.items()}


class TextsState(NamedTuple):
    """What the hot topics were computed from: the newest wish and tip and how far each is segmented (topics stay
    the same while this does, within a minute)."""

    newest_wish: int
    newest_tip: int
    tip_mark: int
    wish_mark: int

    def unsegmented(self, source: str) -> bool:
        """Whether `source` may have texts above its watermark."""
        return self.newest_wish > self.wish_mark if source == WISH else self.newest_tip > self.tip_mark


async def texts_state(conn: AsyncConnection) -> TextsState:
    """The newest wish and tip and both watermarks, in one statement."""

    def mark(source: str) -> Any:
        value = select(reference_counters.c.value).where(reference_counters.c.name == _WATERMARK[source])
        return value.scalar_subquery()

    newest = (
        await conn.execute(
            select(
                select(func.max(wishes.c.id)).scalar_subquery(),
                select(func.max(tips.c.id)).scalar_subquery(),
                mark(TIP),
                mark(WISH),
            )
        )
    ).one()
    return TextsState(*(int(value or 0) for value in newest))


async def set_watermark(conn: AsyncConnection, source: str, value: int) -> None:
    """Record that every text of `source` with an id up to `value` is segmented (never moves back)."""
    name = _WATERMARK[source]
    result = await conn.execute(
        update(reference_counters)
        .where(reference_counters.c.name == name, reference_counters.c.value < value)
        .values(value=value)
    )
    if not result.rowcount:
        exists = (
            await conn.execute(select(reference_counters.c.name).where(reference_counters.c.name == name))
        ).first()
        if exists is None:
            await conn.execute(insert(reference_counters).values(name=name, value=value))


async def unsegmented(
    conn: AsyncConnection,
    source: str,
    after_id: int,
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    limit: int | None = None,
) -> list[PendingText]:
    """Texts of `source` with ids above `after_id` (its watermark: not segmented yet), in id order, written in
    [since, until) when given; erased ones left out. A primary-key range, however large the table."""
    table = _TABLES[source]
    condition = and_(table.c.id > after_id, table.c.description != ERASED_TEXT)
    if since is not None:
        condition = and_(condition, table.c.created_at >= since)
    if until is not None:
        condition = and_(condition, table.c.created_at < until)
    area = [wishes.c.area] if source == WISH else []
    query = select(table.c.id, table.c.created_at, table.c.description, *area).where(condition).order_by(table.c.id)
    rows = (await conn.execute(query.limit(limit))).all()
    return [PendingText(source, int(r[0]), _aware(r[1]), str(r[2]), str(r[3]) if area and r[3] else None) for r in rows]


async def unsegmented_since(
    conn: AsyncConnection, since: dt.datetime, *, until: dt.datetime | None = None, state: TextsState | None = None
) -> list[PendingText]:
    """Wish and tip texts written in [since, until) whose terms are not stored yet (above the watermarks): each
    source's primary-key range above its watermark (a minute of texts while the sweep keeps up), its times
    filtered here (on their times the planner would read the period's rows through `created_at`). Given the
    `state` just read, a source with no text above its watermark is not asked."""
    state = state or await texts_state(conn)
    marks = {WISH: state.wish_mark, TIP: state.tip_mark}
    found: list[PendingText] = []
    for source in (WISH, TIP):
        if not state.unsegmented(source):
            continue
        found += [
            text
            for text in await unsegmented(conn, source, marks[source])
            if since <= text.at and (until is None or text.at < until)
        ]
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


async def term_counts(
    conn: AsyncConnection, since: dt.datetime, until: dt.datetime, *, now: dt.datetime | None = None
) -> tuple[Counter[str], int]:
    """(in how many stored texts of [since, until) each term appears, how many stored texts there are): whole
    weeks from `term_weeks`, the whole days around them from `term_days`, the partial days at either end from
    `text_terms` (at most half a day of rows each, none after `now`: `rollups.counts_by_week`), in one
    statement."""

    def rows(start: dt.datetime | None, end: dt.datetime | None) -> Any:
        return (
            select(text_terms.c.term, func.count())
            .where(rollups.between(text_terms.c.at, start, end))
            .group_by(text_terms.c.term)
        )

    counts = await rollups.counts_by_week(
        conn, since, until, weekly=term_weeks, daily=term_days, key="term", rows=rows, now=now
    )
    texts = counts.pop(SEGMENTED, 0)
    return counts, texts


async def alerted_on(conn: AsyncConnection, day: str) -> bool:
    """Whether a term was alerted on `day` (the index of the day's unique key answers it)."""
    return (await conn.execute(select(hot_alerts.c.id).where(hot_alerts.c.day == day).limit(1))).first() is not None


# Between the areas of an alert, as stored.
AREA_SEPARATOR = "、"


async def record_alert(
    conn: AsyncConnection,
    *,
    day: str,
    term: str,
    current: int,
    previous: int,
    now: dt.datetime,
    rise: float | None = None,
    areas: Sequence[str] = (),
    example: str | None = None,
) -> HotAlert | None:
    """Remember that the topic `term` (its leading terms) rose on `day`; None when it was already alerted that
    day."""
    exists = (
        await conn.execute(select(hot_alerts.c.id).where(hot_alerts.c.day == day, hot_alerts.c.term == term[:64]))
    ).first()
    if exists is not None:
        return None
    kept = _areas_fitting(areas)
    result = await conn.execute(
        insert(hot_alerts)
        .values(
            day=day,
            term=term[:64],
            current_count=current,
            previous_count=previous,
            created_at=now,
            rise=rise,
            areas=AREA_SEPARATOR.join(kept) or None,
            example=example[:200] if example is not None else None,
        )
        .returning(hot_alerts.c.id)
    )
    return HotAlert(
        int(result.scalar_one()),
        day,
        term[:64],
        current,
        previous,
        rise=rise,
        areas=kept,
        example=example[:200] if example is not None else None,
    )


def _areas_fitting(areas: Sequence[str]) -> tuple[str, ...]:
    """The first areas whose joined names fit the column (200 characters)."""
    kept: list[str] = []
    for area in areas:
        if len(AREA_SEPARATOR.join([*kept, area])) > 200:
            break
        kept.append(area)
    return tuple(kept)


async def get_alert(conn: AsyncConnection, alert_id: int) -> HotAlert:
    """One alert by id; `NotFound` otherwise."""
    row = (await conn.execute(select(hot_alerts).where(hot_alerts.c.id == alert_id))).first()
    if row is None:
        raise NotFound(f"hot alert {alert_id}")
    return HotAlert(
        row.id,
        row.day,
        row.term,
        row.current_count,
        row.previous_count,
        row.wish_id,
        row.tip_id,
        row.rise,
        tuple(row.areas.split(AREA_SEPARATOR)) if row.areas else (),
        row.example,
    )


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
    # The holders first, then which of them (and the admins) can be reached, each through its key: an OR of
    # "holds a role" and "is an admin" has PostgreSQL read every user.
    held: dict[int, set[str]] = {admin: set(roles) for admin in admins}
    holders = select(user_roles.c.user_id, user_roles.c.role).where(user_roles.c.role.in_(list(roles)))
    for row in (await conn.execute(holders)).all():
        held.setdefault(row.user_id, set()).add(row.role)
    if not held:
        return {}
    reachable = select(users.c.id).where(
        users.c.id.in_(list(held)),
        users.c.blocked.is_(False),
        users.c.unreachable.is_(False),
        users.c.erased_at.is_(None),
    )
    return {user_id: held[user_id] for user_id in (await conn.execute(reachable)).scalars()}


# --- topics: which of the period's texts hold which terms, and the few texts quoted -------------------------------

TextKey = tuple[str, int]  # (source, source_id)


@dataclass(frozen=True, slots=True)
class QuotedText:
    """A wish or tip text with its time and, for a wish, the area it was filed under."""

    at: dt.datetime
    text: str
    area: str | None


class HeldText(NamedTuple):
    """Which of the asked terms a text holds, and where it is: a wish's area (None for a tip or a wish without
    one). (A tuple: thousands are made per /hot.)"""

    terms: frozenset[str]
    area: str | None


async def texts_holding(
    conn: AsyncConnection,
    since: dt.datetime,
    until: dt.datetime,
    terms: Collection[str],
    *,
    limit: int,
    texts_per_pair: float | None = None,
    page: int | None = None,
) -> dict[TextKey, HeldText]:
    """Per stored text of [since, until) holding one of `terms`, which of them it holds and where it is, the
    newest texts first, from the newest `limit` (text, term) pairs (by time, then term, source and id, the
    newest first): the period's newest texts read from `ix_text_term_sets_at` backwards from `until`, a page at
    a time until they hold `limit` pairs, so the cost follows `limit` (and how many texts hold none of the
    terms), not the size of the period (migration 0036: each text's terms and a wish's area in one row).
    PostgreSQL sends only the texts holding an asked term (an array overlap); SQLite's rows cost less to read
    than to test. A tip's or an unplaced wish's area is None (`places_named` finds the place its text names).

    The first read asks for `page` texts, else for `limit × texts_per_pair` (the period's rate, from its
    counts; not on PostgreSQL, whose texts all hold a term), else for a third of `limit` (at least 100)."""
    if not terms or limit <= 0:
        return {}
    wanted = frozenset(terms)
    sets = text_term_sets
    # The time as the driver gives it (a string on SQLite): only compared, sorted and given back, and converting
    # each of a few thousand rows cost more than reading it.
    at = type_coerce(sets.c.at, NullType())
    found: list[tuple[Any, str, int, frozenset[str], str | None]] = []
    pairs = read = 0
    boundary: Any = None  # the time of the text that made `limit` pairs: texts of the same time count too
    after: tuple[Any, str, int] | None = None
    filtered = conn.dialect.name == "postgresql"
    if not page:
        page = 16 + int(limit * texts_per_pair) if texts_per_pair and not filtered else max(limit // 3, 100)
    while True:
        query = select(at, sets.c.source, sets.c.source_id, sets.c.terms, sets.c.area).where(
            sets.c.at >= since, sets.c.at < until
        )
        if filtered:
            held_terms = func.string_to_array(sets.c.terms, TERM_SEPARATOR, type_=postgresql.ARRAY(Text))
            query = query.where(held_terms.op("&&")(literal(sorted(wanted), postgresql.ARRAY(Text))))
        if after is not None:
            given = (type_coerce(after[0], NullType()), literal(after[1]), literal(after[2]))
            query = query.where(tuple_(at, sets.c.source, sets.c.source_id) < tuple_(*given))
        order = (sets.c.at.desc(), sets.c.source.desc(), sets.c.source_id.desc())
        rows = (await conn.execute(query.order_by(*order).limit(page))).all()
        for when, source, source_id, joined, area in rows:
            if boundary is not None and when != boundary:
                break
            held = wanted.intersection(joined.split(TERM_SEPARATOR))
            if held:
                found.append((when, source, source_id, held, area or None))
                pairs += len(held)
                if boundary is None and pairs >= limit:
                    boundary = when
        else:
            read += len(rows)
            if len(rows) == page:
                after = (rows[-1][0], rows[-1][1], rows[-1][2])
                # As many more texts as the pairs still missing need, at the rate so far (and a margin).
                page = 16 + 5 * (limit - pairs) * read // (4 * pairs) if pairs and pairs < limit else 2 * page
                continue
        break
    # The newest `limit` pairs: every pair of the texts newer than the boundary's time, and of the texts at that
    # time the pairs that come first (by term, source and id, the greatest first).
    kept = {(source, source_id): held for when, source, source_id, held, _area in found if when != boundary}
    tied = [
        (term, source, source_id) for when, source, source_id, held, _a in found if when == boundary for term in held
    ]
    for term, source, source_id in sorted(tied, reverse=True)[: limit - sum(len(held) for held in kept.values())]:
        kept[(source, source_id)] = kept.get((source, source_id), frozenset()) | {term}
    # The newest first; of the same time, wishes before tips, the latest id first (`found` is by time, then
    # source and id, the greatest first).
    ordered = found
    if len({text[0] for text in found}) < len(found):  # texts of the same time (rare)
        ordered = []
        for _when, same_time in itertools.groupby(found, key=lambda text: text[0]):
            ordered += sorted(same_time, key=lambda text: (text[1], -text[2]))
    return {
        (source, source_id): HeldText(kept[(source, source_id)], area)
        for _when, source, source_id, _held, area in ordered
        if (source, source_id) in kept
    }


async def places_named(conn: AsyncConnection, keys: Sequence[TextKey], places: Sequence[str]) -> dict[TextKey, str]:
    """Per wish or tip (by key), the first of `places` its text names (as `rules.hot.area_of`); texts naming
    none, and erased ones, left out. One statement per source, its ids in one parameter (a thousand bound ids cost
    more than the lookups); PostgreSQL finds the place (the texts are not sent), SQLite's texts are searched here
    (its own search costs more, in this process too)."""
    places = [place for place in places if place]
    if not keys or not places:
        return {}
    sqlite = conn.dialect.name == "sqlite"
    found: dict[TextKey, str] = {}
    for source in (WISH, TIP):
        table = _TABLES[source]
        ids = [source_id for kind, source_id in keys if kind == source]
        if not ids:
            continue
        chosen: ColumnElement[bool]
        if sqlite:
            listed: Any = select(literal_column("value")).select_from(func.json_each(json.dumps(ids)))
            chosen = table.c.id.in_(listed.scalar_subquery())
        else:
            chosen = table.c.id == func.any(literal(ids, postgresql.ARRAY(Integer)))
        named = table.c.description if sqlite else case(*((func.strpos(table.c.description, p) > 0, p) for p in places))
        query = select(table.c.id, named).where(chosen, table.c.description != ERASED_TEXT)
        for source_id, found_place in (await conn.execute(query)).all():
            if place := (next((p for p in places if p in found_place), None) if sqlite else found_place):
                found[(source, int(source_id))] = place
    return found


async def union_count(
    conn: AsyncConnection, since: dt.datetime, until: dt.datetime, terms: Sequence[str], counts: Mapping[str, int]
) -> int:
    """How many stored texts of [since, until) hold at least one of `terms`, exactly: the first term's count
    (`counts`, summed from the roll-ups), then for each further term its texts holding none of the terms
    before it (through `ix_text_terms_term_at` and the primary key: the cost follows those terms' texts)."""
    total = counts.get(terms[0], 0) if terms else 0
    for n in range(1, len(terms)):
        other = text_terms.alias("earlier")
        held_before = (
            select(other.c.term)
            .where(
                other.c.source == text_terms.c.source,
                other.c.source_id == text_terms.c.source_id,
                other.c.term.in_(list(terms[:n])),
            )
            .exists()
        )
        query = (
            select(func.count())
            .select_from(text_terms)
            .where(text_terms.c.term == terms[n], text_terms.c.at >= since, text_terms.c.at < until, ~held_before)
        )
        total += int((await conn.execute(query)).scalar_one())
    return total


async def quoted_texts(conn: AsyncConnection, keys: Iterable[TextKey]) -> dict[TextKey, QuotedText]:
    """The texts (with time and area) of wishes and tips by key, erased ones left out; by primary key."""
    wanted = list(dict.fromkeys(keys))
    found: dict[TextKey, QuotedText] = {}
    for source in (WISH, TIP):
        table = _TABLES[source]
        ids = [source_id for kind, source_id in wanted if kind == source]
        area = wishes.c.area if source == WISH else None
        for start in range(0, len(ids), 500):
            query = select(table.c.id, table.c.created_at, table.c.description, *([area] if area is not None else []))
            query = query.where(table.c.id.in_(ids[start : start + 500]), table.c.description != ERASED_TEXT)
            for row in (await conn.execute(query)).all():
                place = None if area is None or row[3] is None else str(row[3])
                found[(source, int(row[0]))] = QuotedText(_aware(row[1]), str(row[2]), place)
    return found
