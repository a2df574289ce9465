"""Counting a period from the daily roll-ups (migration 0016): whole UTC days from the roll-up tables, the
partial days at either end from the rows themselves (through their timestamp index), so a query reads at most
two days of rows whatever the size of the tables.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, and_, func, select, true, union_all
from sqlalchemy.ext.asyncio import AsyncConnection

DAY = dt.timedelta(days=1)


def day_of(at: dt.datetime) -> str:
    """The roll-up key of the UTC day holding `at`."""
    return at.astimezone(dt.UTC).strftime("%Y-%m-%d")


def week_of(at: dt.datetime) -> str:
    """The weekly roll-up key (`term_weeks`) of the UTC week holding `at`: its Monday, 'YYYY-MM-DD'."""
    day = at.astimezone(dt.UTC).date()
    return (day - dt.timedelta(days=day.weekday())).isoformat()


def _midnight(at: dt.datetime) -> dt.datetime:
    return at.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)


@dataclass(frozen=True, slots=True)
class Split:
    """[since, until) as whole days [first_day, end_day) (None: unbounded; `whole` False: no whole day) and
    the timestamp ranges [start, end) of the partial days."""

    whole: bool
    first_day: str | None
    end_day: str | None
    partial: tuple[tuple[dt.datetime | None, dt.datetime | None], ...]


def split(since: dt.datetime | None, until: dt.datetime | None) -> Split:
    """Cut [since, until) (None: unbounded) into whole UTC days and the partial days around them."""
    first = None if since is None else (since if since == _midnight(since) else _midnight(since) + DAY)
    end = None if until is None else _midnight(until)
    if first is not None and end is not None and first >= end:
        return Split(
            False, None, None, ((since, until),) if since is not None and until is not None and since < until else ()
        )
    partial: list[tuple[dt.datetime | None, dt.datetime | None]] = []
    if since is not None and first is not None and since < first:
        partial.append((since, first))
    if until is not None and end is not None and end < until:
        partial.append((end, until))
    return Split(True, None if first is None else day_of(first), None if end is None else day_of(end), tuple(partial))


def between(column: Any, start: dt.datetime | str | None, end: dt.datetime | str | None) -> Any:
    """`start <= column < end` (either bound may be None: open)."""
    condition: Any = true()
    if start is not None:
        condition = and_(condition, column >= start)
    if end is not None:
        condition = and_(condition, column < end)
    return condition


async def counts(
    conn: AsyncConnection,
    since: dt.datetime | None,
    until: dt.datetime | None,
    *,
    rollup: Table,
    key: str,
    rows: Callable[[dt.datetime | None, dt.datetime | None], Any],
) -> Counter[str]:
    """Per value of the roll-up's `key` column, how many rows fall in [since, until): whole days summed from
    `rollup`, partial days counted by `rows(start, end)` (a SELECT of (key, count) grouped by key)."""
    parts = split(since, until)
    found: Counter[str] = Counter()
    if parts.whole:
        query = (
            select(rollup.c[key], func.sum(rollup.c.n))
            .where(between(rollup.c.day, parts.first_day, parts.end_day))
            .group_by(rollup.c[key])
        )
        found.update({str(k): int(n) for k, n in await conn.execute(query)})
    for start, end in parts.partial:
        found.update({"" if k is None else str(k): int(n) for k, n in await conn.execute(rows(start, end))})
    return +found


async def counts_by_week(
    conn: AsyncConnection,
    since: dt.datetime,
    until: dt.datetime,
    *,
    weekly: Table,
    daily: Table,
    key: str,
    rows: Callable[[dt.datetime | None, dt.datetime | None], Any],
    now: dt.datetime | None = None,
) -> Counter[str]:
    """`counts` for a long period: its whole UTC weeks (Monday to Monday) summed from `weekly` (keyed by `week`),
    the whole days around them from `daily`, in one statement: a period of D days reads at most D/7 + 12 rows
    per key from the roll-ups, not D. A partial day is counted from its rows or, when the rest of its day is
    shorter, as the day's roll-up less the rows of the rest (`_partial_day`), so at most half a day of rows is
    read at either end; the hours after `now` count as empty (nothing is written in the future), so a period
    ending now reads today's few rows after now, not today's."""
    parts = split(since, until)
    pieces: list[Any] = []
    if parts.whole and parts.first_day is not None and parts.end_day is not None:
        first_day, end_day = dt.date.fromisoformat(parts.first_day), dt.date.fromisoformat(parts.end_day)
        monday = first_day + dt.timedelta(days=-first_day.weekday() % 7)  # the first Monday on or after it
        last_monday = end_day - dt.timedelta(days=end_day.weekday())
        days: list[tuple[str, str]] = [(parts.first_day, parts.end_day)]
        if monday < last_monday:
            pieces.append(
                select(weekly.c[key].label("k"), weekly.c.n.label("n")).where(
                    between(weekly.c.week, monday.isoformat(), last_monday.isoformat())
                )
            )
            days = [(parts.first_day, monday.isoformat()), (last_monday.isoformat(), parts.end_day)]
        for first, stop in days:
            if first < stop:
                pieces.append(
                    select(daily.c[key].label("k"), daily.c.n.label("n")).where(between(daily.c.day, first, stop))
                )
    elif parts.whole:
        return await counts(conn, since, until, rollup=daily, key=key, rows=rows)
    for start, end in parts.partial:
        pieces += _partial_day(start, end, daily=daily, key=key, rows=rows, now=now)
    if not pieces:
        return Counter()
    summed = union_all(*pieces).subquery()
    query = select(summed.c[0], func.sum(summed.c[1])).group_by(summed.c[0])
    found: Counter[str] = Counter()
    found.update({"" if k is None else str(k): int(n) for k, n in await conn.execute(query)})
    return +found


def _partial_day(
    start: dt.datetime | None,
    end: dt.datetime | None,
    *,
    daily: Table,
    key: str,
    rows: Callable[[dt.datetime | None, dt.datetime | None], Any],
    now: dt.datetime | None,
) -> list[Any]:
    """SELECTs of (key, n) that sum to the counts of [start, end): its rows, or, when [start, end) lies within
    one UTC day whose rest is shorter (the hours after `now` not counted), the day's roll-up with the rows of the
    rest subtracted."""
    direct = [rows(start, end).subquery().select()]
    if start is None or end is None or _midnight(start) != _midnight(end - dt.timedelta(microseconds=1)):
        return direct
    midnight = _midnight(start)
    rest = [(midnight, start), (end, midnight + DAY)]
    rest = [(a, b) for a, b in rest if a < b]

    def hours(a: dt.datetime, b: dt.datetime) -> float:
        b = min(b, max(now, a)) if now is not None else b
        return (b - a).total_seconds()

    if sum(hours(a, b) for a, b in rest) >= hours(start, end):
        return direct
    pieces: list[Any] = [select(daily.c[key].label("k"), daily.c.n.label("n")).where(daily.c.day == day_of(midnight))]
    for a, b in rest:
        less = rows(a, b).subquery()
        pieces.append(select(less.c[0], -less.c[1]))
    return pieces
